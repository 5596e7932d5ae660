"""A saved model's folder, read without torch: its config.json, checked against the heads this version knows.

The scoring path on ONNX Runtime reads a model through this module alone, so it never imports torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .defaults import FLAG_THRESHOLD
from .errors import ModelLoadError
from .heads import HEADS

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_NAME = "stance-multitask"
FORMAT_VERSION = 1


def read_model_config(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / CONFIG_NAME
    if not path.is_file():
        raise ModelLoadError(
            f"expected a stance model directory with {CONFIG_NAME}, found no such file in {model_dir}; "
            "train one with `stance train` or omit --model to use the default"
        )
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("format") != FORMAT_NAME:
        raise ModelLoadError(
            f"expected config.format={FORMAT_NAME!r} in {path}, found {config.get('format')!r}; "
            "this directory is not a stance model (a plain encoder goes in model.base_model of a training config)"
        )
    if config.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ModelLoadError(
            f"expected a model format version <= {FORMAT_VERSION} in {path}, found {config['format_version']}; "
            "the model was saved by a newer stance: upgrade stance-news to load it"
        )
    check_labels(config, path)
    return config


def check_labels(config: dict[str, Any], where: Path) -> None:
    """Every head the model has must be one this version knows, with the same labels. A head this
    version knows but the model lacks is fine: its output is simply absent from the records."""
    for name, spec in config.get("heads", {}).items():
        if name not in HEADS:
            raise ModelLoadError(
                f"{where}: expected heads from {list(HEADS)}, found a {name!r} head this version does not know; "
                "install the version of stance it was trained with, or register the head (stance.heads.register)"
            )
        if list(spec.get("labels") or []) != list(HEADS[name].labels):
            raise ModelLoadError(
                f"{where}: expected the {name} labels {list(HEADS[name].labels)}, found {spec.get('labels')}; this "
                "model was trained with a different label set. Retrain it with this version of stance, or install "
                "the version it was trained with"
            )


def plain_bert(encoder_config: dict[str, Any]) -> bool:
    """Is the encoder a plain BERT (the default MiniLM), which fast_bert runs and onnx_export exports?"""
    return (
        encoder_config.get("model_type") == "bert"
        and encoder_config.get("hidden_act") == "gelu"
        and encoder_config.get("position_embedding_type", "absolute") == "absolute"
    )


def framing_threshold(config: dict[str, Any]) -> float:
    """The framing flag's threshold the model was fitted with (heads.framing.threshold); models saved
    before stance 0.8 flag at 0.5."""
    return float((config.get("heads") or {}).get("framing", {}).get("threshold", FLAG_THRESHOLD))
