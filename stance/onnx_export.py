"""A model's ONNX file: exported from torch once, quantized for int8, cached by content.

`stance score` on the CPU runs the model on ONNX Runtime (engines.OnnxEngine). The first run with a
model exports it (a few seconds; needs torch, which is installed with stance anyway) into the cache
folder; every later run, in any process, loads the cached file without importing torch. The file
name is a hash of the model's config.json and weights, the precision and the export format, so a
retrained model, or a new stance with a different export, never picks up a stale file.

Cache folder: $STANCE_CACHE, else $XDG_CACHE_HOME/stance, else ~/.cache/stance. Concurrent exports
(Ray actors, cluster jobs) each write a temporary file and rename it into place, so a reader never
sees half a file.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from .errors import ModelLoadError
from .model_files import CONFIG_NAME, WEIGHTS_NAME

log = logging.getLogger("stance")

ONNX_PRECISIONS = ("fp32", "int8")
# Bump when the exported graph or the quantization recipe changes: old cache entries are then unused.
EXPORT_VERSION = 2
OPSET = 17
CACHE_ENV = "STANCE_CACHE"

# The int8 recipe, by torch module name: the layers that stay float32. The heads are small and
# their rounding goes straight into the outputs. Which recipe: the lever table in the README's speed
# section (scripts/backend_cost.py measures each on the validation splits).
INT8_KEEP_FLOAT = re.compile(r"^heads\.")
INT8_PER_CHANNEL = True  # one weight scale per output column rather than per matrix: less rounding


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stance"


def model_fingerprint(model_dir: Path, precision: str) -> str:
    digest = hashlib.sha256(f"stance-onnx-{EXPORT_VERSION}-{precision}".encode())
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        with (model_dir / name).open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:20]


def onnx_model(model_dir: str | Path, precision: str = "fp32") -> Path:
    """The cached ONNX file of `model_dir` at `precision`, exported first if it is not there yet."""
    if precision not in ONNX_PRECISIONS:
        raise ValueError(f"expected an ONNX precision in {ONNX_PRECISIONS}, found {precision!r}")
    model_dir = Path(model_dir)
    folder = cache_dir() / "onnx"
    path = folder / f"{model_dir.resolve().name}-{model_fingerprint(model_dir, precision)}-{precision}.onnx"
    if path.exists():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass  # writable?
    except OSError as exc:
        # Still works, but every run pays the export: say how to keep it.
        log.warning(
            "warning: cannot write the ONNX cache in %s (%s); exporting into a temporary folder for this run "
            "only. Set $%s to a writable folder to keep it",
            folder,
            exc,
            CACHE_ENV,
        )
        folder = Path(tempfile.mkdtemp(prefix="stance-onnx-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / path.name
    log.warning(
        "stance: preparing %s for ONNX Runtime (%s; once per model, a few seconds): %s", model_dir, precision, path
    )
    export_onnx(model_dir, path, precision)
    return path


def export_onnx(model_dir: str | Path, out: str | Path, precision: str = "fp32") -> Path:
    """Export the model in `model_dir` to the ONNX file `out` (written atomically)."""
    out = Path(out)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_fp32(Path(model_dir), fp32)
        if precision == "int8":
            final = Path(tmp) / "int8.onnx"
            quantize_int8(fp32, final)
        else:
            final = fp32
        os.replace(final, out)
    return out


def _export_fp32(model_dir: Path, out: Path) -> None:
    import torch

    from .modeling import HeadLogits, load_model

    model, _, config = load_model(model_dir, fast=True)
    if type(model.encoder).__name__ != "BertEncoder":
        raise ModelLoadError(
            f"expected a BERT-family encoder for the ONNX Runtime path, found {config['encoder_config'].get('model_type')!r} "
            f"in {model_dir}; score it with --backend torch"
        )
    graph = HeadLogits(model).eval()
    example = _example_inputs(model.mark_mentions)
    names = list(example)
    outputs = [h.name for h in model.head_specs]
    axes = {n: {0: "mentions" if n.startswith("mention") else "sentences"} for n in names}
    for n in names:
        if n != "mention_batch":
            axes[n][1] = "tokens"
    for h in model.head_specs:
        axes[h.name] = {0: "mentions" if h.level == "mention" else "sentences"} | (
            {1: "tokens"} if h.level == "token" else {}
        )
    # The mention head's "no mentions" branch is traced as not taken: the engine always feeds one.
    # The TorchScript exporter (deprecated in favour of torch.export, which needs onnxscript) traces
    # this plain graph exactly; tests/test_engines.py checks the result against torch.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            graph,
            tuple(torch.from_numpy(v) for v in example.values()),
            str(out),
            dynamo=False,  # the TorchScript exporter: no onnxscript needed, and dynamic axes as declared
            input_names=names,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
        )
    import onnx

    # What the engine needs besides the graph (fitted after training), and what quantization reads.
    exported = onnx.load(str(out))
    _set_props(
        exported,
        {
            "framing_temperature": str(float(model.framing_temperature)),
            "loaded_threshold": str(float(model.loaded_threshold)),
            "precision": "fp32",
            "stance_export_version": str(EXPORT_VERSION),
            "source": str(model_dir),
            "weight_modules": json.dumps(weight_modules(exported.graph, graph)),
        },
    )
    onnx.save(exported, str(out))


def _example_inputs(mark_mentions: bool) -> dict:
    import numpy as np

    inputs = {
        "input_ids": np.array([[2, 7, 8, 9, 3], [2, 7, 3, 0, 0]], dtype=np.int64),
        "attention_mask": np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=np.int64),
        "mention_weights": np.array([[0, 0.5, 0.5, 0, 0], [0, 1, 0, 0, 0]], dtype=np.float32),
        "mention_batch": np.array([0, 1], dtype=np.int64),
    }
    if mark_mentions:
        inputs["token_type_ids"] = np.array([[0, 1, 1, 0, 0], [0, 1, 0, 0, 0]], dtype=np.int64)
    return inputs


def quantize_int8(
    fp32: Path, out: Path, keep_float: re.Pattern | None = INT8_KEEP_FLOAT, per_channel: bool = INT8_PER_CHANNEL
) -> None:
    """ONNX Runtime dynamic quantization: int8 weights, activations quantized per batch on the fly.
    MatMuls and Gemms whose torch module name (export's `weight_modules`) matches `keep_float` stay float32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32))
    modules = matmul_modules(graph)
    # The quantizer turns a Gemm into a MatMul named "<gemm>_MatMul" before it reads the exclusions.
    excluded = [
        n
        for node, module in modules.items()
        if keep_float is not None and keep_float.search(module)
        for n in (node, f"{node}_MatMul")
    ]
    meta = {p.key: p.value for p in graph.metadata_props}
    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # its advice to pre-process applies to static quantization
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=excluded,
            per_channel=per_channel,
        )
    finally:
        root.setLevel(level)
    model = onnx.load(str(out))
    del model.metadata_props[:]
    _set_props(model, meta | {"precision": "int8", "int8_float_nodes": str(len(excluded))})
    onnx.save(model, str(out))


def weight_modules(graph, model) -> dict[str, str]:
    """The torch module (a Linear, by name: "encoder.encoder.layer.0.attention.self.query") of each
    MatMul and Gemm in an exported graph. Matched by weight values: the exporter mangles node names
    and shares equal initializers (BERT's key biases never train), but every weight matrix is its own."""
    import numpy as np
    import torch
    from onnx import numpy_helper

    by_value = {}
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            weight = module.weight.detach().float().numpy()
            by_value[np.ascontiguousarray(weight.T).tobytes()] = name  # MatMul: x @ W^T
            by_value[weight.tobytes()] = name  # Gemm with transB
    initializers = {i.name: i for i in graph.initializer}
    out = {}
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm") and node.input[1] in initializers:
            array = numpy_helper.to_array(initializers[node.input[1]])
            module = by_value.get(np.ascontiguousarray(array).tobytes())
            if module is not None:
                out[node.name] = module.removeprefix("model.")
    return out


def matmul_modules(model) -> dict[str, str]:
    """The node -> module map that export stored in the file's metadata."""
    props = {p.key: p.value for p in model.metadata_props}
    return json.loads(props.get("weight_modules", "{}"))


def _set_props(model, values: dict[str, str]) -> None:
    for key, value in values.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
