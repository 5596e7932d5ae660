"""`--engine ray` on a local Ray gives exactly the records of the local engine."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stance.cli import app

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install '.[ray]'")
runner = CliRunner()


def records(lines: list[str]) -> list[dict]:
    out = [json.loads(x) for x in lines if x.strip()]
    return sorted(out, key=lambda r: (r["path"], r["record"] != "sentence", r.get("sentence_index", 0)))


def test_ray_engine_matches_local_engine(trained, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        (docs / f"d{i}.txt").write_text(
            f'Title {i}\n\nThe regime attacked the city. "They are thugs," said the mayor. '
            f"Washington said {i} people died."
        )
    (docs / "feed.jsonl").write_text(
        json.dumps({"id": "j1", "text": "Trump praised Biden.", "targets": ["Biden"]}) + "\n{broken\n"
    )
    (docs / "empty.txt").write_text("")
    common = ["-m", str(trained / "model"), "--target", "United States=US,Washington", "--precision", "fp32"]
    local = tmp_path / "local.jsonl"
    r1 = runner.invoke(app, ["score", str(docs), "-o", str(local), *common])
    assert r1.exit_code == 1, r1.output  # the broken line and the empty file fail, the rest is scored
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        shards = tmp_path / "shards"
        r2 = runner.invoke(
            app, ["score", str(docs), "-o", str(shards), "--engine", "ray", "--num-actors", "1", *common]
        )
        assert r2.exit_code == 1, r2.output
        ray_lines = [line for shard in sorted(shards.glob("part-*.jsonl")) for line in shard.read_text().splitlines()]
        assert records(ray_lines) == records(local.read_text().splitlines())
        parquet = tmp_path / "pq"
        r3 = runner.invoke(
            app,
            [
                "score",
                str(docs),
                "-o",
                str(parquet),
                "--engine",
                "ray",
                "--format",
                "parquet",
                "--num-actors",
                "2",
                *common,
            ],
        )
        assert r3.exit_code == 1, r3.output
        import pandas as pd

        frame = pd.concat(pd.read_parquet(p) for p in parquet.glob("part-*.parquet"))
        assert (frame["record"] == "sentence").sum() == sum(1 for x in ray_lines if '"record": "sentence"' in x)
    finally:
        ray.shutdown()


def test_actor_cpu_share_leaves_room_for_io():
    from stance.ray_engine import IO_CPUS, actor_cpus

    assert actor_cpus(2, 2, 1.0) * 2 <= 2 - IO_CPUS
    assert actor_cpus(64, 8, 1.0) == 1.0


def test_actor_resources_ask_for_a_gpu_only_when_told():
    from stance.ray_engine import actor_resources

    assert actor_resources(1.0, 0.0) == {"num_cpus": 1.0}
    assert actor_resources(2.0, 0.5) == {"num_cpus": 2.0, "num_gpus": 0.5}
