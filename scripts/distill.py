"""A teacher's framing probabilities as soft labels for the student: one table per cross-validation fold.

The teacher is cross-validated like any recipe (`stance cv configs/teacher.yaml -o runs/cv/teacher`);
fold i's teacher never saw fold i's held-out sentences, so the soft labels it writes are safe for
fold i of the student, which holds out the same groups (folds are dealt from the corpus itself, not
from the recipe). The student's recipe reads them through a `{fold}` path (configs/distill.yaml):

    python scripts/distill.py runs/cv/teacher -o runs/distill \\
        --transfer wiki_npov:wiki_npov --transfer checkthat:checkthat_subjectivity_en/train_en.tsv \\
        [--final runs/teacher/model]      # writes fold-all.jsonl for training the shipped student

Each row is {"text", "framing": P(editorial) from the teacher (temperature-scaled), "group"}. Labels
the transfer corpora carry are ignored: only their sentences are used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from stance.config import DatasetConfig
from stance.data import read_dataset
from stance.evaluation import parse_data_spec
from stance.examples import Example, encode_examples
from stance.inference import predict
from stance.modeling import load_model


def transfer_sentences(specs: list[str], root: Path, limit: int | None) -> list[Example]:
    """The sentences of the transfer corpora, each once, in corpus order."""
    seen, out = set(), []
    for spec in specs:
        adapter, path, _ = parse_data_spec(spec)
        for ex in read_dataset(DatasetConfig(adapter=adapter, path=path), root):
            if ex.text not in seen:
                seen.add(ex.text)
                out.append(Example(text=ex.text, source="teacher", group=ex.group))
    return out[:limit] if limit else out


def write_soft_labels(model_dir: Path, examples: list[Example], out: Path) -> float:
    started = time.time()
    model, tokenizer, config = load_model(model_dir)
    encoded = encode_examples(tokenizer, examples, config["max_length"], model.head_specs)
    preds = predict(model, encoded, tokenizer.pad_token_id)
    tmp = out.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for ex, p in zip(examples, preds):
            fh.write(json.dumps({"text": ex.text, "framing": round(p.framing_score, 4), "group": ex.group}) + "\n")
    tmp.replace(out)  # a half-written table never looks finished
    return time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("teacher_cv", type=Path, help="the teacher's `stance cv` folder (fold-*/model)")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--transfer", action="append", required=True, metavar="ADAPTER:PATH")
    parser.add_argument("--final", type=Path, help="the teacher trained on everything: writes fold-all.jsonl")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, help="use only the first N transfer sentences")
    args = parser.parse_args()
    examples = transfer_sentences(args.transfer, args.data_root, args.limit)
    models = {p.parent.name.removeprefix("fold-"): p for p in sorted(args.teacher_cv.glob("fold-*/model"))}
    if args.final:
        models["all"] = args.final
    if not models:
        sys.exit(
            f"expected fold-*/model folders in {args.teacher_cv}, found none; run `stance cv` on the teacher first"
        )
    args.output.mkdir(parents=True, exist_ok=True)
    for fold, model_dir in models.items():
        target = args.output / f"fold-{fold}.jsonl"
        if target.exists():
            print(f"{target} exists, kept")
            continue
        seconds = write_soft_labels(model_dir, examples, target)
        print(f"{target}: {len(examples)} sentences labelled by {model_dir} in {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
