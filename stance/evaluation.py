"""Scoring labelled examples and reporting metrics per head, per corpus."""

from __future__ import annotations

import math
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from .calibration import TEMPERATURE_RANGE, fit_flag_threshold, fit_temperature, fit_threshold
from .defaults import FLAG_THRESHOLD
from .engines import TorchEngine
from .errors import DataError
from .examples import Example, encode_examples
from .features import Encoded
from .heads import HEADS, Head
from .inference import SentencePrediction, predict
from .runtime import onnx_unavailable


def evaluate_examples(
    model, tokenizer, examples: Sequence[Example], max_length: int, batch_size: int = 64, device=None
) -> dict:
    """Metrics for every head of the model that `examples` carry labels for."""
    encoded = encode_examples(tokenizer, examples, max_length, model.head_specs)
    preds = predict(model, encoded, tokenizer.pad_token_id, batch_size, device)
    return metrics_for(encoded, preds, model.head_specs, float(model.loaded_threshold), flag_threshold(model))


def flag_threshold(model) -> float:
    """The framing flag's threshold of a model or engine: the one its records flag at."""
    return float(getattr(model, "framing_threshold", FLAG_THRESHOLD))


def metrics_for(
    encoded: Sequence[Encoded],
    preds: Sequence[SentencePrediction],
    heads: Sequence[Head],
    loaded_threshold: float,
    framing_threshold: float = FLAG_THRESHOLD,
) -> dict:
    """Per head that some sentence is labelled for: its metrics (heads.py), framing at the flag's threshold."""
    calibration = {"loaded_threshold": loaded_threshold, "framing_threshold": framing_threshold}
    return {
        head.name: head.metrics(encoded, [p.outputs[head.name] for p in preds], calibration)
        for head in heads
        if any(head.name in e.labels for e in encoded)
    }


Predictions = dict[str, tuple[list[Encoded], list[SentencePrediction]]]


def predict_by_source(
    model, tokenizer, examples: Sequence[Example], max_length: int, batch_size: int = 64
) -> Predictions:
    by_source: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_source[ex.source].append(ex)
    out = {}
    for source, exs in sorted(by_source.items()):
        encoded = encode_examples(tokenizer, exs, max_length, model.head_specs)
        out[source] = (encoded, predict(model, encoded, tokenizer.pad_token_id, batch_size))
    return out


def evaluate_by_source(model, tokenizer, examples: Sequence[Example], max_length: int, batch_size: int = 64) -> dict:
    predictions = predict_by_source(model, tokenizer, examples, max_length, batch_size)
    threshold = float(model.loaded_threshold)
    return {
        src: metrics_for(enc, preds, model.head_specs, threshold, flag_threshold(model))
        for src, (enc, preds) in predictions.items()
    }


def headline(metrics: dict, min_examples: int = 1) -> dict[str, float]:
    """The few numbers reported per corpus and head (heads with fewer examples are left out)."""
    out = {}
    for source, heads in metrics.items():
        for name, m in heads.items():
            if name in HEADS and m.get("n", 0) >= min_examples:
                out.update({f"{source}/{key}": value for key, value in HEADS[name].headline(m).items()})
    return out


# How a checkpoint is chosen from its validation figures (training.selection):
#   scores   the mean of every task score of every corpus (a head with more corpora and measures weighs
#            more: loaded terms has four of eight scores, framing one)
#   heads    the mean over heads of each head's mean score, so framing weighs as much as loaded terms
#   framing  framing macro-F1 alone (the other heads ride along; a diagnostic of what selection costs framing)
SELECTION_RULES = ("scores", "heads", "framing")


def _task_keys(head_numbers: dict[str, float]) -> list[str]:
    return [k for k in head_numbers if k.endswith(("macro_f1", "word_f1", "span_f1_overlap"))]


def _head_of(key: str) -> str:
    """The head a headline key measures, whatever the corpus: "babe/loaded_word_f1" -> "loaded"."""
    return key.split("/", 1)[-1].split("_", 1)[0]


def selection_score(head_numbers: dict[str, float], rule: str = "scores") -> float:
    """Model selection by `rule` (see SELECTION_RULES) from task scores (never ECE), so no head is
    traded away silently; 0.0 when nothing is scored."""
    keys = _task_keys(head_numbers)
    if rule == "framing":
        keys = [k for k in keys if _head_of(k) == "framing"] or keys  # no framing labels: fall back
    if rule == "heads":
        by_head: dict[str, list[float]] = {}
        for k in keys:
            by_head.setdefault(_head_of(k), []).append(head_numbers[k])
        return statistics.fmean(statistics.fmean(v) for v in by_head.values()) if by_head else 0.0
    return statistics.fmean(head_numbers[k] for k in keys) if keys else 0.0


MIN_SELECTION_EXAMPLES = 20  # a corpus with fewer validation examples only adds noise to model selection


def tune_loaded_threshold(per_source: list[tuple[list, list]]) -> float:
    """The P(loaded) threshold that maximises word F1 + overlap span F1, averaged over corpora.

    `per_source` holds (encoded, predictions) of each validation corpus with loaded-term labels;
    the predictions are computed once and only re-decoded per threshold.
    """
    head = HEADS["loaded_terms"]

    def score(threshold: float) -> float:
        values = []
        for encoded, preds in per_source:
            m = head.metrics(encoded, [p.outputs[head.name] for p in preds], {"loaded_threshold": threshold})
            if m.get("n"):
                values += [m["word"]["f1"], m["span"]["overlap"]["f1"]]
        return sum(values) / len(values) if values else 0.0

    return fit_threshold(score) if per_source else 0.5


def _with_loaded_labels(predictions: Predictions) -> list[tuple[list, list]]:
    return [p for p in predictions.values() if any("loaded_terms" in e.labels for e in p[0])]


def validate(model, tokenizer, examples, max_length: int, tune_threshold: bool = True) -> tuple[float, dict, dict]:
    """Selection score (the default rule), headline numbers and full metrics per corpus; with
    `tune_threshold`, the loaded-term threshold is tuned on these examples first (as calibration will
    at the end)."""
    predictions = predict_by_source(model, tokenizer, examples, max_length)
    threshold = (
        tune_loaded_threshold(_with_loaded_labels(predictions)) if tune_threshold else float(model.loaded_threshold)
    )
    metrics = {
        src: metrics_for(enc, preds, model.head_specs, threshold, flag_threshold(model))
        for src, (enc, preds) in predictions.items()
    }
    return selection_score(headline(metrics, MIN_SELECTION_EXAMPLES)), headline(metrics), metrics


MIN_CALIBRATION_EXAMPLES = 50  # framing-labelled validation sentences below which a temperature is noise
MIN_THRESHOLD_EXAMPLES = 20  # loaded-term-labelled validation sentences below which the threshold is kept


def calibrate(model, tokenizer, examples: list, max_length: int) -> list[str]:
    """Fit the framing temperature, then the framing flag's threshold (macro-F1), and the loaded-term
    threshold on `examples` (a validation split).
    A head without validation labels keeps what it has (an inherited head its trained values); too
    few labels give no temperature (T = 1) rather than a fitted extreme. Returns notes on what was
    not fitted, and why."""
    notes = []
    predictions = predict_by_source(model, tokenizer, examples, max_length)
    pairs = framing_pairs(predictions)
    if pairs:
        temperature = fit_temperature([x for _, x in pairs], [float(f >= 0.5) for f, _ in pairs])
        if len(pairs) < MIN_CALIBRATION_EXAMPLES or not TEMPERATURE_RANGE[0] < temperature < TEMPERATURE_RANGE[1]:
            notes.append(
                f"framing temperature not fitted: {len(pairs)} framing-labelled validation sentences "
                f"(fewer than {MIN_CALIBRATION_EXAMPLES}) or a fit at the limit (T = {temperature:.2f}); "
                "scores are the model's raw probabilities (T = 1)"
            )
            temperature = 1.0
        model.framing_temperature.fill_(temperature)
        notes += fit_framing_flag(model, pairs)
    loaded = _with_loaded_labels(predictions)
    n_loaded = sum(sum("loaded_terms" in e.labels for e in enc) for enc, _ in loaded)
    if n_loaded >= MIN_THRESHOLD_EXAMPLES:
        model.loaded_threshold.fill_(tune_loaded_threshold(loaded))
    elif n_loaded:
        notes.append(
            f"loaded-term threshold not tuned: {n_loaded} span-labelled validation sentences (fewer than "
            f"{MIN_THRESHOLD_EXAMPLES}); it stays at {float(model.loaded_threshold):.2f}"
        )
    return notes


MIN_FLAG_CLASS_EXAMPLES = 10  # validation sentences of each class below which a fitted threshold is noise


def framing_pairs(predictions: Predictions) -> list[tuple[float, float]]:
    """(framing label, framing logit) of every framing-labelled sentence."""
    return [
        (e.labels["framing"], p.framing_logit)
        for enc, preds in predictions.values()
        for e, p in zip(enc, preds)
        if "framing" in e.labels
    ]


def fit_framing_flag(model, pairs: list[tuple[float, float]]) -> list[str]:
    """Set the framing flag's threshold that maximises macro-F1 on the validation pairs (label, logit),
    on the probability calibrated by the model's temperature; 0.5 when a class has too few sentences
    to place it (returned as a note)."""
    temperature = float(model.framing_temperature)
    gold = [int(f >= 0.5) for f, _ in pairs]
    counts = (sum(gold), len(gold) - sum(gold))
    if min(counts) < MIN_FLAG_CLASS_EXAMPLES:
        model.framing_threshold = FLAG_THRESHOLD
        return [
            f"framing flag threshold not fitted: the validation split holds {counts[0]} editorial and {counts[1]} "
            f"neutral sentences (fewer than {MIN_FLAG_CLASS_EXAMPLES} of one); it stays at {FLAG_THRESHOLD}"
        ]
    probs = [0.5 + 0.5 * math.tanh(x / (2.0 * temperature)) for _, x in pairs]  # sigmoid, never overflows
    model.framing_threshold = fit_flag_threshold(probs, gold)
    return []


def torch_cpu_engines(model) -> dict[str, TorchEngine]:
    """The torch CPU scoring paths of `model`, by precision: selective int8 everywhere, bf16 autocast
    where this CPU does bf16 natively. The same Runtime as `stance --backend torch`, so what is
    measured on them is what that path costs."""
    import torch

    from .runtime import Runtime, cpu_has_bf16

    engines = {}
    for name in ("int8", "bf16") if cpu_has_bf16() else ("int8",):
        runtime = Runtime(torch.device("cpu"), name)
        engines[name] = TorchEngine(runtime.prepare(model), "cpu", runtime.autocast)
    return engines


def precision_costs(
    model, tokenizer, examples: list, max_length: int, reference: dict[str, float], model_dir: Path | None = None
) -> dict:
    """What the CPU scoring paths cost on `examples`, per headline metric: torch's selective int8,
    bf16 autocast where this CPU supports it natively, and, given the saved `model_dir`, ONNX Runtime
    int8 (what `stance score` runs by default on a CPU), exported exactly as scoring exports it."""
    variants = {f"{name}_cost": engine for name, engine in torch_cpu_engines(model).items()}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        if model_dir is not None and onnx_unavailable("cpu", "int8", None) is None:
            from .engines import OnnxEngine
            from .model_files import read_model_config
            from .onnx_export import export_onnx

            path = export_onnx(model_dir, Path(tmp) / "int8.onnx", "int8")
            variants["onnx_int8_cost"] = OnnxEngine(path, read_model_config(model_dir))
        for key, engine in variants.items():
            _, numbers, _ = validate(engine, tokenizer, examples, max_length, tune_threshold=False)
            out[key] = {"headline": numbers, "delta": {k: numbers[k] - reference[k] for k in reference if k in numbers}}
    return out


def parse_data_spec(spec: str) -> tuple[str, str, str | None]:
    """`ADAPTER:PATH[@SPLIT]`, e.g. `babe:babe@validation` or `table:mine.csv`."""
    adapter, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise DataError(f"expected ADAPTER:PATH[@SPLIT] such as babe:babe@validation or table:my.csv, found {spec!r}")
    path, _, split = rest.partition("@")
    if split and split not in ("all", "train", "validation", "test"):
        raise DataError(f"expected the split after @ to be all, train, validation or test, found {split!r}")
    return adapter, path, split or None


def parse_label_map(options: list[str]) -> dict[str, str]:
    """`--labels SUBJ=editorial,OBJ=neutral` (repeatable): what a file's label names mean."""
    from .tabular import parse_pairs

    return parse_pairs(options, "--labels", "NAME=MEANING", "SUBJ=editorial,OBJ=neutral")


def load_eval_examples(
    spec: str,
    root: Path,
    default_split: str,
    model_config: dict,
    columns: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
) -> list[Example]:
    """Examples of one data spec. `@train`, `@validation` and `@test` are the model's own splits, made by
    the same function that training used (`data.split_corpora`); `@all` (or no split) is the whole file.
    `columns` maps fields to the columns of a `table:` file, `labels` label names to their meaning
    (doccano, label-studio, table); a file the model was trained on gets its training config's."""
    from .config import DatasetConfig
    from .data import load_dataset_examples, model_split

    adapter, path, split = parse_data_spec(spec)
    split = split or default_split
    if split == "all":
        recorded = next(
            (
                d
                for d in (model_config.get("training") or {}).get("datasets") or []
                if d.get("adapter") == adapter and d.get("path") == path
            ),
            {},
        )
        dataset = DatasetConfig.model_validate(
            {k: v for k, v in recorded.items() if k in ("columns", "labels", "framing_positive", "framing_negative")}
            | {"adapter": adapter, "path": path}
            | ({"columns": columns} if columns else {})
            | ({"labels": labels} if labels else {})
        )
        return load_dataset_examples(dataset, root)
    return model_split(model_config, root, adapter, path, split)
