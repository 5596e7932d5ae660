"""Assembling labelled data as a config describes it: load, restrict heads, de-duplicate, split."""

from __future__ import annotations

import functools
import hashlib
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .annotations import read_doccano, read_label_studio
from .config import DatasetConfig, TrainConfig
from .corpora import ADAPTERS
from .defaults import DATA_ROOT_ENV
from .errors import DataError
from .examples import Example, deduplicate, normalize_text, split_examples
from .heads import HEADS
from .tabular import load_table

TABLE_ADAPTERS = ("table", "csv", "jsonl", "parquet")
ANNOTATION_ADAPTERS = {"doccano": read_doccano, "label-studio": read_label_studio}


@dataclass
class Splits:
    train: list[Example] = field(default_factory=list)
    validation: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)
    corpora: list[CorpusSplit] = field(default_factory=list)  # the same examples, per dataset


def resolve_path(root: Path, path: str) -> Path:
    """Relative paths are looked up under the data root first, then from the working directory."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    under_root = root / candidate
    return under_root if under_root.exists() or not candidate.exists() else candidate


def load_dataset_examples(spec: DatasetConfig, root: Path) -> list[Example]:
    return restrict_heads(read_dataset(spec, root), spec.heads)


def read_dataset(spec: DatasetConfig, root: Path, fold: int | None = None) -> list[Example]:
    """Every label the corpus has. A `{fold}` in the path is the cross-validation fold being trained
    (`all` outside cross-validation): a per-fold file such as a teacher's soft labels."""
    path = resolve_path(root, spec.path.replace("{fold}", "all" if fold is None else str(fold)))
    if not path.exists():
        raise DataError(
            f"expected the {spec.adapter} dataset at {path}, found nothing there; fix its `path` (relative paths "
            f"are looked up under data.root {root} first, then the working directory) or set ${DATA_ROOT_ENV}"
        )
    if spec.adapter in TABLE_ADAPTERS:
        examples = load_table(
            path,
            columns=spec.columns,
            framing_positive=spec.framing_positive,
            framing_negative=spec.framing_negative,
            labels=spec.labels,
        )
    elif spec.adapter in ANNOTATION_ADAPTERS:
        examples = ANNOTATION_ADAPTERS[spec.adapter](path, spec.labels, spec.columns.get("text", "text"))
    elif spec.adapter in ADAPTERS:
        examples = ADAPTERS[spec.adapter](path, soft_labels=spec.soft_labels)
    else:
        raise DataError(
            f"expected a dataset adapter from {sorted(ADAPTERS) + list(ANNOTATION_ADAPTERS) + list(TABLE_ADAPTERS)}, "
            f"found {spec.adapter!r}; "
            "use `table` with a column mapping for your own files"
        )
    return examples


def restrict_heads(examples: list[Example], heads: list[str]) -> list[Example]:
    """Drop the labels of every head not in `heads` (empty: keep all)."""
    if heads:
        dropped = [head for name, head in HEADS.items() if name not in heads]
        for ex in examples:
            for head in dropped:
                head.unlabel(ex)
    return examples


def _sample_groups(examples: list[Example], fraction: float, seed: int) -> list[Example]:
    """The examples of a seeded `fraction` of the groups, in their original order."""
    if fraction >= 1.0:
        return examples
    groups = sorted({ex.group for ex in examples})
    kept = set(random.Random(seed).sample(groups, max(1, round(fraction * len(groups)))))
    return [ex for ex in examples if ex.group in kept]


def _subsample_negatives(examples: list[Example], fraction: float, seed: int) -> list[Example]:
    if fraction >= 1.0:
        return examples
    rng = random.Random(seed)
    return [ex for ex in examples if ex.spans is None or ex.spans or rng.random() < fraction]


def _stratum(examples: list[Example]) -> tuple:
    """What a group's labels look like, coarsely: framing share, share of sentences with loaded spans,
    and majority stance. Folds dealt from groups sorted by this get similar label mixes."""
    framing = [ex.framing for ex in examples if ex.framing is not None]
    spans = [bool(ex.spans) for ex in examples if ex.spans is not None]
    stances = Counter(t.label for ex in examples for t in ex.targets or [])
    return (
        round(2 * sum(f >= 0.5 for f in framing) / len(framing)) if framing else -1,
        min(3, int(8 * sum(spans) / len(spans))) if spans else -1,
        stances.most_common(1)[0][0] if stances else "",
    )


def assign_folds(examples: list[Example], folds: int, seed: int) -> dict[str, int]:
    """Grouped, stratified k-fold: every group (a sentence or an article) gets one fold, and groups are
    dealt round-robin in order of their label stratum (ties in a seeded random order), so each fold
    holds about 1/k of every stratum."""
    by_group: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_group[ex.group].append(ex)
    tiebreak = lambda g: hashlib.sha256(f"{seed}:fold:{g}".encode()).digest()  # noqa: E731
    order = sorted(by_group, key=lambda g: (_stratum(by_group[g]), tiebreak(g)))
    return {group: i % folds for i, group in enumerate(order)}


@dataclass
class CorpusSplit:
    """One configured dataset, split as training splits it."""

    spec: DatasetConfig
    train: list[Example]  # what the model trains on (negatives subsampled as configured)
    validation: list[Example]
    test: list[Example]
    outer: list[Example] = field(default_factory=list)  # cross-validation's held-out fold: scored once, at the end

    @property
    def name(self) -> str:
        """How reports name this corpus: its adapter, plus the file's stem for a test-only corpus
        (newsmtsc:devtest_mt), which may share the adapter with a trained one."""
        return f"{self.spec.adapter}:{Path(self.spec.path).stem}" if self.spec.split == "test" else self.spec.adapter


def split_corpora(config: TrainConfig) -> list[CorpusSplit]:
    """The one place that splits data: load every dataset, drop sentences an earlier corpus already
    holds, and split each by its `split:` (by group for `auto`). Training and `stance evaluate
    DATA@validation` both call this, so they always see the same sentences."""
    root = config.data_root()
    specs = config.data.datasets
    if not specs:
        raise DataError("expected at least one entry under data.datasets, found none")
    seed = config.training.seed
    fold = config.data.fold if config.data.folds else None
    per_corpus = deduplicate(
        _sample_groups(read_dataset(spec, root, fold), spec.group_fraction, seed) for spec in specs
    )
    out = []
    for spec, examples in zip(specs, per_corpus):
        outer: list[Example] = []
        if spec.split == "auto" and config.data.folds:
            # Folds are dealt before `heads` drops labels, so recipes that use fewer of a corpus's
            # labels (a framing-only teacher) hold out exactly the same groups.
            fold_of = assign_folds(examples, config.data.folds, seed)
            outer = [ex for ex in examples if fold_of[ex.group] == config.data.fold]
            examples = [ex for ex in examples if fold_of[ex.group] != config.data.fold]
        restrict_heads(examples, spec.heads)
        restrict_heads(outer, spec.heads)
        if spec.split == "auto":
            train, val = split_examples(examples, spec.validation_fraction or config.data.validation_fraction, seed)
        else:
            train, val = (examples, []) if spec.split == "train" else ([], examples)
        test = val if spec.split == "test" else []
        val = [] if spec.split == "test" else val
        train = _subsample_negatives(train, spec.negative_sentence_fraction, seed) * spec.repeat
        out.append(CorpusSplit(spec, train, val, test, outer))
    return out


def load_splits(config: TrainConfig) -> Splits:
    splits = Splits(corpora=split_corpora(config))
    for corpus in splits.corpora:
        splits.train.extend(corpus.train)
        splits.validation.extend(corpus.validation)
        splits.test.extend(corpus.test)
    if not splits.train:
        raise DataError("expected training examples, found none after splitting; check data.datasets and their split")
    return splits


def fingerprint(examples: list[Example]) -> dict:
    """Count and hash of a set of sentences: proof that two code paths saw the same split."""
    digest = hashlib.sha256("\n".join(sorted(normalize_text(ex.text) for ex in examples)).encode()).hexdigest()
    return {"n": len(examples), "sha256": digest}


def config_of_model(model_config: dict, root: Path) -> TrainConfig:
    """The data part of the training config a model was trained with, as saved in its config.json."""
    training = model_config.get("training") or {}
    if not training.get("datasets"):
        raise DataError(
            "expected the model's config.json to record its training datasets, found none; "
            "evaluate on DATA or DATA@all instead of @train / @validation"
        )
    return TrainConfig.model_validate(
        {
            "data": {
                "root": str(root),
                "validation_fraction": training.get("validation_fraction", 0.15),
                "datasets": training["datasets"],
                "folds": training.get("folds", 0),
                "fold": training.get("fold", 0),
            },
            "training": {"seed": training.get("seed", 13)},
        }
    )


def model_split(model_config: dict, root: Path, adapter: str, path: str, split: str) -> list[Example]:
    """The `split` part (train / validation / test) of dataset ADAPTER:PATH exactly as the model's training
    made it: same datasets, de-duplication, seed and fractions. For a cross-validation fold's model, `test`
    is the held-out fold."""
    config = config_of_model(model_config, root)
    for corpus in _model_corpora(config.model_dump_json()):
        if corpus.spec.adapter == adapter and corpus.spec.path == path:
            return corpus.test + corpus.outer if split == "test" else getattr(corpus, split)
    known = ", ".join(f"{d.adapter}:{d.path}" for d in config.data.datasets)
    raise DataError(
        f"expected {adapter}:{path} to be one of the datasets the model was trained with ({known}), "
        f"found it not; use {adapter}:{path}@all to evaluate on all of it"
    )


def replay_sample(model_config: dict, root: Path, n: int, seed: int) -> list[Example]:
    """`n` training sentences of a trained model's own corpora (its training parts, split as its
    training split them, so none of its validation sentences), drawn with `seed`."""
    pool = [
        ex for corpus in _model_corpora(config_of_model(model_config, root).model_dump_json()) for ex in corpus.train
    ]
    if not pool:
        raise DataError("expected the init model's training corpora for data.replay, found no training sentences")
    return random.Random(f"{seed}:replay").sample(pool, min(n, len(pool)))


@functools.lru_cache(maxsize=2)
def _model_corpora(config_json: str) -> list[CorpusSplit]:
    """Every corpus of a model's training config, split once: `stance evaluate` asks for several
    datasets' parts in one run, and de-duplication needs them all loaded each time."""
    return split_corpora(TrainConfig.model_validate_json(config_json))
