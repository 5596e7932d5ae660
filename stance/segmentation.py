"""Sentence segmentation with exact character offsets into the document.

Rule-based on purpose: it must never lose or shift a character, must be fast
enough to stay off the model's critical path, and copes with the news-specific
cases that trip generic splitters (U.S., Gen., Jan., initials, quotes, lists).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# fmt: off
# Titles and ranks: abbreviations that always precede a name.
_RANKS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "rev", "hon", "gen", "lt", "col", "maj", "capt", "cpt",
    "sgt", "adm", "cmdr", "gov", "sen", "rep", "pres", "supt", "det", "insp", "atty", "amb", "fr",
}
ABBREVIATIONS = _RANKS | {
    # months and days
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    # common others
    "no", "nos", "vol", "vols", "fig", "figs", "approx", "est", "dept", "univ", "inc", "ltd", "co", "corp",
    "vs", "v", "etc", "al", "ave", "blvd", "rd", "mt", "ft", "pp", "p", "cf", "e.g", "i.e", "a.m", "p.m",
}
# Titles always precede a name; other abbreviations can end a sentence ("... in the U.S. The ...").
TITLES = _RANKS | {"no", "nos", "vol", "fig", "figs", "pp", "p", "vs", "v", "mt", "ft", "cf", "e.g", "i.e"}
# fmt: on
SENTENCE_STARTERS = set(
    "The He She It They We I In But And A An This That These Those There His Her Their Our Its What When "
    "However Meanwhile Yet So If As After Before While Now Then Still".split()
)

# End of sentence: terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’»)\]]*(?=\s)""")
_NEXT_START = re.compile(r"""\s+["'“‘«(\[]*[A-Z0-9]""")
_LINE_BREAK = re.compile(r"\n\s*")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def _abbreviation(text: str, dot: int) -> str | None:
    """The abbreviation that the '.' at `dot` ends, if it ends one."""
    m = re.search(r"([A-Za-z][A-Za-z.]*)$", text[max(0, dot - 12) : dot])
    if not m:
        return None
    word = m.group(1)
    return word if _is_abbreviation_word(word) else None


def _is_abbreviation_word(word: str) -> bool:
    if "." in word:  # U.S., e.g., a.m. — dotted acronyms
        return True
    if len(word) == 1 and word.isupper():  # an initial: "John F. Kennedy"
        return True
    return word.lower() in ABBREVIATIONS


def _ends_sentence_anyway(abbreviation: str, text: str, stop: int, end: int) -> bool:
    """An abbreviation other than a title, followed by a quote or a typical first word, ends the sentence."""
    if abbreviation.lower() in TITLES or (len(abbreviation) == 1 and abbreviation.isupper()):
        return False
    following = text[stop:end].lstrip()
    first = re.match(r"\S+", following)
    return bool(first) and (following[0] in '"“‘«' or first.group(0) in SENTENCE_STARTERS)


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one line/paragraph [start, end) into sentence offsets."""
    cuts, pos = [], start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        if not _NEXT_START.match(text, stop, end):
            continue  # next word is lower-case: "the U.S. economy", "said Mr. smith"
        abbreviation = _abbreviation(text, m.start()) if text[m.start()] == "." and m.end() - m.start() == 1 else None
        if abbreviation and not _ends_sentence_anyway(abbreviation, text, stop, end):
            continue
        cuts.append((pos, stop))
        pos = stop
    cuts.append((pos, end))
    return cuts


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")


def paragraph_numbers(text: str, sentences: list[Sentence]) -> list[int]:
    """The 0-based paragraph of each sentence: paragraphs are separated by blank lines (a title is
    paragraph 0)."""
    breaks = [m.end() for m in _PARAGRAPH_BREAK.finditer(text)]
    return [bisect.bisect_right(breaks, s.start) for s in sentences]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences in text order; `text[s.start:s.end] == s.text` always holds.

    Every line break ends a sentence (paragraphs, titles and list items are lines).
    """
    out = []
    bounds = [m.start() for m in _LINE_BREAK.finditer(text)] + [len(text)]
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    for line_start, line_end in zip(starts, bounds):
        for s, e in _split_block(text, line_start, line_end):
            s, e = _trim(text, s, e)
            if s < e:
                out.append(Sentence(s, e, text[s:e]))
    return out
