"""`stance init-config`: look at a user's labelled file and write a complete, commented training config.

Like `spacy init config`: the config it writes names every setting with its value, so nothing is a
silent default. What it cannot guess (the meaning of a label it has never seen) is written as `???`,
which `stance train` refuses with an error until the user answers it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .annotations import QUESTION, READERS, label_counts, sniff
from .config import DataConfig, DatasetConfig, ModelConfig, TrainingConfig
from .defaults import FRAMING_NEGATIVE, FRAMING_POSITIVE
from .errors import DataError
from .labels import LOADED_CATEGORIES
from .tabular import BUILDERS

TEXT_COLUMNS = ("text", "sentence", "content", "body")
LABEL_COLUMNS = ("label", "labels", "framing", "bias", "class", "category")
SPAN_HINTS = {"loaded": "loaded_language", "bias": "loaded_language", "name": "name_calling", "insult": "name_calling"}
# Below this many labelled sentences a per-step evaluation schedule is mostly noise: evaluate per epoch.
SMALL_CORPUS = 2000


@dataclass
class Inspection:
    """What `stance init-config` found in a file."""

    path: Path
    adapter: str
    rows: int
    sentence_labels: Counter = field(default_factory=Counter)
    span_labels: Counter = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)  # table only
    unlabelled: int = 0

    def report(self) -> str:
        lines = [f"{self.path}: {self.adapter}, {self.rows} labelled sentences"]
        if self.unlabelled:
            use = "read as: nothing loaded, framing unlabelled" if self.span_labels else "not used in training"
            lines.append(f"  {self.unlabelled} sentences without labels ({use})")
        if self.columns:
            lines.append("  columns: " + ", ".join(f"{k} <- {v!r}" for k, v in self.columns.items()))
        for title, counts in (("sentence labels", self.sentence_labels), ("span labels", self.span_labels)):
            if counts:
                lines.append(f"  {title}: " + ", ".join(f"{k} ({n})" for k, n in counts.most_common()))
        return "\n".join(lines)


def _table_inspection(path: Path) -> Inspection:
    from .tabular import _load_table, _maybe_json

    table = _load_table(path)
    names = {c.lower(): c for c in table.column_names}
    text = next((names[c] for c in TEXT_COLUMNS if c in names), None)
    if text is None:
        raise DataError(
            f"{path}: expected a text column (one of {list(TEXT_COLUMNS)}), found only {table.column_names}; "
            "rename the sentence column to `text`"
        )
    label = next((names[c] for c in LABEL_COLUMNS if c in names), None)
    columns = {"text": text} | ({"framing": label} if label else {})
    counts: Counter = Counter()
    unlabelled = 0
    for value in table[label] if label else []:
        value = _maybe_json(value)
        values = value if isinstance(value, list) else [] if value in (None, "") else [value]
        counts.update(str(v) for v in values)
        unlabelled += not values
    return Inspection(path, "table", len(table) - unlabelled, counts, Counter(), columns, unlabelled)


def inspect(path: Path, adapter: str | None = None) -> Inspection:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"expected a labelled data file at {path}, found nothing; check --data")
    adapter = adapter or sniff(path) or ("table" if path.suffix.lower() in BUILDERS else None)
    if adapter is None:
        raise DataError(
            f"expected a doccano JSONL, Label Studio JSON or table (.csv .tsv .jsonl .parquet) file, found "
            f"{path.name!r}; pass --adapter if it is one of these"
        )
    if adapter == "table":
        return _table_inspection(path)
    if adapter not in READERS:
        raise DataError(f"expected --adapter doccano, label-studio or table, found {adapter!r}")
    rows = READERS[adapter](path)
    sentence, spans = label_counts(rows)
    empty = sum(not r.classes and not r.spans for r in rows)
    unlabelled = empty
    if adapter == "label-studio":  # tasks without a kept annotation are not rows at all
        import json

        unlabelled += len(json.loads(path.read_text(encoding="utf-8"))) - len(rows)
    return Inspection(path, adapter, len(rows) - empty, sentence, spans, {}, unlabelled)


def guess_meanings(found: Inspection, positive: list[str]) -> dict[str, str]:
    """Each label's meaning where the name tells it; `???` where it does not. With --framing-positive
    and exactly one other sentence label, that one is the neutral class of a binary scheme."""
    chosen = {p.lower() for p in positive}
    meanings: dict[str, str] = {}
    others = [label for label in found.sentence_labels if label.lower() not in chosen]
    for label in found.sentence_labels:
        key = label.strip().lower()
        if key in chosen or (not chosen and key in FRAMING_POSITIVE) or key == "editorial":
            meanings[label] = "editorial"
        elif key in FRAMING_NEGATIVE or (chosen and len(others) == 1):
            meanings[label] = "neutral"
        else:
            meanings[label] = QUESTION
    for label in found.span_labels:
        key = label.strip().lower()
        hint = next((m for h, m in SPAN_HINTS.items() if h in key), None)
        meanings[label] = key if key in LOADED_CATEGORIES else hint or QUESTION
    return meanings


def _yaml_scalar(value) -> str:
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()


def replay_available(init_from: str | None) -> bool:
    """Are the init model's own corpora where `data.replay` would look for them?"""
    import os

    from .defaults import DATA_ROOT_ENV, DEFAULT_DATA_ROOT
    from .training import resolve_init

    if not init_from:
        return False
    from .modeling import read_model_config

    datasets = (read_model_config(resolve_init(init_from)).get("training") or {}).get("datasets") or []
    root = Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT)
    return bool(datasets) and all((root / d["path"]).exists() for d in datasets)


def render_config(
    found: Inspection, meanings: dict[str, str], init_from: str | None, data_path: str, replay_ok: bool = False
) -> str:
    """The config text: every setting with its value and a comment saying what it does."""
    m, t, d = ModelConfig(), TrainingConfig(), DataConfig(datasets=[DatasetConfig(adapter="table", path="x")])
    small = found.rows < SMALL_CORPUS
    questions = [k for k, v in meanings.items() if v == QUESTION]
    label_lines = "".join(
        f"        {_yaml_scalar(k)}: {'???   # QUESTION: editorial, neutral, loaded_language, name_calling or ignore?' if v == QUESTION else v}\n"
        for k, v in meanings.items()
    )
    columns = (
        "      columns: {" + ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in found.columns.items()) + "}\n"
        if found.columns
        else ""
    )
    header = (
        f"# Training config for {found.path} ({found.adapter}, {found.rows} labelled sentences), "
        "written by `stance init-config`.\n"
        "#   stance train THIS.yaml -o runs/mine\n"
        "# Every setting is written out; configs/default.yaml documents each key.\n"
    )
    if questions:
        header += (
            f"# {len(questions)} label meaning(s) are marked ???: `stance train` refuses this config until you "
            "answer them.\n"
        )
    init = (
        f"  init_from: {init_from}          # continue from this trained stance model; heads your data does not\n"
        "                               # label keep their trained weights\n"
        if init_from
        else "  init_from: null               # or `default`: continue from the shipped model instead of the bare encoder\n"
    )
    return f"""{header}
data:
  root: {d.root}           # where data.replay finds the init model's corpora ($STANCE_DATA overrides)
  validation_fraction: {_validation_share(found, meanings, d.validation_fraction)[0]}       # share held out (by group) to choose the checkpoint, threshold and temperature
                               # {_validation_share(found, meanings, d.validation_fraction)[1]}
  replay: {REPLAY_SENTENCES if init_from and replay_ok else 0}                 # with init_from: mix this many of the init model's training sentences in,
                               # so what it knew (BABE framing, the heads your data does not label) drifts
                               # less; needs its corpora under root{" (found there)" if replay_ok else " (not found there)" if init_from else ""}
  datasets:
    - adapter: {found.adapter}
      path: {_yaml_scalar(data_path)}
{columns}      labels:                  # your label names -> editorial / neutral (sentence), loaded_language /
                               # name_calling (span) or ignore
{label_lines}
model:
  base_model: {m.base_model}   # the encoder (ignored with init_from: the init model's base is kept)
{init}  max_length: {m.max_length}              # tokens per sentence; longer sentences are truncated
  dropout: {m.dropout}
  freeze_embeddings: {str(m.freeze_embeddings).lower()}      # keeps the model small: embeddings come from the base
  save_dtype: {m.save_dtype}         # dtype of the stored weights
  mark_mentions: {str(m.mark_mentions).lower()}
  freeze_encoder: {"true" if init_from and not replay_ok else "false"}        # true: train only the heads. {_forgetting_comment(init_from, replay_ok)}

training:
  seed: {t.seed}
  epochs: {t.epochs if not small else 6}                    # {"small corpus: a few more passes" if small else "passes over the data"}
  max_steps: {t.max_steps}                 # 0: no limit other than epochs
  batch_size: {16 if small else t.batch_size}
  learning_rate: {t.learning_rate if not init_from else 3.0e-5}        # encoder{" (lower when continuing from a trained model)" if init_from else ""}
  head_learning_rate: {t.head_learning_rate}
  weight_decay: {t.weight_decay}
  warmup_ratio: {t.warmup_ratio}
  grad_clip: {t.grad_clip}
  eval_every: {0 if small else t.eval_every}                # {"0: evaluate once per epoch (small corpus)" if small else "steps between evaluations"}
  patience: {t.patience}                  # evaluations without improvement before early stopping
  checkpoint_every: {t.checkpoint_every}
  log_every: {t.log_every}
  loss_weights: {_yaml_scalar(t.loss_weights)}
  class_weights: {t.class_weights}         # {_balance_comment(found, meanings)}
                               # balanced: the rarer class weighs more, from the label counts; none: all alike
  precision: {t.precision}               # training arithmetic: auto (GPU mixed, CPU float32), fp32, or bf16 (faster on CPUs with bf16)
  num_threads: {t.num_threads}               # torch threads; 0: all cores
"""


MAX_VALIDATION_SHARE = 0.3
WANTED_PER_CLASS = 12  # validation sentences of the rarer framing class: 10 are needed to fit the flag threshold


# How `init-config --init-from` protects what the init model knew (scripts/rare_label_cv.py, README: a
# newsroom-like corpus with 5.6% biased sentences, leave-one-event-out): with the init model's corpora at
# hand, replaying 2,000 of its sentences and training the encoder gave the best held-out macro-F1 (0.539)
# and kept BABE framing at 0.750 (from 0.793); a frozen encoder without replay kept 0.675, training the
# encoder without replay 0.510.
REPLAY_SENTENCES = 2000


def _forgetting_comment(init_from: str | None, replay_ok: bool) -> str:
    if not init_from:
        return "Not continuing from a trained model: train the encoder too"
    if replay_ok:
        return (
            f"The encoder trains, and data.replay mixes {REPLAY_SENTENCES} of the\n"
            "                               # init model's own sentences in: measured best on held-out data (README, Retraining)"
        )
    return (
        "Without the init model's corpora (no replay), a frozen encoder\n"
        "                               # forgets least: BABE framing kept 0.675 of 0.793, against 0.510 with it trained (README)"
    )


def _framing_counts(found: Inspection, meanings: dict[str, str]) -> tuple[int, int]:
    editorial = sum(n for label, n in found.sentence_labels.items() if meanings.get(label) == "editorial")
    neutral = sum(n for label, n in found.sentence_labels.items() if meanings.get(label) == "neutral")
    return editorial, neutral


def _validation_share(found: Inspection, meanings: dict[str, str], default: float) -> tuple[float, str]:
    """A validation share that can hold WANTED_PER_CLASS sentences of the rarer framing class (up to
    MAX_VALIDATION_SHARE), and why: with rare editorial sentences, 15% holds too few to fit a threshold."""
    rarer = min(_framing_counts(found, meanings))
    if not rarer or rarer * default >= WANTED_PER_CLASS:
        return default, "(enough of each framing class at this share)" if rarer else "(no framing labels found)"
    share = min(MAX_VALIDATION_SHARE, round(WANTED_PER_CLASS / rarer + 0.005, 2))
    return share, (
        f"raised from {default}: the rarer framing class has {rarer} sentences, and at least 10 in validation "
        "are needed to fit the flag threshold" + (" (still too few: label more)" if share * rarer < 10 else "")
    )


def _balance_comment(found: Inspection, meanings: dict[str, str]) -> str:
    """What class_weights does on this file: how rare its editorial sentences are."""
    editorial, neutral = _framing_counts(found, meanings)
    if not editorial or not neutral:
        return "no framing classes to balance in this file"
    share = editorial / (editorial + neutral)
    return f"this file: {editorial} editorial of {editorial + neutral} ({share:.0%}), so editorial weighs x{neutral / editorial:.1f}"


def write_config(
    out: Path,
    data: Path,
    adapter: str | None = None,
    framing_positive: list[str] | None = None,
    init_from: str | None = None,
) -> tuple[Inspection, dict[str, str]]:
    found = inspect(data, adapter)
    meanings = guess_meanings(found, framing_positive or [])
    for label in framing_positive or []:
        if label not in meanings and label.lower() not in {k.lower() for k in meanings}:
            raise DataError(
                f"expected each --framing-positive label in {data}, found no {label!r} among "
                f"{sorted(found.sentence_labels)}"
            )
    replay_ok = replay_available(init_from)
    Path(out).write_text(render_config(found, meanings, init_from, str(data), replay_ok), encoding="utf-8")
    return found, meanings
