"""Assembling labelled data as a config describes it: load, restrict heads, de-duplicate, split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from .config import DatasetConfig, TrainConfig
from .corpora import ADAPTERS
from .errors import DataError
from .examples import Example, deduplicate, split_examples
from .tabular import load_table

TABLE_ADAPTERS = ("table", "csv", "jsonl", "parquet")


@dataclass
class Splits:
    train: list[Example] = field(default_factory=list)
    validation: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)


def resolve_path(root: Path, path: str) -> Path:
    """Relative paths are looked up under the data root first, then from the working directory."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    under_root = root / candidate
    return under_root if under_root.exists() or not candidate.exists() else candidate


def load_dataset_examples(spec: DatasetConfig, root: Path) -> list[Example]:
    path = resolve_path(root, spec.path)
    if spec.adapter in TABLE_ADAPTERS:
        examples = load_table(path, columns=spec.columns, framing_positive=spec.framing_positive)
    elif spec.adapter in ADAPTERS:
        examples = ADAPTERS[spec.adapter](path, soft_labels=spec.soft_labels)
    else:
        raise DataError(
            f"expected a dataset adapter from {sorted(ADAPTERS) + list(TABLE_ADAPTERS)}, found {spec.adapter!r}; "
            "use `table` with a column mapping for your own files"
        )
    if spec.heads:
        for ex in examples:
            ex.framing = ex.framing if "framing" in spec.heads else None
            ex.spans = ex.spans if "loaded_terms" in spec.heads else None
            ex.targets = ex.targets if "stance" in spec.heads else None
    return examples


def _subsample_negatives(examples: list[Example], fraction: float, seed: int) -> list[Example]:
    if fraction >= 1.0:
        return examples
    rng = random.Random(seed)
    return [ex for ex in examples if ex.spans is None or ex.spans or rng.random() < fraction]


def load_splits(config: TrainConfig) -> Splits:
    root = config.data_root()
    specs = config.data.datasets
    if not specs:
        raise DataError("expected at least one entry under data.datasets, found none")
    per_corpus = deduplicate(load_dataset_examples(spec, root) for spec in specs)
    splits = Splits()
    seed = config.training.seed
    for spec, examples in zip(specs, per_corpus):
        if spec.split == "auto":
            fraction = spec.validation_fraction or config.data.validation_fraction
            train, val = split_examples(examples, fraction, seed)
        else:
            train, val = (examples, []) if spec.split == "train" else ([], examples)
        if spec.split == "test":
            splits.test.extend(val)
            continue
        splits.train.extend(_subsample_negatives(train, spec.negative_sentence_fraction, seed))
        splits.validation.extend(val)
    if not splits.train:
        raise DataError("expected training examples, found none after splitting; check data.datasets and their split")
    return splits
