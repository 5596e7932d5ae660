"""Re-measure what the CPU scoring paths (ONNX int8, torch int8, bf16) cost a trained model on its own validation split.

    python scripts/precision_cost.py models/default [--config configs/default.yaml] [--write]

Prints the float32 headline metrics and, per precision, the metrics and their difference from
float32; with --write, stores them in the model's metrics.json and model card (as `stance train`
does at the end). bf16 is measured only on CPUs with native bf16.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.config import load_config
from stance.data import load_splits
from stance.evaluation import precision_costs, validate
from stance.model_card import write_model_card
from stance.modeling import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--config", type=Path, default=Path("configs/default.yaml"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    config = load_config(args.config)
    validation = load_splits(config).validation
    model, tokenizer, _ = load_model(args.model)
    _, reference, _ = validate(model, tokenizer, validation, config.model.max_length, tune_threshold=False)
    costs = precision_costs(model, tokenizer, validation, config.model.max_length, reference, args.model)
    print(json.dumps({"float32": reference, **costs}, indent=2))
    if args.write:
        path = args.model / "metrics.json"
        metrics = json.loads(path.read_text(encoding="utf-8"))
        metrics.pop("int8_cost", None)
        metrics.update(costs)
        path.write_text(json.dumps(metrics, indent=2, default=float) + "\n", encoding="utf-8")
        write_model_card(args.model, config, metrics, model.head_specs)


if __name__ == "__main__":
    main()
