"""Turning the corpora's loaded-term annotations into character spans of a sentence."""

from __future__ import annotations

import re

from .examples import Span


def _word_pattern(word: str) -> re.Pattern[str] | None:
    parts = re.findall(r"\w+|[^\w\s]", word)
    if not parts:
        return None
    body = r"\s*".join(re.escape(p) for p in parts)
    # Word boundaries only where the annotated word itself starts/ends with a word character,
    # so "anti-" or "'extreme'" still match.
    left = r"(?<!\w)" if parts[0][0].isalnum() or parts[0][0] == "_" else ""
    right = r"(?!\w)" if parts[-1][-1].isalnum() or parts[-1][-1] == "_" else ""
    return re.compile(left + body + right, re.IGNORECASE)


def align_words(text: str, words: list[str], category: str = "loaded_language") -> tuple[list[Span], list[str]]:
    """Find every annotated word of `words` in `text`.

    BABE/MBIC give biased words as strings, not offsets. Case and spacing differ
    between the word list and the sentence, so matching is case-insensitive and
    whitespace-tolerant. Every occurrence is marked, because the list does not say
    which one the annotator meant. Returns the spans and the words not found.
    """
    spans: list[Span] = []
    missing: list[str] = []
    for word in words:
        pattern = _word_pattern(word.strip())
        matches = list(pattern.finditer(text)) if pattern else []
        if not matches:
            missing.append(word)
        spans.extend(Span(m.start(), m.end(), category) for m in matches)
    return merge_spans(spans), missing


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sort spans and merge overlapping ones of the same category; the first category wins otherwise."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.category == last.category:
                last.end = max(last.end, span.end)
            # A span of another category that overlaps is dropped: one tag per word.
            continue
        merged.append(Span(span.start, span.end, span.category))
    return merged


def cut_spans_into_sentence(spans: list[Span], sent_start: int, sent_end: int) -> list[Span]:
    """Clip article-level spans to one sentence and make them sentence-relative."""
    out = []
    for span in spans:
        start, end = max(span.start, sent_start), min(span.end, sent_end)
        if start < end:
            out.append(Span(start - sent_start, end - sent_start, span.category))
    return merge_spans(out)


def strip_span(text: str, span: Span) -> Span | None:
    """Trim surrounding whitespace and quote marks that annotators often include."""
    start, end = span.start, span.end
    junk = " \t\n\"'“”‘’.,;:"
    while start < end and text[start] in junk:
        start += 1
    while end > start and text[end - 1] in junk:
        end -= 1
    return Span(start, end, span.category) if start < end else None
