"""Multi-process training under `torchrun` or `accelerate launch` (plain torch.distributed).

With one process every function here is a no-op, so the training loop reads the same either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


def init(backend: str = "gloo") -> None:
    """Join the process group when launched by torchrun; `backend` matches the device (see devices.py)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group(backend=backend)


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def shutdown() -> None:
    """Wait for every process (rank 0 finalises the model meanwhile), then tear the group down.
    Exiting with a live gloo group aborts the process ("terminate called without an active exception")."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def broadcast(value: T) -> T:
    """Rank 0's value on every process (e.g. the early-stopping decision, made on rank 0 only)."""
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shard(batches: Sequence[T]) -> list[T]:
    """Every process takes every n-th batch; all get the same number, so steps stay in lockstep."""
    n = world_size()
    usable = len(batches) - len(batches) % n if len(batches) >= n else len(batches)
    return list(batches[rank() : usable : n])


def wrap(model: torch.nn.Module, device: str = "cpu") -> torch.nn.Module:
    if not dist.is_initialized():
        return model
    if device.startswith("cuda"):
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=[torch.device(device).index])
    return torch.nn.parallel.DistributedDataParallel(model)


def progress_bar(total: int, initial: int = 0, desc: str = "train"):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", disable=not is_main(), dynamic_ncols=True)


def echo(line: str) -> None:
    """A line for the terminal from the main process, printed above any progress bar."""
    if is_main():
        from tqdm.auto import tqdm

        tqdm.write(line, file=sys.stderr)
