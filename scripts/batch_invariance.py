"""Does a sentence's record depend on what it is scored with? Scores the same one-sentence documents
in file order, in a shuffled order, one at a time (`--batch-size 1`) and with `--workers 2`, and
counts the sentences whose flag, voice, loaded terms or stance labels differ, and the largest score
change.

    STANCE_DATA=../shared/data python scripts/batch_invariance.py                 # BABE sentences, default path
    python scripts/batch_invariance.py --precision fp32 --limit 300 --alone 60

Every row should read 0 differences (issue 22): "one sentence, one answer".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from stance.defaults import DATA_ROOT_ENV, DEFAULT_DATA_ROOT


def babe_sentences(root: Path, limit: int) -> list[str]:
    with (root / "babe" / "final_labels_SG2.csv").open(encoding="utf-8") as fh:
        return [row["text"] for row in csv.DictReader(fh, delimiter=";")][:limit]


def score(docs: list[dict], folder: Path, name: str, options: list[str]) -> dict[str, dict]:
    source, out = folder / f"{name}.jsonl", folder / f"{name}.out.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    cmd = [sys.executable, "-m", "stance.cli", "score", str(source), "-o", str(out), "--force", "-q", *options]
    subprocess.run(cmd, check=True)
    records = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    return {r["doc_id"]: r for r in records if r["record"] == "sentence"}


def view(record: dict) -> dict:
    """What a reader compares: labels and term lists exactly, scores separately."""
    return {
        "flag": record["framing"]["flag"],
        "voice": (record["voice"]["label"], record["voice"]["source"]),
        "terms": [(t["start"], t["end"]) for t in record.get("loaded_terms", [])],
        "stance": [(s["target"], s["start"], s["label"]) for s in record.get("stance", [])],
    }


def differences(a: dict[str, dict], b: dict[str, dict]) -> dict:
    shared = sorted(set(a) & set(b))
    counts = {"sentences": len(shared), "flag": 0, "voice": 0, "terms": 0, "stance": 0}
    largest = 0.0
    for key in shared:
        va, vb = view(a[key]), view(b[key])
        for field in ("flag", "voice", "terms", "stance"):
            counts[field] += va[field] != vb[field]
        largest = max(largest, abs(a[key]["framing"]["score"] - b[key]["framing"]["score"]))
    return counts | {"largest framing score change": round(largest, 6)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=Path(os.environ.get(DATA_ROOT_ENV, DEFAULT_DATA_ROOT)))
    parser.add_argument("--limit", type=int, default=1000, help="BABE sentences to score")
    parser.add_argument("--alone", type=int, default=60, help="of which this many are also scored one at a time")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    docs = [{"id": f"s{i}", "text": t} for i, t in enumerate(babe_sentences(args.data_root, args.limit))]
    shuffled = random.Random(0).sample(docs, len(docs))
    options = ["--precision", args.precision, "--backend", args.backend]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ordered = score(docs, folder, "ordered", options)
        rows = {
            "shuffled": score(shuffled, folder, "shuffled", options),
            "alone (--batch-size 1)": score(docs[: args.alone], folder, "alone", [*options, "--batch-size", "1"]),
            "--workers 2": score(shuffled, folder, "workers", [*options, "--workers", "2"]),
        }
    print(f"{len(docs)} one-sentence BABE documents, --backend {args.backend} --precision {args.precision}")
    for name, records in rows.items():
        print(f"{name:24s} vs file order: {json.dumps(differences(ordered, records))}")


if __name__ == "__main__":
    main()
