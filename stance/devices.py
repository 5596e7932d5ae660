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
