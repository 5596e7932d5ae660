"""Measure sentence segmentation on PTC articles, whose gold format is one sentence per line.

Each article's lines are joined with single spaces into running text (the layout a scraped
article has), segmented, and the predicted sentence boundaries are compared with the gold ones.

    python scripts/eval_segmentation.py [--ptc ../shared/data/semeval2020_task11_ptc]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stance.segmentation import split_sentences


def gold_and_text(article: str) -> tuple[str, list[tuple[int, int]]]:
    lines = [line.strip() for line in article.splitlines() if line.strip()]
    body = lines[1:]  # line 1 is the title, kept on its own line as scrapers keep it
    text = lines[0] + "\n\n" if lines else ""
    spans = [(0, len(lines[0]))] if lines else []
    for line in body:
        spans.append((len(text), len(text) + len(line)))
        text += line + " "
    return text.rstrip(), spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ptc", type=Path, default=Path("../shared/data/semeval2020_task11_ptc"))
    args = parser.parse_args()
    files = sorted((args.ptc / "train-articles").glob("*.txt")) + sorted((args.ptc / "test-articles").glob("*.txt"))
    if not files:
        raise SystemExit(f"no PTC articles under {args.ptc}")
    tp = n_pred = n_gold = exact = 0
    for path in files:
        text, gold = gold_and_text(path.read_text(encoding="utf-8"))
        pred = [(s.start, s.end) for s in split_sentences(text)]
        gold_ends, pred_ends = {e for _, e in gold}, {e for _, e in pred}
        tp += len(gold_ends & pred_ends)
        n_pred += len(pred_ends)
        n_gold += len(gold_ends)
        exact += len(set(gold) & set(pred))
    precision, recall = tp / n_pred, tp / n_gold
    result = {
        "articles": len(files),
        "gold_sentences": n_gold,
        "boundary_precision": round(precision, 4),
        "boundary_recall": round(recall, 4),
        "boundary_f1": round(2 * precision * recall / (precision + recall), 4),
        "exact_sentence_match": round(exact / n_gold, 4),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
