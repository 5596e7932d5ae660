"""Candidates for configs/alternatives.yaml, from data: which loaded terms occur, and what neutral
wording outlets used for the same thing.

1. BABE's expert-marked biased words (final_labels_SG1/SG2.csv, `biased_words`), ranked by how often
   annotators marked them: the terms users will meet most, so the lexicon covers them first. Words
   also in BABE's bias-word lexicon (bias_word_lexicon.csv) are marked.
2. NewsWCL50 (Annotations.csv): for each concept (an actor, group, country, event... in one news
   event), the mentions five outlets used. For a frequent word, a mention holding it (e.g. "north
   korean dictator") is shown beside the same referent's most frequent mentions that hold no word BABE's
   experts marked biased twice ("kim", "north korean leader"): the wording other outlets chose for
   the same thing, evidence for a naming alternative.

The script prints both lists; an editor writes the alternatives for the frequent words (verbs and
adjectives have no aligned neutral counterpart in either corpus) and keeps the NewsWCL50 namings that
hold. Every entry in configs/alternatives.yaml records which list it came from (`seed`).

    python scripts/seed_alternatives.py --top 120        # needs ../shared/data ($STANCE_DATA)
"""

from __future__ import annotations

import argparse
import ast
import csv
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

DATA = Path(os.environ.get("STANCE_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
STOP = set("the a an of to in on and or his her their its is was has have not out up down never show".split())


def babe_frequent(top: int) -> list[tuple[str, int, bool]]:
    lexicon = {w.strip().lower() for w in (DATA / "babe" / "bias_word_lexicon.csv").read_text().splitlines()[1:]}
    counts: Counter = Counter()
    for name in ("final_labels_SG1.csv", "final_labels_SG2.csv"):
        with (DATA / "babe" / name).open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter=";"):
                try:
                    counts.update(w.lower() for w in ast.literal_eval(row["biased_words"] or "[]"))
                except (ValueError, SyntaxError):
                    continue
    ranked = [(w, n) for w, n in counts.most_common() if w not in STOP and len(w) > 2]
    return [(w, n, w in lexicon) for w, n in ranked[:top]]


def newswcl_evidence(words: list[str]) -> dict[str, tuple[str, list[str]]]:
    """For each word: a NewsWCL50 mention holding it, and the same referent's most frequent mentions
    holding no loaded word (the neutral wording other outlets chose for the same thing)."""
    loaded_words = {w for w, n, _ in babe_frequent(100_000) if n >= 2}
    lines = (DATA / "newswcl50" / "Annotations.csv").read_text(encoding="utf-8").splitlines()[1:]  # `sep=,` first
    mentions: dict[tuple, Counter] = defaultdict(Counter)
    for row in csv.DictReader(lines):
        mentions[(row["event_id"], row["code_name"])][row["code_mention"].strip().lower()] += 1
    tokens = lambda m: re.findall(r"[a-z][a-z'-]*", m)  # noqa: E731
    out = {}
    for word in words:
        for counts in mentions.values():
            holding = [m for m in counts if word in tokens(m)]
            neutral = [m for m, _ in counts.most_common() if not loaded_words & set(tokens(m))][:3]
            if holding and neutral:
                out[word] = (holding[0], neutral)
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--top", type=int, default=120)
    args = parser.parse_args()
    frequent = babe_frequent(args.top)
    evidence = newswcl_evidence([w for w, _, _ in frequent])
    print(f"# BABE biased words by annotation count (top {args.top}); * = also in BABE's bias-word lexicon;")
    print("# then NewsWCL50 evidence: a mention holding the word -> the same referent's neutral mentions")
    for word, n, in_lexicon in frequent:
        seen = evidence.get(word)
        where = f"\t{seen[0]!r} -> {', '.join(seen[1])}" if seen else ""
        print(f"{word}\t{n}\t{'*' if in_lexicon else ''}{where}")


if __name__ == "__main__":
    main()
