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
    parser.add_argument("--resamples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--reuse", action="store_true", help="keep runs and comparisons an earlier call finished")
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
    stance(
        "init-config",
        str(config),
        "--data",
        str(mine),
        "--framing-positive",
        "SUBJ",
        "--init-from",
        "default",
        "--force",
    )
    # init-config writes freeze_encoder: true with --init-from; each run states its choice.
    full = ["model.freeze_encoder=false"]
    runs = {
        "continued from default": full,
        f"continued + replay {args.replay}": [*full, f"data.replay={args.replay}"],
        "from the base encoder": [*full, "model.init_from=null", "training.learning_rate=8e-5"],
        "continued, encoder frozen (heads only)": ["model.freeze_encoder=true", "training.head_learning_rate=3e-3"],
        "continued + replay 2000": [*full, "data.replay=2000"],
    }
    seconds = {}
    for i, (name, overrides) in enumerate(runs.items()):
        replay = [] if any(o.startswith("data.replay") for o in overrides) else ["data.replay=0"]
        run, timing = out / f"run-{i}", out / f"run-{i}" / "seconds.txt"
        if args.reuse and timing.exists():  # a finished run of an earlier call
            seconds[name] = float(timing.read_text())
            continue
        seconds[name] = stance("train", str(config), *replay, *overrides, "-o", str(run), "--force")
        timing.write_text(f"{seconds[name]:.1f}\n")
    # Forgetting: the default model's own validation splits (none of it trained on by any run here).
    own = ["babe:babe@validation", "ptc:semeval2020_task11_ptc@validation",
           "newsmtsc:newsmtsc/train.jsonl@validation", "polnear:polnear/train@validation"]  # fmt: skip
    figures = {}
    for i, name in enumerate(runs):
        report = out / f"compare-{i}.json"
        if args.reuse and report.exists():
            figures[name] = json.loads(report.read_text())
            continue
        stance(
            "compare", "models/default", str(out / f"run-{i}" / "model"), f"doccano:{held_out}", *own,
            "--labels", "SUBJ=editorial,OBJ=neutral", "--resamples", str(args.resamples), "-o", str(report),
        )  # fmt: skip
        figures[name] = json.loads(report.read_text())
    rows = [  # (corpus spec, head, metric, column title)
        (f"doccano:{held_out}", "framing", "framing_macro_f1", "held-out framing macro-F1"),
        (own[0], "framing", "framing_macro_f1", "BABE framing macro-F1"),
        (own[0], "loaded_terms", "loaded_word_f1", "BABE loaded word F1"),
        (own[1], "loaded_terms", "loaded_span_f1_overlap", "PTC loaded span F1 (overlap)"),
        (own[2], "stance", "stance_macro_f1", "NewsMTSC stance macro-F1"),
        (own[3], "attribution", "attribution_word_f1", "PolNeAR attribution word F1"),
    ]
    summary = {"train_sentences": n_train, "held_out_sentences": n_held, "seconds": seconds, "runs": {}}
    print(f"\n{n_train} labelled sentences (doccano), held-out part {n_held} sentences; {os.cpu_count()} CPU cores")
    print(
        "Each cell: the model's figure, then B - A against the unchanged default model with its 95% bootstrap interval."
    )
    print("| model | training time | " + " | ".join(r[3] for r in rows) + " |")
    print("|---|---|" + "---|" * len(rows))
    first = next(iter(figures.values()))
    default = [first["data"][spec]["heads"][head][metric]["a"] for spec, head, metric, _ in rows]
    print("| default model, unchanged | — | " + " | ".join(f"{v:.3f}" for v in default) + " |")
    for name, report in figures.items():
        cells = []
        for spec, head, metric, title in rows:
            m = report["data"][spec]["heads"].get(head, {}).get(metric)
            summary["runs"].setdefault(name, {})[title] = m
            cells.append(
                "(no head)" if m is None else f"{m['b']:.3f} ({m['delta']:+.3f} [{m['low']:+.3f}, {m['high']:+.3f}])"
            )
        print(f"| {name} | {seconds[name]:.0f} s | " + " | ".join(cells) + " |")
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
