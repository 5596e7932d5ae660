"""Voice (who is speaking) measured on annotated news: PolNeAR's attribution spans.

    python scripts/eval_voice.py                                 # the rules, on ../shared/data/polnear/dev
    python scripts/eval_voice.py --split train --limit 200       # another compartment, fewer articles
    python scripts/eval_voice.py --errors 20                     # also print missed and wrong sentences

Per sentence (stance's own segmentation), as issue 10 defines it:
- gold: the sentence is reported speech when at least half of its non-space characters lie in some
  attribution's Source, Cue or Content span;
- predicted: the voice is `quoted` or `attributed`.
Reported: precision, recall and F1 of "reported speech", and how often the source is named correctly:
the predicted source matches the Source of the attribution that covers most of the sentence
(case-insensitive, leading "the" dropped, one contained in the other; a pronoun Source also accepts the
nearest earlier named Source, as stance resolves pronouns to names), over the reported-speech
sentences the rules catch whose attribution names a source, and over all such sentences.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from stance.corpora import AttributedArticle, read_polnear  # noqa: E402
from stance.segmentation import split_sentences  # noqa: E402
from stance.voice import Voice, assign_voices  # noqa: E402

DEFAULT_ROOT = REPO.parent / "shared" / "data" / "polnear"


def covered(start: int, end: int, spans: list[tuple[int, int]], text: str) -> int:
    """Non-space characters of text[start:end] inside `spans`."""
    return sum(1 for s, e in spans for k in range(max(s, start), min(e, end)) if not text[k].isspace())


def normalise(name: str | None) -> str:
    name = re.sub(r"[^\w\s]", " ", (name or "").lower())
    return re.sub(r"^(the|a|an)\s+", "", " ".join(name.split()))


def same_source(predicted: str | None, gold: str) -> bool:
    """Does the predicted source name one of the gold forms ("He|Donald Trump": either)?"""
    p = normalise(predicted)
    for form in gold.split("|"):
        g = normalise(form)
        if p and g and (p == g or f" {p} " in f" {g} " or f" {g} " in f" {p} "):
            return True
    return False


PRONOUNS = {"he", "she", "they", "it", "we", "i", "you"}


def gold_names(article: AttributedArticle) -> dict[int, str]:
    """Each attribution's Source text; a pronoun Source ("He") also accepts the nearest earlier named
    Source, since stance resolves pronouns to names (both forms count as right)."""
    text, names, last = article.text, {}, None
    for k, a in sorted(enumerate(article.attributions), key=lambda ka: min((s for s, _ in ka[1].source), default=0)):
        if not a.source:
            continue
        name = " ".join(text[s:e] for s, e in a.source)
        if normalise(name) in PRONOUNS:
            names[k] = f"{name}|{last}" if last else name
        else:
            names[k], last = name, name
    return names


def tagger_voices(scorer, article: AttributedArticle, sentences, rule_voices):
    """Voice from the attribution tagger: a sentence is reported speech when at least half of its
    non-space characters lie in predicted source/cue/content spans (the gold criterion), or, with
    quotation marks (`+quotes`), when the rules find it inside quotes. The source is the sentence's
    predicted source span, else the previous sentence's."""
    from stance.documents import Document

    records = [
        r for r in scorer.score([Document(article.name, article.name, article.text)]) if r["record"] == "sentence"
    ]
    assert [r["start"] for r in records] == [s.start for s in sentences]
    tagger, combined, previous = [], [], None
    for record, sent, rule in zip(records, sentences, rule_voices):
        spans = [(t["start"], t["end"]) for t in record.get("attribution", [])]
        non_space = sum(1 for c in sent.text if not c.isspace())
        reported = non_space > 0 and 2 * covered(sent.start, sent.end, spans, article.text) >= non_space
        named = [t["text"] for t in record.get("attribution", []) if t["category"] == "source"]
        source = named[0] if named else previous
        previous = named[0] if named else (previous if reported else None)
        tagger.append(Voice("attributed" if reported else "editorial", source if reported else None))
        quoted = rule.label == "quoted"
        combined.append(
            Voice(
                "attributed" if reported or quoted else "editorial",
                (source or rule.source) if reported or quoted else None,
            )
        )
    return tagger, combined


def sentences_of(article: AttributedArticle, scorer=None, variant: str = "rules"):
    """(sentence, voice, gold reported?, gold source or None) for each sentence of an article."""
    text = article.text
    names = gold_names(article)
    sentences = split_sentences(text)
    voices, _ = assign_voices(text, sentences)
    if scorer is not None:
        tagger, combined = tagger_voices(scorer, article, sentences, voices)
        voices = tagger if variant == "tagger" else combined
    every = [s for a in article.attributions for s in a.source + a.cue + a.content]
    for sent, voice in zip(sentences, voices):
        non_space = sum(1 for c in sent.text if not c.isspace())
        reported = non_space > 0 and 2 * covered(sent.start, sent.end, every, text) >= non_space
        best, best_cover = None, 0
        for k, a in enumerate(article.attributions):
            cover = covered(sent.start, sent.end, a.source + a.cue + a.content, text)
            if cover > best_cover:
                best, best_cover = k, cover
        source = names.get(best) if best is not None else None
        yield sent, voice, reported, source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--split", default="dev", choices=("dev", "train"))
    parser.add_argument("--limit", type=int, default=0, help="first N articles only (0: all)")
    parser.add_argument("--errors", type=int, default=0, help="print this many missed / wrong sentences")
    parser.add_argument("--model", type=Path, help="a model with the attribution head: measure the tagger too")
    args = parser.parse_args()
    articles = read_polnear(args.root / args.split)
    if args.limit:
        articles = articles[: args.limit]
    scorer = None
    if args.model:
        from stance.scoring import Scorer

        scorer = Scorer(args.model, device="cpu", precision="fp32", auto_targets=0)
        if "attribution" not in [h.name for h in scorer.model.head_specs]:
            sys.exit(
                f"expected a model with the attribution head, found heads {[h.name for h in scorer.model.head_specs]}"
            )
    for variant in ("rules", "tagger", "tagger+quotes") if scorer else ("rules",):
        measure(articles, scorer if variant != "rules" else None, variant, args.split, args.errors)


def measure(articles, scorer, variant: str, split: str, errors: int) -> None:
    tp = fp = fn = 0
    caught_named = caught_right = all_named = 0
    missed, wrong = [], []
    for article in articles:
        for sent, voice, reported, source in sentences_of(article, scorer, variant):
            predicted = voice.label != "editorial"
            tp += predicted and reported
            fp += predicted and not reported
            fn += reported and not predicted
            if reported and source:
                all_named += 1
                if predicted:
                    caught_named += 1
                    right = same_source(voice.source, source)
                    caught_right += right
                    if not right:
                        wrong.append((sent.text, voice.source, source))
            if reported and not predicted:
                missed.append(sent.text)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    report = {
        "corpus": f"PolNeAR {split}, {len(articles)} articles",
        "voice": {
            "rules": "rules (stance/voice.py)",
            "tagger": "attribution head",
            "tagger+quotes": "attribution head, plus the rules' quotation marks",
        }[variant],
        "sentences_reported_speech_gold": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "source_named_correctly_of_caught": round(caught_right / caught_named, 4) if caught_named else None,
        "source_named_correctly_of_all": round(caught_right / all_named, 4) if all_named else None,
    }
    print(json.dumps(report, indent=2))
    for text in missed[:errors]:
        print("MISSED:", text.replace("\n", " ")[:200])
    for text, predicted, gold in wrong[:errors]:
        print(f"WRONG SOURCE: {predicted!r} (gold {gold!r}): {text[:160]!r}")


if __name__ == "__main__":
    main()
