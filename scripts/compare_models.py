"""Headline figures of several models on one recipe's validation split, scored with today's code.

    STANCE_DATA=../shared/data python scripts/compare_models.py models/default runs/default-babe4/model

Each model's metrics.json holds figures from the code of its day (measures change: 0.5.0 counts
the words of decoded spans, 0.7.0 trims conjunctions), so two cards are not comparable; this scores
every model the same way, in torch float32, with the threshold and temperature each model ships.
Both models chose their checkpoint on this split, so both figures are optimistic; their difference
is the less biased part, and it is still one split, not a cross-validated delta.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.config import load_config
from stance.data import load_splits
from stance.evaluation import validate
from stance.modeling import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+", help="model directories; the first is the reference")
    parser.add_argument("--config", type=Path, default=Path("configs/default.yaml"), help="recipe whose split")
    args = parser.parse_args()
    config = load_config(args.config)
    validation = load_splits(config).validation
    figures = {}
    for path in args.models:
        model, tokenizer, _ = load_model(path)
        _, figures[path], _ = validate(model, tokenizer, validation, config.model.max_length, tune_threshold=False)
    reference = figures[args.models[0]]
    names = [str(p) for p in args.models]
    print(f"{len(validation)} validation sentences of {args.config}")
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in sorted(k for k in reference if not k.endswith("_ece")):
        cells = [f"{reference[key]:.4f}"] + [f"{figures[p][key] - reference[key]:+.4f}" for p in args.models[1:]]
        print(f"| {key} | " + " | ".join(cells) + " |")
    print(json.dumps({str(p): f for p, f in figures.items()}))


if __name__ == "__main__":
    main()
