"""`stance score --engine ray`: the same scoring on Ray Data, for corpora beyond one machine.

    files (driver lists them, as the local engine does)
      -> flat_map: read each file into documents        (any worker; files must be on a shared filesystem)
      -> map_batches(ScoreActor): actor pool, the model is loaded once per actor
      -> map_batches(ShardWriter): JSONL or Parquet shards in the output folder

Records are identical to the local engine's; shards are unordered, and each shard holds whole
documents in input order. Ray is an optional extra: `pip install '.[ray]'`.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .documents import Document, ReadOptions, expand_paths, read_documents
from .errors import InputError
from .heads import HEADS
from .options import ModelOptions, ScoreOptions
from .records import count_errors, flat_columns, to_jsonl
from .targets import Target


def _require_ray():
    try:
        import ray
    except ImportError:
        raise InputError("expected Ray for --engine ray, found it not installed; run pip install '.[ray]'") from None
    return ray


def _read_file(row: dict[str, Any], options: ReadOptions) -> list[dict]:
    docs = read_documents([row["path"]], options)
    return [
        {"order": row["order"], "sub": j, "doc": json.dumps(asdict(doc), ensure_ascii=False)}
        for j, doc in enumerate(docs)
    ]


class ScoreActor:
    """One model per actor: loaded in __init__, reused for every batch the actor receives."""

    def __init__(self, model: ModelOptions, targets: tuple[Target, ...], threads: int) -> None:
        from .scoring import Scorer

        # This actor's CPU share, not every core of the node. With a GPU (Ray sets CUDA_VISIBLE_DEVICES
        # to the actor's), `--device auto` finds it and the model runs there.
        os.environ["OMP_NUM_THREADS"] = str(threads)
        self.scorer = Scorer.from_options(replace(model, threads=threads))
        self.targets = list(targets)

    def __call__(self, batch):
        import pandas as pd

        docs = [Document(**json.loads(d)) for d in batch["doc"]]
        lines, failed = [], []
        for _, records in self.scorer.score_documents(docs, self.targets):
            lines.append(to_jsonl(records))
            failed.append(count_errors(records))
        return pd.DataFrame(
            {"order": list(batch["order"]), "sub": list(batch["sub"]), "lines": lines, "failed": failed}
        )


class ShardWriter:
    def __init__(self, out_dir: str, fmt: str, columns: list[str]) -> None:
        self.out_dir, self.fmt, self.columns = Path(out_dir), fmt, columns

    def __call__(self, batch):
        import pandas as pd

        from .output import read_jsonl, write_parquet

        rows = sorted(zip(batch["order"], batch["sub"], batch["lines"], batch["failed"]))
        name = f"part-{uuid.uuid4().hex[:12]}"
        text = "".join(row[2] for row in rows)
        tmp = self.out_dir / f".{name}.jsonl.tmp"
        tmp.write_text(text, encoding="utf-8")
        if self.fmt == "parquet":
            final = self.out_dir / f"{name}.parquet"
            write_parquet(read_jsonl(tmp), final.with_suffix(".parquet.tmp"), self.columns)
            os.replace(final.with_suffix(".parquet.tmp"), final)
            tmp.unlink()
        else:
            final = self.out_dir / f"{name}.jsonl"
            os.replace(tmp, final)  # a shard appears whole or not at all
        return pd.DataFrame({"shard": [str(final)], "documents": [len(rows)], "failed": [int(sum(r[3] for r in rows))]})


def _columns(model: ModelOptions) -> list[str]:
    """The flat columns of the model's records, read from its config.json (the driver loads no model)."""
    from .modeling import read_model_config
    from .scoring import default_model_path

    heads = read_model_config(model.model_dir or default_model_path())["heads"]
    return flat_columns(HEADS[name].record_field for name in heads if name in HEADS)


IO_CPUS = 0.5  # kept free for the read and write stages


def actor_cpus(cluster_cpus: float, num_actors: int, wanted: float) -> float:
    """CPUs per scoring actor, leaving room for reading and writing: actors that took every CPU
    would starve those stages and the pipeline would stall."""
    return max(0.1, min(wanted, (cluster_cpus - IO_CPUS) / max(1, num_actors)))


def actor_resources(cpus: float, gpus: float) -> dict[str, float]:
    """Ray resources of one scoring actor: its CPU share, and its GPU share when --gpus-per-actor asks."""
    return {"num_cpus": cpus} | ({"num_gpus": gpus} if gpus > 0 else {})


def score_with_ray(run: ScoreOptions, docs_per_batch: int = 64, cpus_per_actor: float = 1.0) -> dict:
    """Score on Ray; returns {"documents", "failed", "shards"}."""
    paths, out_dir, fmt, options = list(run.paths), run.output, run.format, run.read
    if fmt not in ("jsonl", "parquet"):
        raise InputError(f"expected --format jsonl or parquet with --engine ray, found {fmt!r}")
    if "-" in paths:
        raise InputError("expected files or folders with --engine ray, found - (stdin); use the local engine")
    ray = _require_ray()
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.glob("part-*")):
        raise InputError(
            f"expected an empty output folder for --engine ray, found shards in {out_dir}; pass a new -o folder"
        )
    files = expand_paths(paths, options.glob)
    if not files:
        return {"documents": 0, "failed": 0, "shards": []}
    if not ray.is_initialized():
        ray.init(
            address=run.ray_address or os.environ.get("RAY_ADDRESS"),
            ignore_reinit_error=True,
            include_dashboard=False,
            log_to_driver=False,
        )
    cpus_per_actor = actor_cpus(ray.cluster_resources().get("CPU", 1.0), run.num_actors, cpus_per_actor)
    ds = ray.data.from_items([{"path": str(f), "order": i} for i, f in enumerate(files)])
    # Reading and writing are I/O: small CPU shares, so they never starve behind the scoring actors.
    ds = ds.flat_map(_read_file, fn_kwargs={"options": options}, num_cpus=0.25)
    ds = ds.map_batches(
        ScoreActor,
        fn_constructor_kwargs={
            "model": run.model,
            "targets": run.targets,
            "threads": max(1, int(cpus_per_actor)),
        },
        batch_size=docs_per_batch,
        batch_format="pandas",
        concurrency=run.num_actors,
        **actor_resources(cpus_per_actor, run.gpus_per_actor),
    )
    ds = ds.map_batches(
        ShardWriter,
        fn_constructor_kwargs={"out_dir": str(out_dir.resolve()), "fmt": fmt, "columns": _columns(run.model)},
        batch_size=docs_per_batch * 4,
        batch_format="pandas",
        concurrency=1,
        num_cpus=0.25,
    )
    written = ds.take_all()
    return {
        "documents": int(sum(r["documents"] for r in written)),
        "failed": int(sum(r["failed"] for r in written)),
        "shards": sorted(r["shard"] for r in written),
    }
