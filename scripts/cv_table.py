"""A markdown table of recipes' cross-validated figures, each as a paired delta against a baseline.

    python scripts/cv_table.py runs/cv/baseline-300/cv.json runs/cv/marks-300/cv.json ...

The first cv.json is the baseline: its row gives mean ± sd over folds; every other row gives
(recipe - baseline) per metric, mean ± sd over the folds both finished (the same sentences).

`CV_JSON@RULE` stands for the models a run chose by another selection rule (training.also_select),
so one recipe's checkpoint choices compare on the same training runs:

    python scripts/cv_table.py reports/cv/babe4-full/cv.json reports/cv/babe4-full/cv.json@heads
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.crossval import paired_delta

METRICS = [
    "babe/framing_macro_f1",
    "babe/loaded_word_f1",
    "ptc/loaded_span_f1_overlap",
    "ptc/loaded_word_f1",
    "newsmtsc/stance_macro_f1",
    "newsmtsc:devtest_mt/stance_macro_f1",
    "polnear/attribution_word_f1",
]


def read_summary(spec: str) -> tuple[str, dict]:
    """(row name, cv.json summary) of `path` or `path@rule` (that rule's models, on the folds that kept them)."""
    path, _, rule = spec.partition("@")
    summary = json.loads(Path(path).read_text())
    name = Path(path).parent.name
    if not rule:
        return name, summary
    prefix = f"selection={rule}:"
    metrics = {k[len(prefix) :]: v for k, v in summary["metrics"].items() if k.startswith(prefix)}
    if not metrics:
        raise SystemExit(f"expected metrics named {prefix}... in {path} (training.also_select: [{rule}]), found none")
    folds = sorted({f for v in metrics.values() for f in v["fold_ids"]})
    return f"{name}, selection: {rule}", {"finished_folds": folds, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", help="cv.json (or cv.json@RULE)")
    parser.add_argument("recipes", nargs="*", help="cv.json or cv.json@RULE")
    parser.add_argument("--metric", action="append", help="metrics to show (default: the headline ones)")
    args = parser.parse_args()
    metrics = args.metric or METRICS
    base_name, base = read_summary(args.baseline)
    print("| recipe | folds | " + " | ".join(metrics) + " |")
    print("|---|---|" + "---|" * len(metrics))
    cells = [
        f"{base['metrics'][m]['mean']:.3f} ± {base['metrics'][m]['sd']:.3f}" if m in base["metrics"] else "—"
        for m in metrics
    ]
    print(f"| {base_name} | {len(base['finished_folds'])} | " + " | ".join(cells) + " |")
    for spec in args.recipes:
        name, recipe = read_summary(spec)
        shared = sorted(set(recipe["finished_folds"]) & set(base["finished_folds"]))
        cells = []
        for m in metrics:
            delta = paired_delta(recipe, base, m)
            cells.append("—" if delta is None else f"{delta[0]:+.3f} ± {delta[1]:.3f}")
        print(f"| {name} | {len(shared)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
