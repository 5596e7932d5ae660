"""Grouped, stratified k-fold cross-validation of a training recipe: figures that predict unseen data.

Each fold is an ordinary training run (training.py) whose config holds out fold `i` of every `auto`
corpus (`data.folds`, `data.fold`; see data.split_corpora). Early stopping, the checkpoint, the
loaded-term threshold and the framing temperature are all chosen on the validation split carved from
the fold's *training* part; the held-out fold is scored once, by the finished model. Layout:

    OUT/fold-0/            a training run (resumable: checkpoint/, model/, train_log.jsonl)
    OUT/fold-0/outer.json  that fold's held-out scores; a fold with this file is done and is skipped
    OUT/cv.json            mean, sample sd and per-fold values of every headline metric
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import yaml

from .config import TrainConfig, config_differences
from .errors import ConfigError

OUTER_NAME = "outer.json"
SUMMARY_NAME = "cv.json"


def fold_config(config: TrainConfig, folds: int, fold: int, max_steps: int | None = None) -> TrainConfig:
    """The recipe `config`, holding out fold `fold` of `folds`; `max_steps` caps training (screening)."""
    raw = config.model_dump()
    raw["data"] |= {"folds": folds, "fold": fold}
    if max_steps is not None:
        raw["training"]["max_steps"] = max_steps
    return TrainConfig.model_validate(raw)


def _check_same_recipe(run: Path, config: TrainConfig) -> None:
    """A fold folder left by an earlier call must hold the same recipe: mixing two recipes' folds
    would report a figure neither has."""
    saved = run / "config.yaml"
    changed = config_differences(yaml.safe_load(saved.read_text(encoding="utf-8")), config) if saved.exists() else []
    if changed:
        raise ConfigError(
            f"expected {run} to hold a fold of this recipe, found a run with another config in {saved} "
            f"({'; '.join(changed[:4])}); use a new output folder for a new recipe (or delete that fold to redo it)"
        )


def score_held_out(model_dir: Path, config: TrainConfig) -> dict[str, float]:
    """Headline metrics of the fold's finished model on its held-out fold, per corpus, and on each
    test-only corpus (never trained on in any fold)."""
    from .data import split_corpora
    from .evaluation import evaluate_examples, headline
    from .modeling import load_model

    model, tokenizer, _ = load_model(model_dir)
    numbers: dict[str, float] = {}
    for corpus in split_corpora(config):
        examples = corpus.outer or corpus.test
        if examples:
            metrics = evaluate_examples(model, tokenizer, examples, config.model.max_length)
            numbers |= headline({corpus.name: metrics})
    return numbers


def run_fold(config: TrainConfig, out: Path, device: str = "auto") -> dict:
    """Train (or resume) one fold and score its held-out part; a finished fold is read back."""
    from .training import DIR_MODEL, also_rules, train
    from .training import model_dir as rule_model_dir

    done = out / OUTER_NAME
    if done.exists():
        return json.loads(done.read_text(encoding="utf-8"))
    _check_same_recipe(out, config)
    started = time.time()
    model_dir = train(config, out, resume=True, device=device, report=False)
    result = {
        "fold": config.data.fold,
        "folds": config.data.folds,
        "seconds": round(time.time() - started, 1),
        "held_out": score_held_out(model_dir, config),
        "selection": json.loads((out / DIR_MODEL / "metrics.json").read_text(encoding="utf-8"))["validation"][
            "headline"
        ],
    }
    # Each extra selection rule's model, from the same training run, scored on the same held-out fold:
    # a paired comparison of how the checkpoint is chosen (every rule is decided on the inner split).
    also = {
        rule: score_held_out(out / rule_model_dir(rule, config.training), config)
        for rule in also_rules(config.training)
    }
    if also:
        result["held_out_by_selection"] = also
    out.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def by_selection(result: dict) -> dict[str, float]:
    """A fold's also_select scores as metrics named "selection=RULE:corpus/measure"."""
    return {
        f"selection={rule}:{key}": value
        for rule, numbers in result.get("held_out_by_selection", {}).items()
        for key, value in numbers.items()
    }


def summarize(results: list[dict]) -> dict[str, dict]:
    """Per metric: mean and sample standard deviation over folds, the fold values in fold order and
    the folds they belong to (also_select models' metrics under "selection=RULE:...")."""
    results = [r | {"held_out": r["held_out"] | by_selection(r)} for r in results]
    keys = sorted({k for r in results for k in r["held_out"]})
    out = {}
    for key in keys:
        scored = [r for r in results if key in r["held_out"]]
        values = [r["held_out"][key] for r in scored]
        out[key] = {
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "folds": values,
            "fold_ids": [r["fold"] for r in scored],
        }
    return out


def cross_validate(
    config: TrainConfig,
    out: Path,
    folds: int = 5,
    max_steps: int | None = None,
    only: list[int] | None = None,
    device: str = "auto",
    on_fold=None,
) -> dict:
    """Run the folds in `only` (default: all) and summarise every finished fold found in `out`.
    `on_fold(result)` is told after each fold."""
    if folds < 2:
        raise ConfigError(f"expected --folds of at least 2, found {folds}")
    bad = [i for i in only or [] if not 0 <= i < folds]
    if bad:
        raise ConfigError(f"expected fold numbers from 0 to {folds - 1}, found {bad}")
    out.mkdir(parents=True, exist_ok=True)
    for fold in only if only is not None else range(folds):
        result = run_fold(fold_config(config, folds, fold, max_steps), out / f"fold-{fold}", device)
        if on_fold is not None:
            on_fold(result)
    results = [
        json.loads((out / f"fold-{i}" / OUTER_NAME).read_text(encoding="utf-8"))
        for i in range(folds)
        if (out / f"fold-{i}" / OUTER_NAME).exists()
    ]
    summary = {
        "folds": folds,
        "finished_folds": [r["fold"] for r in results],
        "max_steps": max_steps,
        "recipe": config.model_dump(),
        "seconds": sum(r["seconds"] for r in results),
        "metrics": summarize(results),
    }
    (out / SUMMARY_NAME).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def attach_to_model(model_dir: Path, summary: dict, command: str) -> None:
    """Put a recipe's cross-validated figures into a model trained with that recipe: metrics.json's
    `cross_validation` and the model card's section. Refuses a model trained on other datasets."""
    from .model_card import CV_HEADING, cv_section

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    trained_on = [(d["adapter"], d["path"], d.get("split")) for d in config.get("training", {}).get("datasets", [])]
    recipe_on = [(d["adapter"], d["path"], d["split"]) for d in summary["recipe"]["data"]["datasets"]]
    if trained_on != recipe_on:
        raise ConfigError(
            f"expected {model_dir} to be trained on the cross-validated recipe's datasets {recipe_on}, "
            f"found {trained_on}; attach the figures of the recipe the model was trained with"
        )
    summary = summary | {"command": command}
    metrics_path = model_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["cross_validation"] = summary
    metrics_path.write_text(json.dumps(metrics, indent=2, default=float) + "\n", encoding="utf-8")
    card_path = model_dir / "README.md"
    card = _without_section(card_path.read_text(encoding="utf-8"), CV_HEADING)
    anchor = card.find("\n## Size and precision")  # the section sits after the validation figures
    section = cv_section(summary)
    card_path.write_text(card[:anchor] + section + card[anchor:] if anchor >= 0 else card + section, encoding="utf-8")


def _without_section(card: str, heading: str) -> str:
    start = card.find("\n" + heading)
    if start < 0:
        return card
    end = card.find("\n## ", start + len(heading) + 1)
    return card[:start] + (card[end:] if end >= 0 else "\n")


def paired_delta(summary: dict, baseline: dict, key: str) -> tuple[float, float] | None:
    """Mean and sd over folds of (this recipe - baseline) on metric `key`, over the folds both finished:
    the folds are the same sentences, so the paired difference is far less noisy than two means."""

    def by_fold(s: dict) -> dict[int, float]:
        m = s["metrics"].get(key, {})
        return dict(zip(m.get("fold_ids", s["finished_folds"]), m.get("folds", [])))

    ours, theirs = by_fold(summary), by_fold(baseline)
    diffs = [ours[f] - theirs[f] for f in ours if f in theirs]
    if not diffs:
        return None
    return statistics.fmean(diffs), statistics.stdev(diffs) if len(diffs) > 1 else 0.0


def render(summary: dict, baseline: dict | None = None) -> str:
    """The summary as a text table; with `baseline` (another recipe's cv.json on the same folds), the
    paired difference per metric."""
    n = len(summary["finished_folds"])
    head = f"{n} of {summary['folds']} folds" + (f", max_steps {summary['max_steps']}" if summary["max_steps"] else "")
    lines = [f"cross-validation: {head}; held-out folds, mean ± sd" + (", Δ vs baseline ± sd" if baseline else "")]
    for key, m in summary["metrics"].items():
        line = f"  {key:44s} {m['mean']:.4f} ± {m['sd']:.4f}"
        delta = paired_delta(summary, baseline, key) if baseline else None
        if delta is not None:
            line += f"   Δ {delta[0]:+.4f} ± {delta[1]:.4f}"
        lines.append(line)
    return "\n".join(lines)
