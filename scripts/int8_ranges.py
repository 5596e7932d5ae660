"""Measure a trained model's int8 activation ranges and store them in its config.json.

    STANCE_DATA=../shared/data python scripts/int8_ranges.py models/default

`stance train` does this for every model it saves (stance.training.save_shipped). This script gives
the same ranges to a model saved before stance 0.8, from the same sentences training would have used:
a seeded sample of the model's own training split, rebuilt from the datasets its config.json records.
Without ranges, the int8 export still gives every sentence its own scales (one per token row), but
runs about 20% slower.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from stance.data import config_of_model, load_splits
from stance.defaults import DATA_ROOT_ENV, DEFAULT_DATA_ROOT
from stance.model_files import CONFIG_NAME
from stance.modeling import load_model
from stance.onnx_export import RANGES_KEY, activation_ranges
from stance.training import range_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT)))
    args = parser.parse_args()
    model, tokenizer, config = load_model(args.model)
    train_config = config_of_model(config, args.data_root)
    texts = range_sentences(load_splits(train_config).train, train_config.training.seed)
    config[RANGES_KEY] = activation_ranges(model, tokenizer, texts, int(config["max_length"]))
    (args.model / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"{args.model / CONFIG_NAME}: {RANGES_KEY} for {len(config[RANGES_KEY])} layers, from {len(texts)} sentences")


if __name__ == "__main__":
    main()
