"""Does fitting the framing flag's threshold on validation data beat a fixed 0.5 on sentences it was not
fitted on? K-fold cross-validation of the threshold choice alone: the model stays fixed, its validation
split is cut into K folds by group, the threshold is fitted (macro-F1, as `stance train` fits it) on K-1
folds and judged on the held-out one, against 0.5 on the same fold.

    STANCE_DATA=../shared/data python scripts/flag_threshold_cv.py models/default [--folds 5]

The validation split also chose the model's checkpoint and temperature, which flatters both columns
alike; the difference between them is what this measures.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
from pathlib import Path

from stance.calibration import binary_macro_f1, fit_flag_threshold
from stance.data import config_of_model, load_splits
from stance.defaults import DATA_ROOT_ENV, DEFAULT_DATA_ROOT
from stance.evaluation import predict_by_source
from stance.modeling import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT)))
    args = parser.parse_args()
    model, tokenizer, config = load_model(args.model)
    splits = load_splits(config_of_model(config, args.data_root))
    temperature = float(model.framing_temperature)
    rows = []  # (group, gold, calibrated probability)
    for encoded, preds in predict_by_source(model, tokenizer, splits.validation, int(config["max_length"])).values():
        for enc, pred in zip(encoded, preds):
            if "framing" in enc.labels:
                rows.append((pred.framing_logit, int(enc.labels["framing"] >= 0.5)))
    groups = [ex.group for ex in splits.validation if ex.framing is not None]
    fold_of = {g: k % args.folds for k, g in enumerate(random.Random(13).sample(sorted(set(groups)), len(set(groups))))}
    fixed, fitted, chosen = [], [], []
    for k in range(args.folds):
        train = [(x, y) for (x, y), g in zip(rows, groups) if fold_of[g] != k]
        test = [(x, y) for (x, y), g in zip(rows, groups) if fold_of[g] == k]
        prob = lambda x: 0.5 + 0.5 * math.tanh(x / (2 * temperature))  # noqa: E731
        threshold = fit_flag_threshold([prob(x) for x, _ in train], [y for _, y in train])
        probs, gold = [prob(x) for x, _ in test], [y for _, y in test]
        fixed.append(binary_macro_f1(probs, gold, 0.5))
        fitted.append(binary_macro_f1(probs, gold, threshold))
        chosen.append(threshold)
    print(f"{len(rows)} framing-labelled validation sentences, {args.folds} folds by group")
    for name, values in (("fixed 0.5", fixed), ("fitted", fitted)):
        print(f"{name:10s} held-out macro-F1 {statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}")
    deltas = [b - a for a, b in zip(fixed, fitted)]
    print(f"fitted - fixed: {statistics.fmean(deltas):+.4f} ± {statistics.stdev(deltas):.4f}; thresholds {chosen}")


if __name__ == "__main__":
    main()
