"""Give a model saved by an older stance what this version fits at the end of training, from the data
its training used:

- int8 activation ranges (config.json `int8_activation_ranges`), on a seeded sample of its training
  split: without them the int8 export gives every sentence per-row scales, 20-30% slower (0.8);
- the framing flag's threshold (config.json `heads.framing.threshold`), chosen for macro-F1 on its
  validation split: without it the flag is raised at 0.5 (0.8).

    STANCE_DATA=../shared/data python scripts/upgrade_model.py models/default

Both come from stance.training's own functions (range_sentences, activation_ranges, fit_framing_flag)
on the splits rebuilt from the datasets the model's config.json records, exactly as `stance train`
would have fitted them. The weights, temperature and loaded-term threshold are not touched.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from stance.data import config_of_model, load_splits
from stance.defaults import DATA_ROOT_ENV, DEFAULT_DATA_ROOT
from stance.evaluation import fit_framing_flag, framing_pairs, predict_by_source
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
    max_length = int(config["max_length"])
    train_config = config_of_model(config, args.data_root)
    splits = load_splits(train_config)
    texts = range_sentences(splits.train, train_config.training.seed)
    config[RANGES_KEY] = activation_ranges(model, tokenizer, texts, max_length)
    print(f"{RANGES_KEY}: {len(config[RANGES_KEY])} layers, from {len(texts)} training sentences")
    if "framing" in config.get("heads", {}):
        pairs = framing_pairs(predict_by_source(model, tokenizer, splits.validation, max_length))
        for note in fit_framing_flag(model, pairs):
            print(f"note: {note}")
        config["heads"]["framing"]["threshold"] = float(model.framing_threshold)
        print(f"heads.framing.threshold: {model.framing_threshold:.2f}, from {len(pairs)} validation sentences")
    (args.model / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
