"""The whole retraining loop on a corpus the default model was not trained on, with its figures.

Someone's own framing labels are simulated with CheckThat! 2023 subjectivity (SUBJ / OBJ), exported as
doccano JSONL: N labelled sentences from train_en.tsv to train on, and all of dev_en.tsv as their own
held-out part (never used for training or selection). Then, exactly as the README's walkthrough:

    stance init-config -> stance train (three ways) -> stance compare

Trained: continued from the default model (`--init-from default`), the same plus `data.replay`
(the default model's own sentences mixed in), and from the bare base encoder. Each is compared with
the unchanged default model on the held-out part and on the default model's BABE validation split
(forgetting: its framing was trained on BABE). Wall-clock training time is measured per run.

    python scripts/retrain_demo.py -o runs/retrain-demo          # needs ../shared/data ($STANCE_DATA)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(os.environ.get("STANCE_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def to_doccano(tsv: Path, out: Path, n: int | None, seed: int) -> int:
    with tsv.open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["label"] in ("SUBJ", "OBJ")]
    if n is not None:
        rows = random.Random(seed).sample(rows, min(n, len(rows)))
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["sentence_id"], "text": r["sentence"], "label": [r["label"]]}) + "\n")
    return len(rows)


def stance(*args: str) -> float:
    """Run the CLI as a user would; returns its wall-clock seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stance.cli", *args], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--out", type=Path, default=Path("runs/retrain-demo"))
    parser.add_argument("-n", type=int, default=500, help="labelled sentences to train on")
    parser.add_argument("--replay", type=int, default=400)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    source = DATA / "checkthat_subjectivity_en"
    if not source.is_dir():
        sys.exit(f"expected the CheckThat! corpus at {source}; set STANCE_DATA to the folder holding the corpora")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    mine, held_out = out / "mine.jsonl", out / "heldout.jsonl"
    n_train = to_doccano(source / "train_en.tsv", mine, args.n, args.seed)
    n_held = to_doccano(source / "dev_en.tsv", held_out, None, args.seed)
    config = out / "mine.yaml"
    stance("init-config", str(config), "--data", str(mine), "--framing-positive", "SUBJ", "--init-from", "default", "--force")
    runs = {
        "continued from default": [],
        f"continued + replay {args.replay}": [f"data.replay={args.replay}"],
        "from the base encoder": ["model.init_from=null", "training.learning_rate=8e-5"],
    }
    seconds = {}
    for i, (name, overrides) in enumerate(runs.items()):
        replay = [] if "replay" in name else ["data.replay=0"]
        seconds[name] = stance("train", str(config), *replay, *overrides, "-o", str(out / f"run-{i}"), "--force")
    figures = {}
    for i, name in enumerate(runs):
        report = out / f"compare-{i}.json"
        stance(
            "compare", "models/default", str(out / f"run-{i}" / "model"), f"doccano:{held_out}", "babe:babe@validation",
            "--labels", "SUBJ=editorial,OBJ=neutral", "--resamples", str(args.resamples), "-o", str(report),
        )  # fmt: skip
        figures[name] = json.loads(report.read_text())
    summary = {"train_sentences": n_train, "held_out_sentences": n_held, "seconds": seconds, "runs": {}}
    print(f"\n{n_train} labelled sentences (doccano), held-out part {n_held} sentences; {os.cpu_count()} CPU cores")
    print("| model | held-out framing macro-F1 | Δ vs default [95% CI] | BABE validation framing macro-F1 (forgetting) "
          "| Δ vs default [95% CI] | training time |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    first = next(iter(figures.values()))
    held_a = first["data"][f"doccano:{held_out}"]["heads"]["framing"]["framing_macro_f1"]["a"]
    babe_a = first["data"]["babe:babe@validation"]["heads"]["framing"]["framing_macro_f1"]["a"]
    print(f"| default model, unchanged | {held_a:.3f} | — | {babe_a:.3f} | — | — |")
    for name, report in figures.items():
        held = report["data"][f"doccano:{held_out}"]["heads"]["framing"]["framing_macro_f1"]
        babe = report["data"]["babe:babe@validation"]["heads"]["framing"]["framing_macro_f1"]
        summary["runs"][name] = {"held_out": held, "babe_validation": babe}
        print(
            f"| {name} | {held['b']:.3f} | {held['delta']:+.3f} [{held['low']:+.3f}, {held['high']:+.3f}] "
            f"| {babe['b']:.3f} | {babe['delta']:+.3f} [{babe['low']:+.3f}, {babe['high']:+.3f}] "
            f"| {seconds[name]:.0f} s |"
        )
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
