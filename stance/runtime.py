"""Where and how the model runs: device, threads, numeric precision, and a prefetching pipeline."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import torch

from .devices import PRECISIONS, check_device

T = TypeVar("T")


def cpu_has_bf16() -> bool:
    """Does oneDNN have native bf16 matmuls here (AVX512-BF16 or AMX)? Elsewhere bf16 is emulated and slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass
class Runtime:
    device: torch.device
    precision: str

    @classmethod
    def choose(cls, device: str = "auto", precision: str = "auto") -> Runtime:
        if precision not in PRECISIONS:
            raise ValueError(f"expected a precision in {PRECISIONS}, found {precision!r}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        check_device(device)
        dev = torch.device(device)
        if precision == "auto":
            # On CPU: bf16 autocast where the hardware does bf16 natively (lossless on our validation
            # splits and the fastest), else selective int8 (< 1 point, see the model card).
            # GPUs take half precision.
            if dev.type == "cpu":
                precision = "bf16" if cpu_has_bf16() else "int8"
            else:
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if dev.type == "cpu" and precision == "fp16":
            raise ValueError("expected --precision fp32, int8 or bf16 on CPU, found fp16; use a GPU for fp16")
        if dev.type != "cpu" and precision == "int8":
            raise ValueError("expected --precision fp16, bf16 or fp32 on a GPU, found int8 (a CPU-only path)")
        if dev.type == "cpu":
            use_all_cores()
        return cls(dev, precision)

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        model.eval()
        if self.precision == "int8":
            return quantize_int8(model)
        model = model.to(self.device)
        if self.device.type != "cpu" and self.precision in ("fp16", "bf16"):
            # predict() casts the logits back to float32.
            model = model.to(torch.float16 if self.precision == "fp16" else torch.bfloat16)
        return model

    def autocast(self):
        """CPU bf16 runs as autocast: weights stay float32, matmuls run in bf16."""
        if self.device.type == "cpu" and self.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def use_all_cores() -> None:
    """Intra-op threads on every core; torch's default can be lower inside containers."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(cores)


# Layers whose inputs are well-behaved (layer-normed hidden states): query/key/value and the FFN
# up-projection. The attention-output and FFN down-projections read wide-range activations
# (attention mixtures, GELU outputs); quantizing them too cost 1.2-2.5 points of F1 on our
# validation splits, against < 1 point for this selection (see the model card).
QUANTIZABLE = re.compile(
    r"(query|key|value|q_proj|k_proj|v_proj|q_lin|k_lin|v_lin|attn\.[qkv]|"
    r"intermediate\.dense|lin1|fc1|up_proj|gate_proj)$"
)


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantization (int8 weights, activations quantized on the fly) of the encoder's
    query/key/value and FFN up-projection layers; everything else stays float32."""
    from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

    spec = {
        name: default_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and QUANTIZABLE.search(name)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices about the torchao migration
        return quantize_dynamic(model, spec, dtype=torch.qint8)


_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Produce `items` in a background thread, at most `depth` ahead of the consumer.

    Tokenizers and torch both release the GIL, so preparing the next chunk overlaps with the
    model's forward pass. An exception in the producer is re-raised in the consumer.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                box.put(item)
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            box.put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="stance-prefetch")
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                box.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)
