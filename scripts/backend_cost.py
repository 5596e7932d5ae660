"""What each faster scoring path costs in accuracy, head by head, against torch fp32, and how fast it runs.

    STANCE_DATA=../shared/data python scripts/backend_cost.py models/default [--config configs/default.yaml]

Scores the model's own validation split (the same function training used to split the corpora;
`--limit N` keeps the first N sentences of each corpus) with every path `stance score` can take on a
CPU, and prints, per path, each headline metric's difference from torch fp32 and the model-only
throughput (sentences/s over the whole split, decoding included). The loaded-term threshold and the
framing temperature are the model's own for every path, so only the arithmetic differs.

Paths: torch fp32 (reference), torch bf16 autocast (where the CPU has native bf16), torch selective
int8, ONNX Runtime fp32, and ONNX Runtime int8 in several recipes (which layers stay float, weight
scales per channel or per matrix), each with the activation scales `stance score` uses: fixed from the
ranges the model's config.json stores (onnx_export.RANGES_KEY), and, as `per-row scales`, the
fallback for models without them (one scale per token row).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from stance.config import load_config
from stance.data import load_splits
from stance.engines import OnnxEngine, TorchEngine
from stance.evaluation import torch_cpu_engines, validate
from stance.modeling import load_model
from stance.onnx_export import INT8_KEEP_FLOAT, RANGES_KEY, _export_fp32, quantize_int8

# name: (modules kept float, per-channel weight scales); every recipe runs with the model's stored
# activation ranges, and the shipped one also without them (per-row scales).
RECIPES = {
    "onnx int8, per-tensor, every encoder MatMul": (re.compile(r"^heads\."), False),
    "onnx int8, per-channel, every encoder MatMul": (re.compile(r"^heads\."), True),
    "onnx int8, per-channel, attention-out and FFN-down float": (
        re.compile(r"^heads\.|attention\.output\.dense|layer\.\d+\.output\.dense"),
        True,
    ),
    "onnx int8, per-channel, FFN only": (re.compile(r"^heads\.|attention\."), True),
    "onnx int8, per-channel, attention only": (re.compile(r"^heads\.|intermediate\.|layer\.\d+\.output\."), True),
    "onnx int8, per-channel, last layer float": (re.compile(r"^heads\.|layer\.5\."), True),
    "onnx int8, per-channel, last two layers float": (re.compile(r"^heads\.|layer\.[45]\."), True),
    "onnx int8, per-channel, first and last layer float": (re.compile(r"^heads\.|layer\.[05]\."), True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--config", type=Path, default=Path("configs/default.yaml"))
    parser.add_argument("--split", choices=["validation", "test", "both"], default="both")
    parser.add_argument("--pool", action="store_true", help="score a corpus's validation and test sentences as one")
    parser.add_argument("--limit", type=int, default=0, help="at most N validation sentences per corpus")
    parser.add_argument("-o", "--output", type=Path, help="also write the figures as JSON")
    parser.add_argument("--recipe", action="append", help="only the ONNX int8 recipes whose name has this (repeatable)")
    args = parser.parse_args()
    config = load_config(args.config)
    splits = load_splits(config)
    # Test examples (devtest_mt: never used for selection) are kept apart from the validation split,
    # unless --pool scores them with it (more sentences, a steadier estimate of a small difference).
    test = [e if args.pool else dataclasses.replace(e, source=f"{e.source}-test") for e in splits.test]
    examples = {"validation": splits.validation, "test": test, "both": splits.validation + test}[args.split]
    if args.limit:
        seen: dict[str, int] = defaultdict(int)
        kept = []
        for e in examples:
            seen[e.source] += 1
            if seen[e.source] <= args.limit:
                kept.append(e)
        examples = kept
    max_length = config.model.max_length
    model, tokenizer, model_config = load_model(args.model, fast=True)

    def measure(engine) -> dict:
        started = time.perf_counter()
        _, numbers, _ = validate(engine, tokenizer, examples, max_length, tune_threshold=False)
        return {"headline": numbers, "sentences_per_s": len(examples) / (time.perf_counter() - started)}

    results = {"torch fp32": measure(TorchEngine(model, "cpu"))}
    names = {"int8": "torch int8 (selective, dynamic)", "bf16": "torch bf16 autocast"}
    for precision, engine in torch_cpu_engines(model).items():
        results[names[precision]] = measure(engine)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        _export_fp32(args.model, fp32)
        results["onnx fp32"] = measure(OnnxEngine(fp32, model_config))
        ranges = model_config.get(RANGES_KEY)
        runs = [(name, keep, per_channel, ranges) for name, (keep, per_channel) in RECIPES.items()]
        runs.append(("onnx int8, per-channel, every encoder MatMul, per-row scales", INT8_KEEP_FLOAT, True, None))
        for name, keep_float, per_channel, scales in runs:
            if args.recipe and not any(r in name for r in args.recipe):
                continue
            out = Path(tmp) / "int8.onnx"
            quantize_int8(fp32, out, keep_float, per_channel, ranges=scales)
            results[name] = measure(OnnxEngine(out, model_config))
    reference = results["torch fp32"]["headline"]
    print(f"{len(examples)} sentences ({args.split}); deltas against torch fp32 (points x 100)")
    keys = sorted(reference)
    for name, result in results.items():
        deltas = {k: result["headline"][k] - reference[k] for k in keys if k in result["headline"]}
        result["delta"] = deltas
        worst = min((v for k, v in deltas.items() if not k.endswith("ece")), default=0.0)
        print(f"\n{name}: {result['sentences_per_s']:.0f} sentences/s, worst task-metric delta {100 * worst:+.2f}")
        for k in keys:
            print(f"  {k:55s} {reference[k]:.4f} {100 * deltas.get(k, float('nan')):+6.2f}")
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
