"""A markdown table of recipes' cross-validated figures, each as a paired delta against a baseline.

    python scripts/cv_table.py runs/cv/baseline-300/cv.json runs/cv/marks-300/cv.json ...

The first cv.json is the baseline: its row gives mean ± sd over folds; every other row gives
(recipe - baseline) per metric, mean ± sd over the folds both finished (the same sentences).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", type=Path)
    parser.add_argument("recipes", type=Path, nargs="*")
    parser.add_argument("--metric", action="append", help="metrics to show (default: the headline ones)")
    args = parser.parse_args()
    metrics = args.metric or METRICS
    base = json.loads(args.baseline.read_text())
    print("| recipe | folds | " + " | ".join(metrics) + " |")
    print("|---|---|" + "---|" * len(metrics))
    cells = [
        f"{base['metrics'][m]['mean']:.3f} ± {base['metrics'][m]['sd']:.3f}" if m in base["metrics"] else "—"
        for m in metrics
    ]
    print(f"| {args.baseline.parent.name} | {len(base['finished_folds'])} | " + " | ".join(cells) + " |")
    for path in args.recipes:
        recipe = json.loads(path.read_text())
        shared = sorted(set(recipe["finished_folds"]) & set(base["finished_folds"]))
        cells = []
        for m in metrics:
            delta = paired_delta(recipe, base, m)
            cells.append("—" if delta is None else f"{delta[0]:+.3f} ± {delta[1]:.3f}")
        print(f"| {path.parent.name} | {len(shared)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
