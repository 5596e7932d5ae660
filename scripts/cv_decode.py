"""Cross-validated comparison of loaded-term decoders on the fold models of a `stance cv` run.

Decoding choices need no retraining, so they are compared on the models each fold already trained:
for every fold, each decoder's settings (the P(loaded) threshold, and the hysteresis `extend` level
of whole-phrase decoding) are chosen on the fold's inner validation split, and the held-out fold is
scored once with the chosen settings. Prints mean ± sd over folds and the paired delta per metric.

    python scripts/cv_decode.py runs/cv/baseline-300
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import yaml

from stance.config import TrainConfig
from stance.data import split_corpora
from stance.evaluation import predict_by_source
from stance.heads import HEADS, words_inside
from stance.inference import decode_spans
from stance.labels import TAG_TO_ID
from stance.metrics import span_f1, word_f1
from stance.modeling import load_model

O_ID = TAG_TO_ID["O"]
THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(9)]  # 0.20 .. 0.60
DECODERS = {"plain": [None], "whole-phrase": [0.8, 0.6, 0.4, 0.25]}  # extend = ratio x threshold


def decode_all(encoded, outputs, threshold: float, ratio: float | None):
    head = HEADS["loaded_terms"]
    extend = None if ratio is None else ratio * threshold
    return [
        [
            (s.start, s.end, s.category)
            for s in decode_spans(e.word_spans, o, threshold, e.text, head.labels, head.content_words_only, extend)
        ]
        for e, o in zip(encoded, outputs)
    ]


def scores(encoded, outputs, threshold: float, ratio: float | None) -> dict[str, float]:
    """Word F1 (words inside decoded spans), overlap and exact span F1, character F1."""
    head = HEADS["loaded_terms"]
    gold_spans = [
        head.spans(e, [[1.0 if i == t else 0.0 for i in range(len(head.labels))] for t in e.labels[head.name]])
        for e in encoded
    ]
    pred_spans = decode_all(encoded, outputs, threshold, ratio)
    chars = lambda e, spans: [any(s <= c < t for s, t, _ in spans) for c in range(len(e.text))]  # noqa: E731
    gold_words = [[t != O_ID for t in e.labels[head.name]] for e in encoded]
    spans = span_f1(gold_spans, pred_spans)
    return {
        "word_f1": word_f1(gold_words, [words_inside(e, p) for e, p in zip(encoded, pred_spans)])["f1"],
        "span_f1_overlap": spans["overlap"]["f1"],
        "span_f1_exact": spans["exact"]["f1"],
        "char_f1": word_f1(
            [chars(e, g) for e, g in zip(encoded, gold_spans)], [chars(e, p) for e, p in zip(encoded, pred_spans)]
        )["f1"],
    }


def loaded_parts(model, tokenizer, examples, max_length):
    """(encoded, loaded-term outputs) per corpus source, for the sentences labelled with loaded terms."""
    out = {}
    for source, (enc, preds) in predict_by_source(model, tokenizer, examples, max_length).items():
        rows = [(e, p.outputs["loaded_terms"]) for e, p in zip(enc, preds) if "loaded_terms" in e.labels]
        if rows:
            out[source] = ([e for e, _ in rows], [o for _, o in rows])
    return out


def fold_result(fold_dir: Path) -> dict[str, dict[str, float]]:
    config = TrainConfig.model_validate(yaml.safe_load((fold_dir / "config.yaml").read_text()))
    model, tokenizer, _ = load_model(fold_dir / "model")
    corpora = split_corpora(config)
    inner = loaded_parts(model, tokenizer, [ex for c in corpora for ex in c.validation], config.model.max_length)
    outer = loaded_parts(model, tokenizer, [ex for c in corpora for ex in c.outer], config.model.max_length)
    result = {}
    for name, ratios in DECODERS.items():
        # The selection objective of training's threshold tuning: mean of word F1 and overlap span F1 over corpora.
        def objective(t, r):
            values = [scores(e, o, t, r) for e, o in inner.values()]
            return statistics.fmean(v for s in values for v in (s["word_f1"], s["span_f1_overlap"]))

        threshold, ratio = max(((t, r) for t in THRESHOLDS for r in ratios), key=lambda tr: objective(*tr))
        result[name] = {"threshold": threshold, "ratio": ratio or 0.0}
        for source, (e, o) in outer.items():
            result[name] |= {f"{source}/loaded_{k}": v for k, v in scores(e, o, threshold, ratio).items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a `stance cv` output folder")
    parser.add_argument("--json", type=Path, help="also write the per-fold figures here")
    args = parser.parse_args()
    folds = sorted(p for p in args.run.glob("fold-*") if (p / "outer.json").exists())
    if not folds:
        sys.exit(f"expected finished folds (fold-*/outer.json) in {args.run}, found none; run `stance cv` first")
    per_fold = []
    for fold in folds:
        per_fold.append(fold_result(fold))
        print(
            f"{fold.name}: "
            + json.dumps({k: {"threshold": v["threshold"], "ratio": v["ratio"]} for k, v in per_fold[-1].items()}),
            flush=True,
        )
    print(f"\n{len(folds)} folds; held-out figures, settings chosen on each fold's inner validation split")
    print(f"{'metric':34s} {'plain':>16s} {'whole-phrase':>16s} {'paired delta':>16s}")
    for key in sorted(k for k in per_fold[0]["plain"] if "/" in k):
        plain = [f["plain"][key] for f in per_fold]
        phrase = [f["whole-phrase"][key] for f in per_fold]
        delta = [b - a for a, b in zip(plain, phrase)]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(
            f"{key:34s} {statistics.fmean(plain):.4f} ± {sd(plain):.4f} {statistics.fmean(phrase):.4f} ± {sd(phrase):.4f}"
            f" {statistics.fmean(delta):+.4f} ± {sd(delta):.4f}"
        )
    if args.json:
        args.json.write_text(json.dumps(per_fold, indent=1) + "\n")


if __name__ == "__main__":
    main()
