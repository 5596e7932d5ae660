"""Re-measure what int8 scoring costs a trained model on its own validation split, and record it.

    python scripts/int8_cost.py models/default [--config configs/default.yaml] [--write]

Prints the float32 and int8 headline metrics and their difference; with --write, stores them as
`int8_cost` in the model's metrics.json (the same figures `stance train` records at the end).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.config import load_config
from stance.data import load_splits
from stance.modeling import load_model
from stance.training import int8_cost, validate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--config", type=Path, default=Path("configs/default.yaml"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    config = load_config(args.config)
    validation = load_splits(config).validation
    model, tokenizer, _ = load_model(args.model)
    _, reference, _ = validate(model, tokenizer, validation, config, tune_threshold=False)
    cost = int8_cost(model, tokenizer, validation, config, reference)
    print(json.dumps({"float32": reference, **cost}, indent=2))
    if args.write:
        path = args.model / "metrics.json"
        metrics = json.loads(path.read_text(encoding="utf-8"))
        metrics["int8_cost"] = cost
        path.write_text(json.dumps(metrics, indent=2, default=float) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
