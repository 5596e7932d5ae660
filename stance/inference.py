"""Running a model over encoded sentences: length-sorted batches, probabilities per head, span decoding."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .defaults import MAX_BATCH_TOKENS
from .engines import as_engine
from .features import Encoded, model_inputs
from .labels import LOADED_TAGS, TAG_TO_ID


@dataclass
class SentencePrediction:
    """Each head's output for one sentence, by head name (see each head's `outputs` in heads.py)."""

    outputs: dict[str, Any] = field(default_factory=dict)

    # The built-in heads' outputs by name, for readers that want one of them.
    @property
    def framing_logit(self) -> float:
        return self.outputs["framing"][0]

    @property
    def framing_score(self) -> float:
        """Calibrated probability of editorial framing."""
        return self.outputs["framing"][1]

    @property
    def word_tag_probs(self) -> list[list[float]]:
        """Per word, per BIO tag."""
        return self.outputs["loaded_terms"]

    @property
    def mention_probs(self) -> list[list[float]]:
        """Per mention, per stance label."""
        return self.outputs.get("stance", [])


def length_batches(
    lengths: Sequence[int], batch_size: int, max_tokens: int | None = MAX_BATCH_TOKENS
) -> list[list[int]]:
    """Indices grouped into batches of similar length, which keeps padding (wasted compute) low.

    A batch holds at most `batch_size` sentences and at most `max_tokens` padded tokens (never
    fewer than one sentence).
    """
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        # Sorted ascending, so lengths[i] is the padded length of `current` once i joins it.
        if current and (len(current) == batch_size or (max_tokens and (len(current) + 1) * lengths[i] > max_tokens)):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def predict(
    model,
    encoded: Sequence[Encoded],
    pad_id: int,
    batch_size: int = 64,
    device=None,
    max_tokens: int | None = MAX_BATCH_TOKENS,
    on_batch: Callable[[int], None] | None = None,
) -> list[SentencePrediction]:
    """Predictions in the order of `encoded`. `model` is an engine (engines.py) or a torch StanceModel,
    run on `device` (default: where its weights are); `on_batch(n)` is told after each batch of n sentences."""
    engine = as_engine(model, device)
    results: list[SentencePrediction | None] = [None] * len(encoded)
    for idx in length_batches([len(e) for e in encoded], batch_size, max_tokens):
        batch = [encoded[i] for i in idx]
        out = engine.run(model_inputs(batch, pad_id, engine.mark_mentions))
        # Each head decodes its whole batch at once: per-sentence array ops cost more than the model.
        per_head = {h.name: h.outputs(out.get(h.name), batch, engine) for h in engine.head_specs}
        for row, i in enumerate(idx):
            results[i] = SentencePrediction({name: values[row] for name, values in per_head.items()})
        if on_batch is not None:
            on_batch(len(idx))
    return results  # type: ignore[return-value]


O_ID = TAG_TO_ID["O"]


@dataclass
class DecodedSpan:
    start: int
    end: int
    category: str
    score: float


def word_tag(probs: Sequence[float], threshold: float, tags: Sequence[str] = LOADED_TAGS) -> str:
    """A word is tagged when P(not O) >= threshold; its tag is then the likeliest non-O tag (O is tags[0])."""
    if 1.0 - probs[O_ID] < threshold:
        return "O"
    return tags[max((i for i in range(len(probs)) if i != O_ID), key=probs.__getitem__)]


def _joined(text: str, left: tuple[int, int], right: tuple[int, int]) -> bool:
    """Are two adjacent words parts of one hyphenated compound ("so" "-" "called")?"""
    return (
        left[1] == right[0]
        and (text[left[1] - 1] == "-" or text[right[0]] == "-")
        and (
            right[1] - right[0] > 1 or text[right[0]] != "-" or (right[1] < len(text) and not text[right[1]].isspace())
        )
    )


def decode_spans(
    word_spans: Sequence[tuple[int, int]],
    word_tag_probs: Sequence[Sequence[float]],
    threshold: float = 0.5,
    text: str | None = None,
    tags: Sequence[str] = LOADED_TAGS,
    content_words_only: bool = True,
    extend: float | None = None,
) -> list[DecodedSpan]:
    """BIO decoding of thresholded word tags (`tags`, "O" first); an I- without a matching B- opens a span.

    With `extend` (below `threshold`), a span grows over neighbouring words whose P(not O) >= extend
    (hysteresis), so a phrase the tagger is sure of in one word comes out whole ("deceptive move").

    A span's score is the mean, over its words, of the probability that the word
    belongs to the span's category (B or I). Given the sentence `text`, punctuation-only
    words at a span's edges are dropped ("bloated," -> "bloated"), spans are snapped to whole
    words, and with `content_words_only` a span of function words alone is dropped.
    """
    if all(1.0 - probs[O_ID] < threshold for probs in word_tag_probs):
        return []  # every word is O (word_tag's test): most sentences, decoded without the loop below
    tag_to_id = {t: i for i, t in enumerate(tags)}
    spans: list[DecodedSpan] = []
    current: list[int] = []
    category = None

    def is_punct(w: int) -> bool:
        return text is not None and not any(c.isalnum() for c in text[word_spans[w][0] : word_spans[w][1]])

    def close() -> None:
        while (
            current
            and text is not None
            and current[0] > 0
            and _joined(text, word_spans[current[0] - 1], word_spans[current[0]])
        ):
            current.insert(0, current[0] - 1)  # a span starting mid-compound takes the whole compound
        while current and is_punct(current[-1]):
            current.pop()
        while current and is_punct(current[0]):
            current.pop(0)
        if current and spans and word_spans[current[0]][0] < spans[-1].end:
            previous = spans.pop()  # the widened span now overlaps the one before: merge them
            current[:0] = [w for w in range(current[0]) if word_spans[w][0] >= previous.start]
        if current:
            b, i = tag_to_id[f"B-{category}"], tag_to_id[f"I-{category}"]
            scored = [w for w in current if not is_punct(w)] or current  # a hyphen does not dilute the score
            score = sum(word_tag_probs[w][b] + word_tag_probs[w][i] for w in scored) / len(scored)
            spans.append(DecodedSpan(word_spans[current[0]][0], word_spans[current[-1]][1], category, score))

    word_tags = [word_tag(probs, threshold, tags) for probs in word_tag_probs]
    if extend is not None and extend < threshold:
        _extend_tags(word_tags, word_tag_probs, extend)
    for w, tag in enumerate(word_tags):
        if tag == "O" and current and text is not None and _joined(text, word_spans[w - 1], word_spans[w]):
            tag = f"I-{category}"  # the rest of a hyphenated compound: "anti-terror", "so-called"
        if tag == "O":
            close()
            current, category = [], None
            continue
        prefix, cat = tag.split("-", 1)
        if prefix == "B" or cat != category:
            close()
            current, category = [w], cat
        else:
            current.append(w)
    close()
    if text is None:
        return spans
    return _whole_words(spans, word_spans, word_tag_probs, text, tag_to_id, content_words_only)


def _extend_tags(word_tags: list[str], word_tag_probs: Sequence[Sequence[float]], extend: float) -> None:
    """Tag, in place, the O words next to a tagged word whose P(not O) >= `extend`, with that word's
    category: to the right as I-, to the left as a new B- (the old B- becomes I-)."""
    for w in range(1, len(word_tags)):  # rightwards: each extension can extend again
        if word_tags[w] == "O" and word_tags[w - 1] != "O" and 1.0 - word_tag_probs[w][O_ID] >= extend:
            word_tags[w] = "I-" + word_tags[w - 1].split("-", 1)[1]
    for w in range(len(word_tags) - 2, -1, -1):  # leftwards
        if word_tags[w] == "O" and word_tags[w + 1] != "O" and 1.0 - word_tag_probs[w][O_ID] >= extend:
            category = word_tags[w + 1].split("-", 1)[1]
            word_tags[w], word_tags[w + 1] = "B-" + category, "I-" + category


# Words that carry no slant on their own: a term made only of these ("a", "this", "of the") is noise.
FUNCTION_WORDS = frozenset(
    """a an the this that these those it its he she they them his her their we us our you your i me my
    of to in on at by for from with as into onto over under about than then and or but nor so yet if
    is are was were be been being am do does did has have had will would shall should can could may might must
    not no there here which who whom whose what when where why how all any some such own same very just""".split()
)


def _core(text: str, start: int, end: int) -> tuple[int, int]:
    """The whitespace-delimited word around [start, end), without its edge punctuation."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return start, end


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Span edges moved to word boundaries, so a term never starts or ends inside a word.

    The tokenizer splits "Mayor's" and "al-Sha'abi" into pieces, and the tagger may mark only some
    of them. An edge inside a word keeps that word when most of its characters are in the span
    ("al-Sha" -> "al-Sha'abi") and drops it otherwise ("s Shameful" -> "Shameful").
    """
    cs, ce = _core(text, start, start + 1)
    if start > cs:
        if 2 * (min(end, ce) - start) >= ce - cs:
            start = cs
        else:
            start = ce
            while start < end and not text[start].isalnum():
                start += 1
    elif start < cs < end:
        start = cs
    if start >= end:
        return None
    cs, ce = _core(text, end - 1, end)
    if end < ce:
        if 2 * (end - max(start, cs)) >= ce - cs:
            end = ce
        else:
            end = cs
            while end > start and not text[end - 1].isalnum():
                end -= 1
    elif end > ce > start:
        end = ce
    return (start, end) if start < end else None


# Conjunctions never begin or end a loaded term ("reckless and", "and cowardly attack"). Articles and
# prepositions stay: PTC's spans often include them ("the so-called"), and trimming them cost PTC word F1.
EDGE_WORDS = frozenset("and or but nor".split())


def _trim_edge_words(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without leading and trailing EDGE_WORDS (a span of them alone is kept as is)."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]

    def edge(w: tuple[int, int]) -> bool:
        return "".join(c for c in text[w[0] : w[1]] if c.isalnum()).lower() in EDGE_WORDS

    first, last = 0, len(words) - 1
    while first < last and edge(words[first]):
        first += 1
    while last > first and edge(words[last]):
        last -= 1
    return (words[first][0], words[last][1]) if words else (start, end)


def _only_function_words(text: str) -> bool:
    words = ["".join(c for c in w if c.isalnum()).lower() for w in text.split()]
    return all(w in FUNCTION_WORDS for w in words if w)


def _whole_words(
    spans: list[DecodedSpan],
    word_spans: Sequence[tuple[int, int]],
    word_tag_probs: Sequence[Sequence[float]],
    text: str,
    tag_to_id: dict[str, int] = TAG_TO_ID,
    content_words_only: bool = True,
) -> list[DecodedSpan]:
    """Spans snapped to whole words, function-word-only spans dropped (with `content_words_only`),
    overlaps merged, scores re-taken over the tagger's words inside each final span."""
    out: list[DecodedSpan] = []
    for span in spans:
        snapped = snap_to_words(text, span.start, span.end)
        if snapped is None or (content_words_only and _only_function_words(text[snapped[0] : snapped[1]])):
            continue
        start, end = _trim_edge_words(text, *snapped) if content_words_only else snapped
        if out and start < out[-1].end:
            previous = out.pop()  # snapping widened this span into the one before: merge them
            start, end = previous.start, max(end, previous.end)
            span = previous if previous.score >= span.score else span
        b, i = tag_to_id[f"B-{span.category}"], tag_to_id[f"I-{span.category}"]
        inside = [
            w for w, (s, e) in enumerate(word_spans) if s >= start and e <= end and any(c.isalnum() for c in text[s:e])
        ]
        score = (
            (sum(word_tag_probs[w][b] + word_tag_probs[w][i] for w in inside) / len(inside)) if inside else span.score
        )
        out.append(DecodedSpan(start, end, span.category, min(1.0, score)))
    return out
