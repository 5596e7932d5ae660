"""Typed training configuration, loaded from YAML with dotted command-line overrides.

Every section rejects unknown keys, so a typo such as `trainig.epochs` fails
loudly instead of being silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .defaults import DATA_ROOT_ENV, DEFAULT_BASE_MODEL, DEFAULT_DATA_ROOT, FRAMING_NEGATIVE, FRAMING_POSITIVE
from .errors import ConfigError


def _check_heads(names) -> list:
    """Head names must be registered heads (heads.py)."""
    from .heads import HEADS

    unknown = [n for n in names if n not in HEADS]
    if unknown:
        raise ValueError(f"expected head names from {list(HEADS)}, found {unknown}")
    return names


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetConfig(Section):
    adapter: str
    path: str
    # Generic tables only: which column holds which field (see tabular.py).
    columns: dict[str, str] = Field(default_factory=dict)
    # Generic tables only: label values that mean "editorial" / "neutral" for the framing column;
    # any other value is an error naming the row (map it under `labels:`).
    framing_positive: list[str] = Field(default_factory=lambda: list(FRAMING_POSITIVE))
    framing_negative: list[str] = Field(default_factory=lambda: list(FRAMING_NEGATIVE))
    # Your label names -> what they mean: editorial / neutral (sentence labels), loaded_language /
    # name_calling (span labels) or ignore. doccano, label-studio and table datasets read it;
    # `???` marks a question `stance init-config` could not answer (an error until you do).
    labels: dict[str, str | None] = Field(default_factory=dict)
    # Keep this share of training sentences that carry no loaded-term span (PTC is mostly
    # such sentences); validation always keeps them all.
    negative_sentence_fraction: float = Field(1.0, ge=0.0, le=1.0)
    # Use this share of the corpus's groups (articles, or sentences where each is its own group), drawn
    # with the seed before splitting: a large corpus need not outweigh the others in every batch.
    group_fraction: float = Field(1.0, gt=0.0, le=1.0)
    # Overrides data.validation_fraction for this corpus.
    validation_fraction: float | None = Field(None, gt=0.0, lt=1.0)
    # Use the raw annotator votes as a soft framing target where the corpus has them.
    soft_labels: bool = False
    # Show each training sentence this many times per epoch (validation is never repeated): task
    # balance for a small corpus that would otherwise be a tenth of every batch.
    repeat: int = Field(1, ge=1)
    # Only use the listed heads from this corpus (empty: all that it labels).
    heads: list[str] = Field(default_factory=list)

    @field_validator("heads")
    @classmethod
    def _known_heads(cls, value: list[str]) -> list[str]:
        return _check_heads(value)

    # auto: carve a validation split from this corpus by group; train / validation: use all of
    # it for that; test: never used for training or model selection, only reported at the end.
    split: Literal["auto", "train", "validation", "test"] = "auto"


class DataConfig(Section):
    root: str = DEFAULT_DATA_ROOT
    validation_fraction: float = Field(0.15, gt=0.0, lt=1.0)
    datasets: list[DatasetConfig]
    # Cross-validation (`stance cv` sets these): with `folds` > 1, fold number `fold` of every `auto`
    # corpus is held out (never trained on or selected with), and validation is carved from the rest.
    folds: int = Field(0, ge=0)
    fold: int = Field(0, ge=0)
    # With model.init_from: mix this many training sentences, drawn with the seed from the init model's
    # own training corpora (as its config.json records them), into training, so the heads the new
    # data does not label are reminded of their task instead of drifting with the encoder.
    replay: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _fold_in_range(self) -> DataConfig:
        if self.folds == 1 or (self.folds and self.fold >= self.folds):
            raise ValueError(f"expected folds >= 2 and 0 <= fold < folds, found folds={self.folds} fold={self.fold}")
        return self


class ModelConfig(Section):
    base_model: str = DEFAULT_BASE_MODEL
    max_length: int = Field(128, ge=8)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    # Frozen embeddings are reloaded from the base at load time, which keeps the
    # shipped model under 30 MB: only encoder layers and heads are stored.
    freeze_embeddings: bool = True
    save_dtype: Literal["float32", "float16", "bfloat16"] = "float16"
    # Mark target mentions in the input (token type 1 on their tokens) for every head to see.
    mark_mentions: bool = False
    # Continue from a trained stance model ("default" or a model directory) instead of the bare
    # encoder: its encoder, tokenizer and heads are the start; heads the new data does not label
    # keep their trained weights. base_model is then the init model's base.
    init_from: str | None = None
    # Train only the heads; the encoder keeps its weights. With init_from, the heads the new data does
    # not label then give exactly their old outputs (no forgetting), at the price of a smaller gain.
    freeze_encoder: bool = False


class TrainingConfig(Section):
    # Defaults are configs/default.yaml's values (a test checks it), so a minimal config of your own
    # trains the way the shipped model did unless you say otherwise.
    seed: int = 13
    epochs: int = Field(4, ge=1)
    max_steps: int = Field(0, ge=0)  # 0: no limit beyond epochs
    batch_size: int = Field(32, ge=1)
    learning_rate: float = Field(8e-5, gt=0)
    head_learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = 0.01
    warmup_ratio: float = Field(0.06, ge=0, lt=1)
    grad_clip: float = 1.0
    eval_every: int = Field(200, ge=0)  # steps; 0: once per epoch
    patience: int = Field(4, ge=1)  # evaluations without improvement before stopping
    checkpoint_every: int = Field(100, ge=1)
    log_every: int = Field(10, ge=1)  # steps between loss records in train_log.jsonl
    # Per head (a head not listed weighs 1.0).
    loss_weights: dict[str, float] = Field(
        default_factory=lambda: {"framing": 1.0, "loaded_terms": 2.0, "stance": 1.0, "attribution": 1.0}
    )

    @field_validator("loss_weights")
    @classmethod
    def _known_loss_heads(cls, value: dict[str, float]) -> dict[str, float]:
        _check_heads(list(value))
        return value

    # balanced: sentence-level heads (framing) weigh each class's training sentences by how rare the
    # class is, from the label counts; none: every sentence weighs the same. The logit shift it adds
    # is undone before calibration, so scores stay probabilities.
    class_weights: Literal["balanced", "none"] = "balanced"
    # Arithmetic of the training steps: auto (mixed precision on a GPU, float32 on a CPU), fp32, or bf16
    # (autocast; on a CPU with AVX512-BF16 or AMX a step is 2.5-3x faster; its effect on accuracy is
    # being measured under cross-validation before it becomes the CPU default).
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    num_threads: int = Field(0, ge=0)  # 0: all cores
    # How the checkpoint is chosen from the validation figures (evaluation.SELECTION_RULES): scores (the
    # mean of every corpus's task scores), heads (each head weighs the same) or framing (framing alone).
    selection: Literal["scores", "heads", "framing"] = "scores"
    # Also keep the best model by these rules (OUT/model-<rule>, calibrated like OUT/model); `stance cv`
    # scores each on the held-out fold, so two selection rules are compared on one set of training runs.
    also_select: list[Literal["scores", "heads", "framing"]] = Field(default_factory=list)


class TrainConfig(Section):
    data: DataConfig
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()

    @model_validator(mode="after")
    def _replay_needs_init(self) -> TrainConfig:
        if self.data.replay and not self.model.init_from:
            raise ValueError(
                f"expected model.init_from with data.replay={self.data.replay} (replay mixes in the init model's "
                "own corpora), found none; set model.init_from: default, or data.replay: 0"
            )
        return self

    def data_root(self) -> Path:
        return Path(os.environ.get(DATA_ROOT_ENV) or self.data.root)


def parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(
            f"expected an override of the form section.key=value, found {item!r}; for example training.epochs=2"
        )
    key, raw = item.split("=", 1)
    return key.strip().lstrip("-").split("."), yaml.safe_load(raw)


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        keys, value = parse_override(item)
        node = raw
        for key in keys[:-1]:
            if isinstance(node, list):
                node = node[int(key)]
            else:
                node = node.setdefault(key, {})
        if isinstance(node, list):
            node[int(keys[-1])] = value
        else:
            node[keys[-1]] = value
    return raw


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"expected a YAML config file, found no file at {path}; see configs/default.yaml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"expected a YAML mapping at the top of {path}, found {type(raw).__name__}")
    raw = apply_overrides(raw, overrides or [])
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(
            f"invalid config {path}: {problems}. Fix the key or value; every allowed key is "
            "listed with a comment in configs/default.yaml"
        ) from None


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out |= _flat(value, f"{prefix}{key}.")
        return out
    if isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        out = {}
        for i, value in enumerate(node):
            out |= _flat(value, f"{prefix}{i}.")
        return out | {f"{prefix}len": len(node)}
    return {prefix.rstrip("."): node}


def config_differences(saved: dict, config: TrainConfig) -> list[str]:
    """`key: saved -> now` for every setting in which `config` differs from a run's saved config.
    The saved one is read with this version's defaults filled in, so a key added since it was
    written does not count as a change."""
    try:
        before = _flat(TrainConfig.model_validate(saved).model_dump())
    except ValidationError:
        return ["the saved config is not valid for this version of stance"]
    now = _flat(config.model_dump())
    return [
        f"{k}: {before.get(k)!r} -> {now.get(k)!r}"
        for k in sorted(set(before) | set(now))
        if before.get(k) != now.get(k)
    ]
