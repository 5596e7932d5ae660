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
