"""Retraining on a newsroom-like corpus where editorial sentences are rare: does the adapted model flag
them on stories it never saw, and what does adapting cost the shipped model elsewhere?

    STANCE_DATA=../shared/data python scripts/rare_label_cv.py [--variant NAME ...]

The corpus: Lim et al. (LREC 2020), 46 articles on 4 news events, each covered by 11-12 outlets, 842
sentences judged 1-4 by 4-5 crowd workers; a sentence is "biased" when its mean judgement is at least 3
(47 sentences, 5.6%: the share a newsroom corpus has). Each fold holds one event out: the config
`stance init-config --init-from default` writes for the other three is trained (variants change a few
settings), and the held-out event's sentences are flagged at the model's own threshold. The figures
pool every held-out sentence (macro-F1 of the flag), and report the shipped model, untouched, on the
same sentences; "BABE after" is the framing macro-F1 on the shipped model's BABE validation split.
Human labels judge; nothing here trains on the held-out event.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

from stance.calibration import binary_macro_f1
from stance.data import model_split
from stance.defaults import DATA_ROOT_ENV, DEFAULT_DATA_ROOT, shipped_model_dir
from stance.evaluation import evaluate_examples
from stance.examples import Example
from stance.modeling import load_model

VARIANTS = {
    "0.7 (no class weights, flag at 0.5)": {"training.class_weights": "none", "flag": 0.5},
    "defaults (balanced, fitted flag, frozen encoder)": {},
    "balanced, fitted flag, encoder trained, lr 3e-5": {"model.freeze_encoder": False},
    "balanced, fitted flag, encoder trained, replay 2000": {"model.freeze_encoder": False, "data.replay": 2000},
    "balanced, fitted flag, frozen encoder, replay 2000": {"data.replay": 2000},
}


def lim_sentences(root: Path) -> list[tuple[str, str, str, bool]]:
    """(event, article, text, biased) of every judged sentence: mean crowd judgement >= 3 is biased."""
    judged: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    with (root / "biased_sentences_lim2020" / "Sora_LREC2020_biasedsentences.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for i in range(20):
                text, value = row.get(f"s{i}"), row.get(str(i))
                if text and text.strip() and value not in (None, "", "NA"):
                    key = (row["id_event"], row["id_article"], re.sub(r"^\[\d+\]:\s*", "", text).strip())
                    judged[key].append(float(value))
    return [(e, a, t, statistics.fmean(v) >= 3.0) for (e, a, t), v in sorted(judged.items())]


def macro_f1(pairs: list[tuple[bool, bool]]) -> float:
    """Macro-F1 of (flagged, biased) pairs."""
    return binary_macro_f1([float(p) for p, _ in pairs], [int(g) for _, g in pairs], 0.5)


def flags(model_dir: Path, sentences: list[tuple[str, str, str, bool]], threshold: float | None) -> list[bool]:
    model, tokenizer, config = load_model(model_dir)
    examples = [Example(text=t, framing=float(b), source="held-out", group=a) for _, a, t, b in sentences]
    from stance.features import tokenize
    from stance.inference import predict

    encoded = tokenize(tokenizer, [e.text for e in examples], int(config["max_length"]))
    cut = model.framing_threshold if threshold is None else threshold
    return [p.framing_score >= cut for p in predict(model, encoded, tokenizer.pad_token_id)]


def babe_framing(model_dir: Path, root: Path) -> float:
    model, tokenizer, _ = load_model(model_dir)
    examples = model_split(
        json.loads((shipped_model_dir() / "config.json").read_text()), root, "babe", "babe", "validation"
    )
    return evaluate_examples(model, tokenizer, examples, 128)["framing"]["macro_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT)))
    parser.add_argument("--variant", action="append", help="only the variants whose name has this")
    parser.add_argument("--work", type=Path, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args()
    root = args.data_root.resolve()
    sentences = lim_sentences(root)
    events = sorted({e for e, *_ in sentences})
    variants = {k: v for k, v in VARIANTS.items() if not args.variant or any(x in k for x in args.variant)}
    work = args.work or Path(tempfile.mkdtemp(prefix="stance-rare-"))
    shipped = shipped_model_dir()
    held = {e: [s for s in sentences if s[0] == e] for e in events}
    results: dict[str, dict] = {"shipped model (not adapted)": {"pairs": [], "babe": [babe_framing(shipped, root)]}}
    for e in events:
        results["shipped model (not adapted)"]["pairs"] += list(
            zip(flags(shipped, held[e], None), [s[3] for s in held[e]])
        )
    for name, settings in variants.items():
        results[name] = {"pairs": [], "babe": []}
        for e in events:
            fold = work / re.sub(r"\W+", "-", name) / f"event-{e}"
            fold.mkdir(parents=True, exist_ok=True)
            data = fold / "train.jsonl"
            with data.open("w", encoding="utf-8") as fh:
                for ev, article, text, biased in sentences:
                    if ev != e:
                        label = "biased" if biased else "neutral"
                        fh.write(json.dumps({"text": text, "label": [label], "meta": {"group": article}}) + "\n")
            run = [sys.executable, "-m", "stance.cli"]
            subprocess.run([*run, "init-config", str(fold / "my.yaml"), "--data", str(data), "--adapter", "doccano",
                            "--framing-positive", "biased", "--init-from", "default", "--force"], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            config = yaml.safe_load((fold / "my.yaml").read_text())
            config["data"]["root"] = str(root)
            config["data"]["datasets"][0]["path"] = str(data)
            (fold / "my.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
            overrides = [f"{k}={v}" for k, v in settings.items() if k != "flag"]
            with (fold / "train.log").open("w") as log:
                subprocess.run([*run, "train", str(fold / "my.yaml"), "-o", str(fold / "run"), "--force", *overrides],
                               check=True, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
            model = fold / "run" / "model"
            results[name]["pairs"] += list(zip(flags(model, held[e], settings.get("flag")), [s[3] for s in held[e]]))
            results[name]["babe"].append(babe_framing(model, root))
            print(f"{name}, event {e} held out: done", flush=True)
    n, positives = len(sentences), sum(s[3] for s in sentences)
    print(f"\nLim et al. 2020: {n} sentences, {positives} biased; leave-one-event-out over {len(events)} events")
    print(f"{'variant':55s} {'held-out macro-F1':>18s} {'flagged/biased caught':>22s} {'BABE framing after':>20s}")
    for name, r in results.items():
        pairs = r["pairs"]
        caught = sum(1 for p, g in pairs if p and g)
        flagged = sum(1 for p, _ in pairs if p)
        babe = statistics.fmean(r["babe"])
        print(f"{name:55s} {macro_f1(pairs):18.4f} {f'{flagged} / {caught} of {positives}':>22s} {babe:20.4f}")


if __name__ == "__main__":
    main()
