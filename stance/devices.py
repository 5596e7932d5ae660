"""Device names, checked before any model loads (and without importing torch when no GPU is named)."""

from __future__ import annotations

import re

PRECISIONS = ("auto", "fp32", "int8", "fp16", "bf16")
DEVICE_FORM = re.compile(r"auto|cpu|mps|cuda(?::\d+)?")


def check_device(device: str) -> str:
    """A device the user named, checked before any model loads: auto, cpu, cuda, cuda:N or mps."""
    if not DEVICE_FORM.fullmatch(device):
        raise ValueError(f"expected --device auto, cpu, cuda, cuda:N or mps, found {device!r}")
    if device in ("auto", "cpu"):
        return device  # no torch import: usage errors come back at once
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"expected a CUDA GPU for --device {device}, found none on this machine "
                "(or a CPU-only torch build); use --device cpu or auto"
            )
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"expected --device {device} to name one of the {torch.cuda.device_count()} GPUs "
                f"here (cuda:0 to cuda:{torch.cuda.device_count() - 1}), found no such GPU"
            )
    if device == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("expected an Apple GPU for --device mps, found none; use --device cpu or auto")
    return device


def resolve_device(device: str, local_rank: int = 0) -> str:
    """A concrete device for `device`: auto picks CUDA, then Apple's MPS, then the CPU. Under torchrun a
    bare `cuda` means this process's GPU (LOCAL_RANK)."""
    check_device(device)
    import torch

    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    if device == "cuda":
        device = f"cuda:{local_rank}"
    return device


def distributed_backend(device: str) -> str:
    """The process-group backend for a device: NCCL between GPUs, gloo between CPU processes."""
    return "nccl" if device.startswith("cuda") else "gloo"


TRAINING_PRECISIONS = ("auto", "fp32", "bf16")


def training_autocast(device: str, precision: str = "auto"):
    """The autocast context of a training step. auto: mixed precision on a GPU (bf16 where supported,
    else fp16), float32 on CPU and MPS; fp32: none anywhere; bf16: bf16 autocast on a GPU or a CPU
    (2.5-3x faster per step on a CPU with AVX512-BF16, scripts/train_step_cost.py)."""
    import contextlib

    import torch

    if precision == "fp32" or (precision == "auto" and not device.startswith("cuda")):
        return contextlib.nullcontext()
    if precision == "bf16":
        return torch.autocast("cuda" if device.startswith("cuda") else "cpu", dtype=torch.bfloat16)
    return torch.autocast("cuda", dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)


def needs_grad_scaler(device: str, precision: str = "auto") -> bool:
    """fp16 autocast needs loss scaling; bf16 and float32 do not."""
    import torch

    return precision == "auto" and device.startswith("cuda") and not torch.cuda.is_bf16_supported()
