"""`stance compare MODEL_A MODEL_B DATA...`: is the new model better, on the same sentences, and how sure is that?

Both models score the same labelled sentences. Per head and corpus it reports each model's headline
figures and the difference B - A with a 95% bootstrap interval: groups (articles, or sentences where
each is its own group) are resampled with replacement, both models are re-scored on every resample
(from each group's counts, summed: every figure is a micro sum or a confusion matrix), so the interval
is of the *paired* difference. Then the sentences where the two disagree most.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bootstrap import interval
from .evaluation import flag_threshold
from .examples import Example, encode_examples
from .heads import HEADS
from .inference import predict
from .metrics import _f1 as f1_counts


@dataclass
class Scored:
    """One model's predictions on a list of examples (in the same order for both models)."""

    model: object
    encoded: list
    outputs: dict[str, list]  # head name -> per-sentence output

    def headline(self, head_name: str, rows: list[int]) -> dict[str, float]:
        head = HEADS[head_name]
        metrics = head.metrics(
            [self.encoded[i] for i in rows], [self.outputs[head_name][i] for i in rows], thresholds(self.model)
        )
        return {k: v for k, v in head.headline(metrics).items() if not k.endswith("_ece")}


def thresholds(model) -> dict[str, float]:
    """Where each model decides: its own loaded-term threshold and framing flag threshold."""
    return {"loaded_threshold": float(model.loaded_threshold), "framing_threshold": flag_threshold(model)}


def score_with(model, tokenizer, examples: list[Example], max_length: int, device=None) -> Scored:
    encoded = encode_examples(tokenizer, examples, max_length, model.head_specs)
    preds = predict(model, encoded, tokenizer.pad_token_id, 64, device)
    return Scored(model, encoded, {h.name: [p.outputs[h.name] for p in preds] for h in model.head_specs})


def _groups(examples: list[Example]) -> list[list[int]]:
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        by_group[ex.group].append(i)
    return list(by_group.values())


def _parts(metrics: dict) -> dict | None:
    """A head's metrics on some sentences as additive counts (every reported F1 is a micro sum over
    sentences, or a confusion matrix), so a resample's figure is its groups' counts summed."""
    if not metrics.get("n"):
        return None
    if "confusion_matrix" in metrics:
        return {"n": metrics["n"], "cm": np.asarray(metrics["confusion_matrix"]["rows_gold_cols_pred"], dtype=float)}
    counts = {"n": metrics["n"]}
    for key, m in (
        ("word", metrics["word"]),
        ("overlap", metrics["span"]["overlap"]),
        ("exact", metrics["span"]["exact"]),
    ):
        # tp among predictions and among gold (they differ for overlap matching), and both totals.
        counts[key] = np.array(
            [round(m["precision"] * m["n_pred"]), m["n_pred"], round(m["recall"] * m["n_gold"]), m["n_gold"]],
            dtype=float,
        )
    return counts


def _headline_of(head, parts: dict) -> dict[str, float]:
    """The head's headline figures from summed counts (macro-F1 as sklearn computes it, zero_division=0)."""
    if "cm" in parts:
        cm = parts["cm"]
        tp = np.diag(cm)
        f1 = [f1_counts(tp[i], cm[:, i].sum(), tp[i], cm[i].sum())["f1"] for i in range(len(tp))]
        metrics = {"n": parts["n"], "macro_f1": float(np.mean(f1)), "ece": float("nan")}
    else:
        metrics = {
            "n": parts["n"],
            "word": f1_counts(*parts["word"]),
            "span": {"overlap": f1_counts(*parts["overlap"]), "exact": f1_counts(*parts["exact"])},
        }
    return {k: v for k, v in head.headline(metrics).items() if not k.endswith("_ece")}


def bootstrap_deltas(
    a: Scored, b: Scored, examples: list[Example], head_name: str, resamples: int, seed: int
) -> dict[str, dict[str, float]]:
    """Per headline metric of `head_name`: A, B, B - A and its 95% percentile interval over
    `resamples` group-bootstrap resamples. Each group is scored once; a resample sums its groups' counts."""
    head = HEADS[head_name]
    rows = list(range(len(examples)))
    base_a, base_b = a.headline(head_name, rows), b.headline(head_name, rows)
    per_group = []
    for g in _groups(examples):
        pa = _parts(head.metrics([a.encoded[i] for i in g], [a.outputs[head_name][i] for i in g], thresholds(a.model)))
        pb = _parts(head.metrics([b.encoded[i] for i in g], [b.outputs[head_name][i] for i in g], thresholds(b.model)))
        if pa is not None and pb is not None:
            per_group.append((pa, pb))
    rng = random.Random(seed)
    draws: dict[str, list[float]] = defaultdict(list)
    for _ in range(resamples if per_group else 0):
        sample = rng.choices(per_group, k=len(per_group))
        sums = [{k: sum(p[side][k] for p in sample) for k in sample[0][side]} for side in (0, 1)]
        ra, rb = _headline_of(head, sums[0]), _headline_of(head, sums[1])
        for key in base_a:
            if key in ra and key in rb:
                draws[key].append(rb[key] - ra[key])
    out = {}
    for key in base_a:
        if key not in base_b:
            continue
        low, high = interval(draws[key])
        out[key] = {"a": base_a[key], "b": base_b[key], "delta": base_b[key] - base_a[key], "low": low, "high": high}
    return out


def disagreements(a: Scored, b: Scored, examples: list[Example], top: int) -> list[dict]:
    """The sentences whose framing scores (else stance probabilities) differ most between the models."""
    rows = []
    for i, ex in enumerate(examples):
        gap, detail = 0.0, {}
        if "framing" in a.outputs and "framing" in b.outputs:
            sa, sb = a.outputs["framing"][i][1], b.outputs["framing"][i][1]
            gap, detail = abs(sb - sa), {"framing_a": round(sa, 4), "framing_b": round(sb, 4)}
        elif "stance" in a.outputs and "stance" in b.outputs:
            for pa, pb in zip(a.outputs["stance"][i], b.outputs["stance"][i]):
                gap = max(gap, max(abs(x - y) for x, y in zip(pa, pb)))
        rows.append({"text": ex.text, "gold_framing": ex.framing, "gap": round(gap, 4)} | detail)
    return sorted(rows, key=lambda r: -r["gap"])[:top]


def compare_models(
    model_a: Path,
    model_b: Path,
    data: list[str],
    data_root: Path,
    split: str = "all",
    columns: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    resamples: int = 1000,
    top: int = 10,
    seed: int = 13,
) -> dict:
    """Both models on each DATA spec; `@train` / `@validation` / `@test` are the split of whichever model
    was trained on that dataset (A first), so `babe:babe@validation` is the reference's own validation."""
    from .errors import DataError
    from .evaluation import load_eval_examples
    from .modeling import load_model

    def examples_of(spec: str) -> list[Example]:
        try:
            return load_eval_examples(spec, data_root, split, a_config, columns=columns, labels=labels)
        except DataError:
            return load_eval_examples(spec, data_root, split, b_config, columns=columns, labels=labels)

    a_model, a_tok, a_config = load_model(model_a)
    b_model, b_tok, b_config = load_model(model_b)
    report: dict = {"model_a": str(model_a), "model_b": str(model_b), "resamples": resamples, "data": {}}
    for spec in data:
        examples = examples_of(spec)
        a = score_with(a_model, a_tok, examples, int(a_config["max_length"]))
        b = score_with(b_model, b_tok, examples, int(b_config["max_length"]))
        shared = [h.name for h in a_model.head_specs if h.name in b.outputs]
        labelled = [n for n in shared if any(n in e.labels for e in a.encoded)]
        report["data"][spec] = {
            "sentences": len(examples),
            "heads": {n: bootstrap_deltas(a, b, examples, n, resamples, seed) for n in labelled},
            "only_in_a": [h.name for h in a_model.head_specs if h.name not in b.outputs],
            "only_in_b": [h.name for h in b_model.head_specs if h.name not in a.outputs],
            "disagreements": disagreements(a, b, examples, top),
        }
    return report


def render(report: dict) -> str:
    lines = [f"A = {report['model_a']}", f"B = {report['model_b']}"]
    for spec, part in report["data"].items():
        lines.append(f"\n{spec} ({part['sentences']} sentences; 95% intervals from {report['resamples']} resamples)")
        lines.append(f"  {'metric':34s} {'A':>7s} {'B':>7s} {'B - A':>8s}  95% interval")
        for metrics in part["heads"].values():
            for key, m in metrics.items():
                verdict = "B better" if m["low"] > 0 else "A better" if m["high"] < 0 else "no clear difference"
                lines.append(
                    f"  {key:34s} {m['a']:7.4f} {m['b']:7.4f} {m['delta']:+8.4f}  "
                    f"[{m['low']:+.4f}, {m['high']:+.4f}]  {verdict}"
                )
        for side in ("only_in_a", "only_in_b"):
            if part[side]:
                lines.append(f"  heads {side.replace('_', ' ')}: {', '.join(part[side])} (not compared)")
        if part["disagreements"]:
            lines.append("  where they disagree most:")
            for row in part["disagreements"]:
                scores = (
                    f"framing A {row['framing_a']:.2f} B {row['framing_b']:.2f}"
                    if "framing_a" in row
                    else f"gap {row['gap']:.2f}"
                )
                gold = "" if row["gold_framing"] is None else f" gold {row['gold_framing']:.0f}"
                text = row["text"] if len(row["text"]) <= 100 else row["text"][:97] + "..."
                lines.append(f"    {scores}{gold}  {text}")
    return "\n".join(lines)
