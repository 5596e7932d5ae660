"""A model's ONNX file: exported from torch once, quantized for int8, cached by content.

`stance score` on the CPU runs the model on ONNX Runtime (engines.OnnxEngine). The first run with a
model exports it (a few seconds; needs torch, which is installed with stance anyway) into the cache
folder; every later run, in any process, loads the cached file without importing torch. The file
name is a hash of the model's config.json and weights, the precision and the export format, so a
retrained model, or a new stance with a different export, never picks up a stale file.

Cache folder: $STANCE_CACHE, else $XDG_CACHE_HOME/stance, else ~/.cache/stance. Concurrent exports
(Ray actors, cluster jobs) each write a temporary file and rename it into place, so a reader never
sees half a file.

int8 and "one sentence, one answer": ONNX Runtime's dynamic quantization rounds each matrix
product's input with one scale per *batch*, set on the fly by the widest value in it, so a sentence's
scores moved (framing by up to 0.11) with whatever shared its batch. Here every activation scale
depends on the sentence alone: fixed scales from activation ranges measured once on training
sentences (`activation_ranges`, stored by `stance train` in config.json), fused into ONNX Runtime's
MatMulIntegerToFloat kernel (as fast as the dynamic kernels); for a model saved without those ranges,
one scale per token row, computed on the fly (about 30% slower, no calibration needed).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelLoadError
from .model_files import CONFIG_NAME, WEIGHTS_NAME, read_model_config

log = logging.getLogger("stance")

ONNX_PRECISIONS = ("fp32", "int8")
# Bump when the exported graph or the quantization recipe changes: old cache entries are then unused.
EXPORT_VERSION = 3
OPSET = 17
CACHE_ENV = "STANCE_CACHE"

# The int8 recipe, by torch module name: the layers that stay float32. The heads are small and
# their rounding goes straight into the outputs. Which recipe: the lever table in the README's speed
# section (scripts/backend_cost.py measures each on the validation splits).
INT8_KEEP_FLOAT = re.compile(r"^heads\.")
INT8_PER_CHANNEL = True  # one weight scale per output column rather than per matrix: less rounding
# config.json key of the int8 activation ranges: {torch Linear module name: [min, max] of its input}.
RANGES_KEY = "int8_activation_ranges"
# Training sentences the ranges are measured on (`stance train`, seeded): enough to meet the rare
# wide activations. Every value of every real token counts: clipping the top 0.01% of values cost
# 15-19 points of BABE loaded-term F1.
RANGE_SENTENCES = 1024


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
            quantize_int8(fp32, final, ranges=read_model_config(model_dir).get(RANGES_KEY))
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
    fp32: Path,
    out: Path,
    keep_float: re.Pattern | None = INT8_KEEP_FLOAT,
    per_channel: bool = INT8_PER_CHANNEL,
    ranges: dict[str, list[float]] | None = None,
) -> None:
    """int8 weights (ONNX Runtime's quantizer) and activations rounded with scales that depend on each
    sentence alone: fixed from `ranges` (module -> [min, max] of its input, `activation_ranges`) where
    given, else per token row. MatMuls and Gemms whose torch module name (export's `weight_modules`)
    matches `keep_float` stay float32."""
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
    scales = sentence_level_scales(model, modules, ranges or {})
    del model.metadata_props[:]
    _set_props(model, meta | {"precision": "int8", "int8_float_nodes": str(len(excluded))} | scales)
    onnx.save(model, str(out))


def activation_ranges(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 32) -> dict:
    """[min, max] of the input of every Linear layer that int8 quantizes, over the real tokens of
    `texts` (padding excluded), keyed by module name: the fixed activation scales of the int8 export."""
    import torch

    from .engines import TorchEngine
    from .features import model_inputs, tokenize

    ranges: dict[str, list[float]] = {}
    real: dict[str, torch.Tensor] = {}

    def measure(name):
        def hook(_module, args):
            x = args[0]
            if x.dim() == 3 and x.shape[:2] == real["mask"].shape:
                x = x[real["mask"]]  # (tokens, features): padding positions are no sentence's values
            low, high = float(x.min()), float(x.max())
            seen = ranges.get(name, [low, high])
            ranges[name] = [min(seen[0], low), max(seen[1], high)]

        return hook

    hooks = [
        module.register_forward_pre_hook(measure(name))
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not INT8_KEEP_FLOAT.search(name)
    ]
    engine = TorchEngine(model)
    try:
        encoded = tokenize(tokenizer, texts, max_length)
        for k in range(0, len(encoded), batch_size):
            inputs = model_inputs(encoded[k : k + batch_size], tokenizer.pad_token_id, engine.mark_mentions)
            real["mask"] = torch.from_numpy(inputs["attention_mask"]).bool().to(engine.device)
            engine.run(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return ranges


def sentence_level_scales(model, modules: dict[str, str], ranges: dict[str, list[float]]) -> dict[str, str]:
    """Rewrite each DynamicQuantizeLinear (one activation scale per batch) of a quantize_dynamic
    graph: a fixed scale where `ranges` covers every layer it feeds, else a scale per token row.
    Returns how many of each, for the file's metadata."""
    from onnx import helper

    graph = model.graph
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    producers = {o: node for node in graph.node for o in node.output}
    initializers = {i.name for i in graph.initializer}
    # One pass in graph order: a DynamicQuantizeLinear's replacement takes its place (it reads only
    # what the DynamicQuantizeLinear read), and the nodes it replaces, which come after it, are skipped.
    nodes, replaced, counts = [], set(), {"static": 0, "per_row": 0}
    for node in list(graph.node):
        if id(node) in replaced:
            continue
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        chains = [_QuantChain.of(m, consumers, producers) for m in consumers[node.output[0]]]
        layers = [modules.get(c.matmul.name.removesuffix("_quant")) for c in chains]
        known = [ranges[layer] for layer in layers if layer in ranges]
        if chains and len(known) == len(chains):
            low, high = min(r[0] for r in known), max(r[1] for r in known)
            nodes += _fixed_scale(node, chains, low, high, consumers, initializers, graph)
            replaced |= {id(n) for c in chains for n in c.replaced(consumers, initializers)}
            counts["static"] += 1
        else:
            nodes += _row_scale(node, chains, graph)
            replaced |= {id(n) for c in chains for n in (c.matmul, c.cast, c.rescale, c.scales)}
            counts["per_row"] += 1
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return {"int8_activation_scales": json.dumps(counts)}


@dataclass
class _QuantChain:
    """What quantize_dynamic makes of one MatMul: MatMulInteger -> Cast -> Mul(Mul(x scale, w scale))."""

    matmul: Any
    cast: Any
    rescale: Any
    scales: Any  # the Mul of the activation and weight scales

    @classmethod
    def of(cls, matmul, consumers, producers) -> _QuantChain:
        cast = consumers[matmul.output[0]][0]
        rescale = consumers[cast.output[0]][0]
        scales = producers[next(i for i in rescale.input if i != cast.output[0])]
        if (matmul.op_type, cast.op_type, rescale.op_type, scales.op_type) != ("MatMulInteger", "Cast", "Mul", "Mul"):
            raise ModelLoadError(f"unexpected graph from the ONNX quantizer around {matmul.name}; please report it")
        return cls(matmul, cast, rescale, scales)

    def bias_add(self, consumers, initializers):
        """The Add of a constant bias that follows, when nothing else reads the product."""
        after = consumers.get(self.rescale.output[0], [])
        if len(after) == 1 and after[0].op_type == "Add" and any(i in initializers for i in after[0].input):
            return after[0]
        return None

    def replaced(self, consumers, initializers) -> list:
        bias = self.bias_add(consumers, initializers)
        return [self.matmul, self.cast, self.rescale, self.scales] + ([bias] if bias is not None else [])


def _fixed_scale(dql, chains, low: float, high: float, consumers, initializers, graph) -> list:
    """uint8 with a fixed scale and zero point, and ONNX Runtime's fused int8 product (bias included)."""
    import numpy as np
    from onnx import helper, numpy_helper

    x, (quantized, scale, zero) = dql.input[0], dql.output
    low, high = min(low, 0.0), max(high, 0.0)  # zero must be exact: padding and masks are zeros
    step = (high - low) / 255 or 1.0
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(step, np.float32), scale),
            numpy_helper.from_array(np.array(round(-low / step), np.uint8), zero),
        ]
    )
    nodes = [helper.make_node("QuantizeLinear", [x, scale, zero], [quantized], name=dql.name)]
    for chain in chains:
        weight, weight_zero = chain.matmul.input[1], chain.matmul.input[3]
        weight_scale = next(i for i in chain.scales.input if i != scale)
        inputs, output = [quantized, weight, scale, weight_scale, zero, weight_zero], chain.rescale.output[0]
        bias = chain.bias_add(consumers, initializers)
        if bias is not None:
            inputs.append(next(i for i in bias.input if i in initializers))
            output = bias.output[0]
        nodes.append(
            helper.make_node("MatMulIntegerToFloat", inputs, [output], name=chain.matmul.name, domain="com.microsoft")
        )
    return nodes


def _row_scale(dql, chains, graph) -> list:
    """Symmetric int8 with one scale per token row (max |x| / 127), stored as uint8 around 128. Each
    product runs as MatMulIntegerToFloat with the weight scales, then takes its rows' scales."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x, (quantized, scale, zero) = dql.input[0], dql.output
    p = dql.name
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(127.0, np.float32), f"{p}/127"),
            numpy_helper.from_array(np.array(1e-12, np.float32), f"{p}/eps"),
            numpy_helper.from_array(np.array(128.0, np.float32), f"{p}/128"),
            numpy_helper.from_array(np.array(1.0, np.float32), f"{p}/one"),
            numpy_helper.from_array(np.array(128, np.uint8), zero),
        ]
    )
    nodes = [
        helper.make_node("Abs", [x], [f"{p}/abs"]),
        helper.make_node("ReduceMax", [f"{p}/abs"], [f"{p}/max"], axes=[-1], keepdims=1),
        helper.make_node("Max", [f"{p}/max", f"{p}/eps"], [f"{p}/nonzero"]),
        helper.make_node("Div", [f"{p}/nonzero", f"{p}/127"], [scale]),  # (..., 1)
        helper.make_node("Div", [x, scale], [f"{p}/scaled"]),
        helper.make_node("Round", [f"{p}/scaled"], [f"{p}/rounded"]),
        helper.make_node("Add", [f"{p}/rounded", f"{p}/128"], [f"{p}/shifted"]),
        helper.make_node("Cast", [f"{p}/shifted"], [quantized], to=TensorProto.UINT8),
    ]
    for chain in chains:
        weight, weight_zero = chain.matmul.input[1], chain.matmul.input[3]
        weight_scale = next(i for i in chain.scales.input if i != scale)
        product = f"{chain.matmul.name}/unscaled"
        # The row scales multiply after the fused kernel, whose activation scale is one number.
        inputs = [quantized, weight, f"{p}/one", weight_scale, zero, weight_zero]
        nodes += [
            helper.make_node("MatMulIntegerToFloat", inputs, [product], name=chain.matmul.name, domain="com.microsoft"),
            helper.make_node("Mul", [product, scale], [chain.rescale.output[0]]),
        ]
    return nodes


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
