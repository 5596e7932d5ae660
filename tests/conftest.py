"""Shared fixtures: a tiny random BERT (2 layers, hidden size 32) saved as a local base model."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# ONNX exports of test models go to a folder of this session, never into the user's cache.
if "STANCE_CACHE" not in os.environ:
    os.environ["STANCE_CACHE"] = tempfile.mkdtemp(prefix="stance-test-cache-")
    atexit.register(shutil.rmtree, os.environ["STANCE_CACHE"], True)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(os.environ.get("STANCE_DATA", REPO.parent / "shared" / "data"))
DEFAULT_MODEL = REPO / "models" / "default"

WORDS = """the a an of to in and is was were be been he she it they we you i said says
that this these those with for on at by from as but or not no yes will would could should
president government minister police army troops group leader country city people report
reported according told warned claimed attack attacked killed assassinated occupiers occupation
radical extremist corrupt disastrous shameful brave heroic outrageous lies liar thugs regime
terrorist terrorists militia resistance commander pretext debunked later anti terror
us iraq iran united states american washington baghdad bases base military soldiers
new year on monday tuesday wednesday percent million budget vote votes voted law bill
trump biden obama clinton democrats republicans congress senate court judge
good bad great terrible horrible excellent wonderful awful clearly obviously
economy rose fell market prices inflation rate rates bank central""".split()


def build_tiny_base(path: Path) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = (
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + sorted(set(WORDS))
        + list(".,;:!?'\"-()")
        + ["##s", "##ed", "##ing", "##ly", "##er"]
    )
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(path))
    return path


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    return build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))


def needs_shared_data(*parts: str):
    path = SHARED_DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"needs the labelled corpora at {path}")


def tiny_config(tmp_path: Path, base: Path, **training) -> Path:
    import yaml

    config = {
        "data": {
            "root": str(FIXTURES),
            "validation_fraction": 0.5,
            "datasets": [
                {"adapter": "babe", "path": "babe", "split": "validation"},
                {"adapter": "mbic", "path": "mbic", "split": "train"},
                {"adapter": "checkthat", "path": "checkthat", "split": "train"},
                {"adapter": "ptc", "path": "ptc"},
                {"adapter": "newsmtsc", "path": "newsmtsc/train.jsonl", "split": "train"},
            ],
        },
        "model": {"base_model": str(base), "max_length": 48, "freeze_embeddings": True, "save_dtype": "float16"},
        "training": {"epochs": 2, "batch_size": 2, "checkpoint_every": 1, "log_every": 1, "patience": 5} | training,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_base) -> Path:
    """A tiny model trained by the real `stance train` command on the fixture corpora. It has no
    attribution head, so its voice comes from the rules and tests can state it (tests/test_heads.py
    trains one with the head)."""
    from typer.testing import CliRunner

    from stance.cli import app

    tmp = tmp_path_factory.mktemp("train")
    result = CliRunner().invoke(app, ["train", str(tiny_config(tmp, tiny_base)), "-o", str(tmp / "run")])
    assert result.exit_code == 0, result.output
    return tmp / "run"
