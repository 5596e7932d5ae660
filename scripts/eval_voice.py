"""Voice (who is speaking) measured on annotated news: PolNeAR's attribution spans.

    python scripts/eval_voice.py                                 # the rules, on ../shared/data/polnear/dev
    python scripts/eval_voice.py --split train --limit 200       # another compartment, fewer articles
    python scripts/eval_voice.py --errors 20                     # also print missed and wrong sentences
    python scripts/eval_voice.py --model models/default --ablations   # the head beside the rules, and
                                                                 # without its neighbour / pronoun steps

Per sentence (stance's own segmentation), as issue 10 defines it:
- gold: the sentence is reported speech when at least half of its non-space characters lie in some
  attribution's Source, Cue or Content span;
- predicted: the voice is `quoted` or `attributed`.
Reported: precision, recall and F1 of "reported speech", and how often the source is named correctly:
the predicted source matches the Source of the attribution that covers most of the sentence
(case-insensitive, leading "the" dropped, one contained in the other; a pronoun Source also accepts its
antecedent, see `gold_names`), over the reported-speech sentences caught whose attribution names a
source, and over all such sentences; and, for the pronoun Sources among them, how often the name
given is the antecedent (pronoun resolution).
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
from stance.voice import SPEECH_CUE, assign_voices, is_person, tagger_voices  # noqa: E402

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
    """Each attribution's Source text. A pronoun Source ("He") also accepts its antecedent: the nearest
    earlier named Source that fits it (a person's name for he / she), as stance resolves pronouns; the
    form "He|Donald Trump" marks such a Source. PolNeAR has no coreference links, so this antecedent
    is itself a guess (right in most cases, checked by eye on --errors)."""
    text, names, last, last_person = article.text, {}, None, None
    for k, a in sorted(enumerate(article.attributions), key=lambda ka: min((s for s, _ in ka[1].source), default=0)):
        if not a.source:
            continue
        name = " ".join(text[s:e] for s, e in a.source)
        low = normalise(name)
        if low in PRONOUNS:
            antecedent = last_person if low in ("he", "she") else last
            names[k] = f"{name}|{antecedent}" if antecedent else name
        else:
            names[k], last = name, name
            if is_person(name):
                last_person = name
    return names


def head_readings(scorer, article: AttributedArticle, sentences):
    """The attribution head's reading of each sentence, from one `stance score` run over the article."""
    import stance.scoring
    from stance.documents import Document

    captured = []

    def capture(text, sents, readings, **options):
        captured.append(readings)
        return tagger_voices(text, sents, readings, **options)

    stance.scoring.tagger_voices = capture  # the scorer's own call, observed
    try:
        records = [r for r in scorer.score([Document(article.name, article.name, article.text)])]
    finally:
        stance.scoring.tagger_voices = tagger_voices
    assert [r["start"] for r in records if r["record"] == "sentence"] == [s.start for s in sentences]
    return captured[0]


def sentences_of(article: AttributedArticle, voices):
    """(sentence, voice, gold reported?, gold source or None) for each sentence of an article."""
    text = article.text
    names = gold_names(article)
    sentences = split_sentences(text)
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


VARIANTS = {
    "rules": "rules (stance/voice.py assign_voices): what models without the attribution head get",
    "head": "attribution head plus quotation marks, as stance score writes it",
    "head, no neighbours": "the same, but a sentence without its own source takes none from its neighbours",
    "head, no pronoun resolution": "the same, but pronoun and role sources kept as written",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--split", default="dev", choices=("dev", "train"))
    parser.add_argument("--limit", type=int, default=0, help="first N articles only (0: all)")
    parser.add_argument("--errors", type=int, default=0, help="print this many missed / wrong sentences")
    parser.add_argument("--model", type=Path, help="a model with the attribution head: measure it beside the rules")
    parser.add_argument(
        "--ablations", action="store_true", help="also the head without neighbours / pronoun resolution"
    )
    args = parser.parse_args()
    articles = read_polnear(args.root / args.split)
    if args.limit:
        articles = articles[: args.limit]
    sentences = {a.name: split_sentences(a.text) for a in articles}
    voices = {"rules": {a.name: assign_voices(a.text, sentences[a.name])[0] for a in articles}}
    if args.model:
        from stance.scoring import Scorer

        scorer = Scorer(args.model, device="cpu", precision="fp32", auto_targets=0)
        if scorer.voice_head is None:
            sys.exit(
                f"expected a model with the attribution head, found heads {[h.name for h in scorer.model.head_specs]}"
            )
        readings = {a.name: head_readings(scorer, a, sentences[a.name]) for a in articles}
        options = {"head": {}}
        if args.ablations:
            options |= {"head, no neighbours": {"neighbours": False}, "head, no pronoun resolution": {"resolve": False}}
        for variant, kw in options.items():
            voices[variant] = {
                a.name: tagger_voices(a.text, sentences[a.name], readings[a.name], **kw)[0] for a in articles
            }
    for variant, by_article in voices.items():
        measure(articles, by_article, variant, args.split, args.errors)
    # Word-level source / cue / content F1: the head's spans, and what the rules imply.
    tagged = {"rules": {a.name: rule_spans(a.text, sentences[a.name], voices["rules"][a.name]) for a in articles}}
    if args.model:
        tagged["head"] = {a.name: [sp for r in readings[a.name] for sp in r.spans] for a in articles}
    for variant, spans in tagged.items():
        print(json.dumps({"voice": VARIANTS[variant], "word_f1": word_f1_by_category(articles, spans)}, indent=2))


def rule_spans(text: str, sentences, voices) -> list[tuple[int, int, str]]:
    """The spans the rules imply: in each reported sentence, its source, its speech verbs ("said",
    "according to") as cues, and every other word outside them as content."""
    spans = []
    for sent, voice in zip(sentences, voices):
        if voice.label == "editorial":
            continue
        taken = []
        if voice.source_start is not None and sent.start <= voice.source_start < sent.end:
            taken.append((voice.source_start, voice.source_end, "source"))
        for m in SPEECH_CUE.finditer(sent.text):
            taken.append((sent.start + m.start(), sent.start + m.end(), "cue"))
        spans += taken
        for m in re.finditer(r"\S+", sent.text):
            start, end = sent.start + m.start(), sent.start + m.end()
            if not any(s < end and start < e for s, e, _ in taken):
                spans.append((start, end, "content"))
    return spans


def word_f1_by_category(articles, predicted: dict) -> dict:
    """Per category, P / R / F1 over the article's words (whitespace-separated): a word belongs to the
    category of the span holding its first character."""
    counts = {c: [0, 0, 0] for c in ("source", "cue", "content")}  # true positives, predicted, gold
    for article in articles:
        gold = [(s, e, c) for a in article.attributions for c, part in
                (("source", a.source), ("cue", a.cue), ("content", a.content)) for s, e in part]  # fmt: skip
        for m in re.finditer(r"\S+", article.text):
            g = next((c for s, e, c in gold if s <= m.start() < e), None)
            p = next((c for s, e, c in predicted[article.name] if s <= m.start() < e), None)
            for c in counts:
                counts[c][0] += g == c and p == c
                counts[c][1] += p == c
                counts[c][2] += g == c
    out = {}
    for c, (tp, n_pred, n_gold) in counts.items():
        precision, recall = tp / n_pred if n_pred else 0.0, tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[c] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
    return out


def measure(articles, voices: dict, variant: str, split: str, errors: int) -> None:
    tp = fp = fn = 0
    caught_named = caught_right = all_named = 0
    pronouns = pronouns_right = 0
    missed, wrong = [], []
    for article in articles:
        for sent, voice, reported, source in sentences_of(article, voices[article.name]):
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
                    if "|" in source:  # a pronoun source with a named antecedent
                        pronouns += 1
                        pronouns_right += same_source(voice.source, source.split("|", 1)[1])
            if reported and not predicted:
                missed.append(sent.text)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    report = {
        "corpus": f"PolNeAR {split}, {len(articles)} articles",
        "voice": VARIANTS[variant],
        "sentences_reported_speech_gold": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "source_named_correctly_of_caught": round(caught_right / caught_named, 4) if caught_named else None,
        "source_named_correctly_of_all": round(caught_right / all_named, 4) if all_named else None,
        "pronoun_sources_caught": pronouns,
        "pronoun_resolved_to_the_antecedent": round(pronouns_right / pronouns, 4) if pronouns else None,
    }
    print(json.dumps(report, indent=2))
    for text in missed[:errors]:
        print("MISSED:", text.replace("\n", " ")[:200])
    for text, predicted, gold in wrong[:errors]:
        print(f"WRONG SOURCE: {predicted!r} (gold {gold!r}): {text[:160]!r}")


if __name__ == "__main__":
    main()
