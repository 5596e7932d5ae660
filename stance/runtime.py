"""Where and how the model runs: backend, device, threads, numeric precision, and a prefetching pipeline.

Two backends (engines.py): ONNX Runtime on the CPU, which needs no torch import (start-up) and has
VNNI int8 kernels (throughput), and torch for GPUs, other architectures and bf16. torch is imported
only when the torch backend is chosen.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import re
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .devices import PRECISIONS, check_device
from .model_files import plain_bert

T = TypeVar("T")
BACKENDS = ("auto", "onnx", "torch")
# What `--precision auto` means on the ONNX backend (measured: the README's speed section).
ONNX_AUTO_PRECISION = "int8"


def cpu_has_bf16() -> bool:
    """Does oneDNN have native bf16 matmuls here (AVX512-BF16 or AMX)? Elsewhere bf16 is emulated and slow."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def gpu_may_exist() -> bool:
    """Could torch find a GPU here? Answered without importing torch: an NVIDIA driver, or a Mac (MPS)."""
    return Path("/proc/driver/nvidia/version").exists() or sys.platform == "darwin"


def onnx_unavailable(device: str, precision: str, config: dict[str, Any] | None) -> str | None:
    """Why the ONNX backend cannot run this model here, or None when it can."""
    if device not in ("auto", "cpu"):
        return f"the ONNX backend runs on the CPU, found --device {device}; use --backend torch for GPUs"
    if precision not in ("auto", "fp32", "int8"):
        return f"the ONNX backend runs fp32 or int8, found --precision {precision}; use --backend torch for it"
    if importlib.util.find_spec("onnxruntime") is None:
        return "the ONNX backend needs onnxruntime, found it not installed; run `pip install onnxruntime`"
    if config is not None and not plain_bert(config.get("encoder_config", {})):
        kind = config.get("encoder_config", {}).get("model_type")
        return f"the ONNX backend exports BERT-family encoders, found {kind!r}; use --backend torch"
    return None


@dataclass
class Runtime:
    device: Any  # a torch.device on the torch backend; "cpu" on ONNX
    precision: str
    backend: str = "torch"

    @classmethod
    def choose(
        cls, device: str = "auto", precision: str = "auto", backend: str = "auto", config: dict | None = None
    ) -> Runtime:
        """`config` is the model's config.json: the ONNX backend needs a BERT-family encoder."""
        if precision not in PRECISIONS:
            raise ValueError(f"expected a precision in {PRECISIONS}, found {precision!r}")
        if backend not in BACKENDS:
            raise ValueError(f"expected --backend in {', '.join(BACKENDS)}, found {backend!r}")
        if backend != "torch":
            why_not = onnx_unavailable(device, precision, config)
            if backend == "onnx" and why_not:
                raise ValueError(f"expected a model and options the ONNX backend can run: {why_not}")
            # auto: ONNX on the CPU, unless a GPU may be there to use (torch then looks for it).
            if not why_not and not (device == "auto" and gpu_may_exist()):
                return cls("cpu", ONNX_AUTO_PRECISION if precision == "auto" else precision, "onnx")
        return cls._choose_torch(device, precision)

    @classmethod
    def _choose_torch(cls, device: str, precision: str) -> Runtime:
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        check_device(device)
        dev = torch.device(device)
        if precision == "auto":
            # On CPU: bf16 autocast where the hardware does bf16 natively (lossless on our validation
            # splits), else selective int8 (< 1 point, see the model card). GPUs take half precision.
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
        return cls(dev, precision, "torch")

    def load(self, model_dir: str | Path, config: dict[str, Any], threads: int | None = None):
        """(engine, tokenizer) for the model in `model_dir`, whose config.json is `config`; `threads`
        caps the CPU threads (a Ray actor's share), default every core."""
        from .engines import OnnxEngine, TorchEngine

        if self.backend == "onnx":
            from .onnx_export import onnx_model
            from .tokenizer import scoring_tokenizer

            engine = OnnxEngine(onnx_model(model_dir, self.precision), config, threads)
            return engine, scoring_tokenizer(model_dir, config)
        from .modeling import load_model

        if threads and self.device.type == "cpu":
            import torch

            torch.set_num_threads(threads)
        model, tokenizer, _ = load_model(model_dir, fast=True)
        return TorchEngine(self.prepare(model), self.device, self.autocast), tokenizer

    def prepare(self, model):
        model.eval()
        if self.precision == "int8":
            return quantize_int8(model)
        model = model.to(self.device)
        if self.device.type != "cpu" and self.precision in ("fp16", "bf16"):
            import torch

            # The engine casts the logits back to float32.
            model = model.to(torch.float16 if self.precision == "fp16" else torch.bfloat16)
        return model

    def autocast(self):
        """CPU bf16 runs as autocast: weights stay float32, matmuls run in bf16."""
        if self.backend == "torch" and self.device.type == "cpu" and self.precision == "bf16":
            import torch

            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def use_all_cores() -> None:
    """Intra-op threads on every core; torch's default can be lower inside containers."""
    import torch

    from .engines import available_cores

    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(available_cores())


# Layers whose inputs are well-behaved (layer-normed hidden states): query/key/value and the FFN
# up-projection. The attention-output and FFN down-projections read wide-range activations
# (attention mixtures, GELU outputs); quantizing them too cost 1.2-2.5 points of F1 on our
# validation splits, against < 1 point for this selection (see the model card).
QUANTIZABLE = re.compile(
    r"(query|key|value|q_proj|k_proj|v_proj|q_lin|k_lin|v_lin|attn\.[qkv]|"
    r"intermediate\.dense|lin1|fc1|up_proj|gate_proj)$"
)


def quantize_int8(model):
    """Dynamic int8 quantization (int8 weights, activations quantized on the fly) of the encoder's
    query/key/value and FFN up-projection layers; everything else stays float32."""
    import torch
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
