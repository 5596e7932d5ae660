"""`stance train` under torchrun: two CPU processes (gloo) train in lockstep and save one model."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import build_tiny_base, tiny_config


def run_train(args: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )


def test_two_gloo_processes_train_in_lockstep_and_save(tmp_path):
    base = build_tiny_base(tmp_path / "base")
    config = tiny_config(tmp_path, base, epochs=2, patience=100)
    single = run_train(
        [sys.executable, "-m", "stance.cli", "train", str(config), "-o", str(tmp_path / "one")], tmp_path
    )
    assert single.returncode == 0, single.stderr[-3000:]
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "--module",
        "stance.cli",
        "train",
        str(config),
        "-o",
        str(tmp_path / "two"),
    ]
    double = run_train(launch, tmp_path)
    assert double.returncode == 0, double.stderr[-3000:]

    def log(run: str) -> list[dict]:
        return [json.loads(x) for x in (tmp_path / run / "train_log.jsonl").read_text().splitlines()]

    one_start, two_start = log("one")[0], log("two")[0]
    two_end = [r for r in log("two") if r.get("event") == "end"][-1]
    assert two_start["world_size"] == 2 and one_start["world_size"] == 1
    # Each process takes every second batch: half the steps per epoch, the same in both processes.
    assert two_start["total_steps"] == (one_start["steps_per_epoch"] // 2) * 2
    assert two_end["step"] == two_start["total_steps"]
    assert (tmp_path / "two" / "model" / "model.safetensors").exists()
    assert json.loads((tmp_path / "two" / "model" / "config.json").read_text())["format"] == "stance-multitask"


def test_backend_and_mixed_precision_follow_the_device():
    import contextlib

    from stance.devices import distributed_backend, resolve_device, training_autocast

    assert distributed_backend("cpu") == "gloo" and distributed_backend("cuda:1") == "nccl"
    assert isinstance(training_autocast("cpu"), contextlib.nullcontext)
    assert resolve_device("cpu") == "cpu"
    import torch

    if torch.cuda.is_available():
        assert resolve_device("cuda", local_rank=0) == "cuda:0"
        assert not isinstance(training_autocast("cuda:0"), contextlib.nullcontext)


def test_train_takes_a_device(tmp_path):
    from typer.testing import CliRunner

    from stance.cli import app

    base = build_tiny_base(tmp_path / "base")
    config = tiny_config(tmp_path, base, epochs=1)
    bad = CliRunner().invoke(app, ["train", str(config), "-o", str(tmp_path / "x"), "--device", "gpu"])
    assert bad.exit_code == 2 and "expected --device" in bad.output
    good = CliRunner().invoke(app, ["train", str(config), "-o", str(tmp_path / "run"), "--device", "cpu"])
    assert good.exit_code == 0, good.output
