"""What runs the network: one `run(inputs) -> logits per head` interface over torch and ONNX Runtime.

Everything around the network (batching, span decoding, records) works on numpy arrays, so the two
engines are interchangeable:
- `TorchEngine`: a StanceModel on any torch device, in the precision its Runtime prepared. Training,
  evaluation and GPUs use it.
- `OnnxEngine`: the same network exported to ONNX (onnx_export.py), on ONNX Runtime's CPU kernels.
  It needs neither torch nor transformers, which is what makes a short `stance score` start in well
  under a second, and its int8 kernels use the CPU's VNNI instructions.

Both expose what the heads read while decoding: `head_specs`, `mark_mentions`, `framing_temperature`
and `loaded_threshold`, and the framing flag's `framing_threshold` that evaluation reports at.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .heads import heads_named
from .model_files import framing_threshold

Inputs = dict[str, np.ndarray]


class TorchEngine:
    def __init__(self, model, device=None, autocast: Callable[[], Any] | None = None) -> None:
        model.eval()  # training switches back to train() after each validation
        self.model = model
        self.head_specs = list(model.head_specs)
        self.mark_mentions = bool(model.mark_mentions)
        # Read at each predict(): training recalibrates these on the live model.
        self.framing_temperature = float(model.framing_temperature)
        self.loaded_threshold = float(model.loaded_threshold)
        self.framing_threshold = float(getattr(model, "framing_threshold", 0.5))
        self.device = device if device is not None else next(model.parameters()).device
        self.autocast = autocast or contextlib.nullcontext
        self.mention_dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)

    def run(self, inputs: Inputs) -> dict[str, np.ndarray]:
        import torch

        tensors = {k: torch.from_numpy(v).to(self.device) for k, v in inputs.items()}
        tensors["mention_weights"] = tensors["mention_weights"].to(self.mention_dtype or torch.float32)
        with torch.inference_mode(), self.autocast():
            out = self.model(**tensors)
        # One host copy per head; float32 whatever the compute precision.
        return {h.name: out[h.name].float().cpu().numpy() for h in self.head_specs if h.name in out}


class OnnxEngine:
    """An exported model (onnx_export.export_onnx) on ONNX Runtime's CPU execution provider."""

    def __init__(self, path: str | Path, config: dict[str, Any], threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cores()
        options.log_severity_level = 3  # warnings about unused initializers are noise on the CLI
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.head_specs = heads_named(config.get("heads", {}))
        self.mark_mentions = bool(config.get("mark_mentions", False))
        self.framing_temperature = float(meta.get("framing_temperature", 1.0))
        self.loaded_threshold = float(meta.get("loaded_threshold", 0.5))
        self.framing_threshold = framing_threshold(config)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, inputs: Inputs) -> dict[str, np.ndarray]:
        # A model without a mention head has no mention inputs: the exporter drops unused inputs.
        feeds = {k: v for k, v in inputs.items() if k in self.input_names}
        no_mentions = inputs["mention_weights"].shape[0] == 0 and "mention_weights" in feeds
        if no_mentions:
            # The graph always computes the mention heads; give it one empty mention and drop its output.
            feeds["mention_weights"] = np.zeros((1, feeds["input_ids"].shape[1]), dtype=np.float32)
            feeds["mention_batch"] = np.zeros(1, dtype=np.int64)
        out = dict(zip(self.output_names, self.session.run(None, feeds)))
        if no_mentions:
            for head in self.head_specs:
                if head.level == "mention":
                    out.pop(head.name, None)
        return out


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def as_engine(model, device=None):
    """An engine as is; a torch StanceModel wrapped in a TorchEngine (evaluation and training pass models)."""
    return model if hasattr(model, "run") and hasattr(model, "head_specs") else TorchEngine(model, device)
