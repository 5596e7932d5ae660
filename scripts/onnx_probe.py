"""Issue 14's first lever, probed: the shipped model's encoder and sentence/token heads on ONNX Runtime.

Exports the model (framing, loaded-term and attribution logits; the stance head, which takes the
mentions as extra inputs, stays on torch for now) with torch's TorchScript exporter, checks that ONNX
fp32 matches torch fp32 on real PTC sentences, quantizes it to int8 (ONNX Runtime dynamic
quantization), and times all four on the same length-sorted batches. It does not measure accuracy:
an int8 path is only usable once its cost on the held-out folds is measured (issue 14).

    pip install onnx onnxruntime        # not dependencies of stance
    python scripts/onnx_probe.py --sentences 2000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
PTC = Path(os.environ.get("STANCE_DATA", REPO.parent / "shared" / "data")) / "semeval2020_task11_ptc" / "train-articles"


class Logits(torch.nn.Module):
    """The model's per-sentence and per-token logits, as plain tensors (what ONNX can carry)."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return tuple(out[h.name] for h in self.model.head_specs if h.level != "mention")


def sentences(n: int) -> list[str]:
    from stance.segmentation import split_sentences

    out: list[str] = []
    for path in sorted(PTC.glob("*.txt")):
        out += [s.text for s in split_sentences(path.read_text(encoding="utf-8")) if len(s.text) > 20]
        if len(out) >= n:
            break
    return out[:n]


def batches(tokenizer, texts: list[str], size: int = 64) -> list[dict[str, np.ndarray]]:
    texts = sorted(texts, key=len)
    out = []
    for i in range(0, len(texts), size):
        enc = tokenizer(texts[i : i + size], padding=True, truncation=True, max_length=128, return_tensors="np")
        out.append(
            {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64)}
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO / "models" / "default"))
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from stance.modeling import load_model

    model, tokenizer, _ = load_model(args.model)
    model.eval()
    wrapped = Logits(model).eval()
    data = batches(tokenizer, sentences(args.sentences))
    tmp = Path(tempfile.mkdtemp())
    example = tuple(torch.from_numpy(data[0][k]) for k in ("input_ids", "attention_mask"))
    names = [h.name for h in model.head_specs if h.level != "mention"]
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    torch.onnx.export(
        wrapped, example, str(tmp / "fp32.onnx"), dynamo=False, input_names=list(axes), output_names=names,
        dynamic_axes=axes, opset_version=17,
    )  # fmt: skip
    quantize_dynamic(str(tmp / "fp32.onnx"), str(tmp / "int8.onnx"), weight_type=QuantType.QInt8)
    wrapped.eval()
    options = ort.SessionOptions()
    sessions = {
        p: ort.InferenceSession(str(tmp / f"{p}.onnx"), options, providers=["CPUExecutionProvider"])
        for p in ("fp32", "int8")
    }

    @torch.inference_mode()
    def run_torch(batch, bf16: bool):
        tensors = {k: torch.from_numpy(v) for k, v in batch.items()}
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return [t.float().numpy() for t in wrapped(**tensors)]

    reference = [run_torch(b, False) for b in data]
    worst = {p: 0.0 for p in sessions}
    for p, sess in sessions.items():
        for batch, ref in zip(data, reference):
            got = sess.run(None, batch)
            worst[p] = max(worst[p], *(float(np.abs(g - r).max()) for g, r in zip(got, ref)))
    print(f"{len(data)} batches, {sum(len(b['input_ids']) for b in data)} sentences, {torch.get_num_threads()} threads")
    print(f"max |logit difference| vs torch fp32: onnx fp32 {worst['fp32']:.2e}, onnx int8 {worst['int8']:.2e}")
    timings = {
        "torch fp32": lambda: [run_torch(b, False) for b in data],
        "torch bf16 autocast": lambda: [run_torch(b, True) for b in data],
        "onnx fp32": lambda: [sessions["fp32"].run(None, b) for b in data],
        "onnx int8": lambda: [sessions["int8"].run(None, b) for b in data],
    }
    n = sum(len(b["input_ids"]) for b in data)
    base = None
    for name, fn in timings.items():
        fn()  # warm-up
        started = time.perf_counter()
        fn()
        rate = n / (time.perf_counter() - started)
        base = base or rate
        print(f"{name:22s} {rate:8.0f} sentences/s  ({rate / base:.2f}x torch fp32)")


if __name__ == "__main__":
    main()
