"""The typed options of a scoring run, carried whole from the CLI to the local and Ray engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .defaults import MAX_BATCH_TOKENS
from .documents import ReadOptions
from .targets import Target


@dataclass(frozen=True)
class ModelOptions:
    """How the model scores: everything a `Scorer` is built from (one per process or Ray actor)."""

    model_dir: str | None = None  # None: the shipped model, or $STANCE_MODEL
    threshold: float | None = None  # framing flag threshold; None: the default
    batch_size: int = 64
    max_batch_tokens: int = MAX_BATCH_TOKENS
    auto_targets: int = 5  # targets picked per article when none are given
    device: str = "auto"
    precision: str = "auto"
    backend: str = "auto"  # onnx (CPU, no torch import), torch, or auto: ONNX on the CPU where it can run
    workers: int = 0  # processes that prepare documents and build records around the one model; 0: threads
    threads: int | None = None  # the model's CPU threads; None: every core
    aliases: str | None = None  # alias table file; None: the shipped table
    alternatives: str | None = None  # neutral-alternatives lexicon; None: the shipped configs/alternatives.yaml


@dataclass(frozen=True)
class ScoreOptions:
    """One `stance score` run."""

    paths: tuple[str, ...]
    model: ModelOptions = field(default_factory=ModelOptions)
    read: ReadOptions = field(default_factory=ReadOptions)
    targets: tuple[Target, ...] = ()
    output: Path | None = None  # a file (local engine) or a folder of shards (Ray); None: stdout
    format: str = "jsonl"
    resume: bool = False
    force: bool = False
    progress: bool | None = None  # None: on a terminal
    quiet: bool = False
    summary_json: Path | None = None
    engine: str = "local"
    ray_address: str | None = None
    num_actors: int = 2
    gpus_per_actor: float = 0.0  # Ray: GPUs per scoring actor (a fraction shares one GPU between actors)
