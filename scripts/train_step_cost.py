"""Seconds per training step at each training precision (issue 25: cheaper runs), on this machine.

    STANCE_DATA=../shared/data python scripts/train_step_cost.py [--batch-size 32] [--steps 6] [--rounds 2]

The default base encoder (MiniLM-L6) with the framing and loaded-term heads, batches of real BABE
sentences (max_length 128), AdamW; each precision runs `--steps` steps per round (the first of each
round is not counted), rounds alternate so both see the same machine load. Prints the median step time
of each and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

import torch

from stance.defaults import DATA_ROOT_ENV, DEFAULT_BASE_MODEL, DEFAULT_DATA_ROOT
from stance.devices import training_autocast
from stance.features import collate, tokenize
from stance.heads import HEADS
from stance.modeling import StanceModel, load_encoder, load_tokenizer
from stance.runtime import cpu_has_bf16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT)))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    tokenizer = load_tokenizer(DEFAULT_BASE_MODEL)
    model = StanceModel(load_encoder(DEFAULT_BASE_MODEL), heads=[HEADS["framing"], HEADS["loaded_terms"]]).train()
    with (args.data_root / "babe" / "final_labels_SG2.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))[: args.batch_size * args.steps]
    encoded = tokenize(tokenizer, [r["text"] for r in rows], 128)
    for enc, row in zip(encoded, rows):
        enc.labels["framing"] = float(row["label_bias"] == "Biased")
    batches = [
        collate(encoded[k : k + args.batch_size], tokenizer.pad_token_id, model.head_specs)
        for k in range(0, len(encoded), args.batch_size)
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    precisions = ["fp32", "bf16"] if cpu_has_bf16() else ["fp32"]
    times: dict[str, list[float]] = {p: [] for p in precisions}
    for _ in range(args.rounds):
        for precision in precisions:
            for k, batch in enumerate(batches):
                started = time.perf_counter()
                with training_autocast("cpu", precision):
                    loss = sum(model(**batch)["losses"].values())
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if k:
                    times[precision].append(time.perf_counter() - started)
    print(f"{torch.get_num_threads()} threads, batch {args.batch_size}, CPU native bf16: {cpu_has_bf16()}")
    for precision, values in times.items():
        print(f"{precision}: median {statistics.median(values):.3f} s per step over {len(values)} steps")
    if len(precisions) == 2:
        print(f"fp32 / bf16: {statistics.median(times['fp32']) / statistics.median(times['bf16']):.2f}x")


if __name__ == "__main__":
    main()
