"""Whose words are these? Editorial voice, quoted speech, or attributed (reported) speech.

Rule-based, because the cues are lexical and reliable in news style: quotation marks
(straight or curly, across sentence boundaries) and speech verbs ("X said", "according
to X", "X warned that"). The source is named whenever the text names it; a pronoun
("he said") resolves to the last named source in the article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .records import ATTRIBUTED, EDITORIAL, QUOTED, VoiceField, voice_field
from .segmentation import Sentence

SPEECH_VERBS = (
    "said|says|say|told|tells|warned|warns|claimed|claims|stated|states|added|adds|noted|notes|argued|argues|"
    "insisted|insists|announced|announces|explained|explains|asserted|asserts|alleged|alleges|wrote|writes|"
    "tweeted|tweets|declared|declares|stressed|stresses|admitted|admits|denied|denies|accused|accuses|urged|"
    "urges|suggested|suggests|acknowledged|acknowledges|confirmed|confirms|criticized|criticised|criticizes|"
    "criticises|called|calls|described|describes|spoke|speaks|maintained|maintains|contended|contends|"
    "complained|complains|continued|continues|vowed|vows|threatened|threatens|predicted|predicts|believes|believed|thinks|thought|"
    # reporting and evaluative speech: "the office reported", "X slammed the plan as ..."
    "reported|reports|replied|replies|responded|responds|asked|asks|recalled|recalls|revealed|reveals|"
    "estimated|estimates|conceded|concedes|countered|counters|testified|insisted|pledged|pledges|promised|"
    "slammed|slams|blasted|blasts|condemned|condemns|praised|praises|dismissed|dismisses|rejected|rejects|"
    "branded|brands|labelled|labeled|questioned|questions|"
    r"point(?:s|ed)?\s+out|pointing\s+out"
)
_START = r"(?<![\w’'-])"  # a source starts at a word boundary, never mid-word
_NAME = r"(?:[A-Z][\w’'.-]*(?:\s+(?:(?:al|bin|ibn|de|van|von|der|of|the|for|and)[-\s]+)*[A-Z][\w’'.-]*)*)"
# Nouns that name an institution or a role rather than a person; any case ("the Helsinki Committee").
_ROLE_NOUN = (
    r"(?i:officials?|spokes(?:man|woman|person)|ministry|minister|government|police|army|military|leader|"
    r"commander|president|prime minister|governor|mayor|analysts?|experts?|sources?|critics?|residents?|"
    r"witnesses|activists?|statement|reports?|agency|group|movement|authorities|lawmakers?|senators?|"
    r"diplomats?|observers?|officers?|prosecutors?|lawyers?|politicians?|secretary|chief|director|chairman|"
    r"ambassador|envoy|campaign|party|committee|council|court|judge|company|firm|office|union|utility|bureau|"
    r"department|institute|organi[sz]ation|association|federation|commission|board|bank|regulator|operator|"
    r"investigators?|researchers?|scientists?|economists?|doctors?|spokespeople|representatives?|aides?)"
)
# Up to two modifiers before the noun ("the statistics office"), never a preposition ("with the group").
_MODIFIER = r"(?:(?!(?:with|in|on|at|of|for|from|by|to|and|or|but|as|than|the|a|an)\b)[A-Za-z’'-]+\s+)"
_ROLE = rf"(?:(?:[Tt]he|[Aa]n?|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts)\s+)?{_MODIFIER}{{0,2}}{_ROLE_NOUN}\b"
_PRONOUN = r"(?:he|she|they|it|He|She|They|It)"
_PERSON_PRONOUN = re.compile(r"(?:he|she|He|She)")
_VERB = rf"(?:{SPEECH_VERBS})"
# After "said", a time or place is not the speaker: "said on Sunday", "said in a statement", "noted Friday".
_NOT_A_SOURCE = (
    r"(?!(?:in|on|at|to|during|after|before|by|with|from|of|for|about|last|this|that|earlier|later|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\b)"
)

# "according to X"
_ACCORDING = re.compile(rf"\b(?:[Aa]ccording to|[Aa]s (?:reported|stated) by)\s+(?P<src>{_ROLE}|{_NAME})")
# "X said", "X, a militia leader, warned that"
_SOURCE_VERB = re.compile(
    rf"{_START}(?P<src>{_ROLE}|{_NAME}|{_PRONOUN})(?:(?:,[^,]{{1,100}}){{1,3}},)?\s+(?:also\s+|later\s+|on \w+\s+)?{_VERB}\b"
)
# "a researcher with the group, Matthew Collins, said": the name in the apposition speaks
_APPOSED_NAME = re.compile(rf",\s+(?P<src>{_NAME}),\s+(?:also\s+)?{_VERB}\b")
# "..., said X" / "..., X said"
_VERB_SOURCE = re.compile(rf"\b{_VERB}\s+{_NOT_A_SOURCE}(?P<src>{_ROLE}|{_NAME})")
# Every attribution pattern needs one of these words; most sentences have none, and this one
# cheap search spares them the three patterns above (which backtrack at every capital letter).
_CUE = re.compile(rf"\b(?:[Aa]ccording to|[Aa]s (?:reported|stated) by|{_VERB})\b")
# "so-called X" is the outlet's scare quote, not speech: blanked before the cues are looked for.
_SO_CALLED = re.compile(r"\bso-called\b", re.IGNORECASE)
_QUOTE_MARK = re.compile('["“«„‘]')
_SINGLE_CLOSE = re.compile(r"’(?![A-Za-z])")

OPEN_CLOSE = {"“": "”", "«": "»", "„": "“"}


@dataclass(frozen=True)
class Voice:
    label: str  # editorial | quoted | attributed
    source: str | None = None

    def as_field(self) -> VoiceField:
        return voice_field(self.label, self.source)


def quote_regions(text: str, max_len: int = 3000) -> list[tuple[int, int]]:
    """Character ranges inside quotation marks (the marks excluded). Curly quotes may span
    sentences and paragraphs; straight quotes pair within a paragraph."""
    regions: list[tuple[int, int]] = []
    i = 0
    while True:
        mark = _QUOTE_MARK.search(text, i)  # jump to the next quotation mark
        if mark is None:
            return regions
        i = mark.start()
        ch = text[i]
        if ch in OPEN_CLOSE:
            close = text.find(OPEN_CLOSE[ch], i + 1, i + 1 + max_len)
            if close > i:
                regions.append((i + 1, close))
                i = close + 1
                continue
        elif ch == '"':
            para_end = text.find("\n\n", i)
            para_end = len(text) if para_end < 0 else para_end
            close = text.find('"', i + 1, min(para_end, i + 1 + max_len))
            if close > i:
                regions.append((i + 1, close))
                i = close + 1
                continue
            if (i == 0 or text[i - 1] == "\n") and para_end - i <= max_len:
                # News style: a quote running over several paragraphs opens each one and closes
                # only the last, so a paragraph that opens with an unclosed quote is quoted whole.
                regions.append((i + 1, para_end))
                i = para_end
                continue
        elif ch == "‘" and (i == 0 or not text[i - 1].isalnum()):
            m = _SINGLE_CLOSE.search(text, i + 1, min(len(text), i + 1 + max_len))
            if m:
                regions.append((i + 1, m.start()))
                i = m.end()
                continue
        i += 1


def inside_share(start: int, end: int, regions: Sequence[tuple[int, int]]) -> float:
    covered = sum(max(0, min(end, e) - max(start, s)) for s, e in regions)
    return covered / max(1, end - start)


def _outside_quotes(sentence: Sentence, regions: Sequence[tuple[int, int]]) -> str:
    """The sentence with quoted stretches blanked out, so cues are only found in the outlet's words."""
    chars = list(sentence.text)
    for s, e in regions:
        for k in range(max(s, sentence.start), min(e, sentence.end)):
            chars[k - sentence.start] = " "
    return "".join(chars)


def find_attribution(text: str) -> tuple[str | None, str | None]:
    """(source, cue) of the first attribution in `text`, or (None, None)."""
    text = _SO_CALLED.sub(lambda m: " " * len(m.group()), text)
    if not _CUE.search(text):
        return None, None
    for pattern in (_ACCORDING, _APPOSED_NAME, _SOURCE_VERB, _VERB_SOURCE):
        m = pattern.search(text)
        if m:
            source = m.group("src").strip(" ,")
            if pattern is _VERB_SOURCE and re.fullmatch(_PRONOUN, source):
                continue
            return source, m.group(0)
    return None, None


def _clean_source(source: str | None) -> str | None:
    if source is None:
        return None
    source = re.sub(r"^(?:[Tt]he|[Aa]n?)\s+", "", source)
    if source.endswith(".") and "." not in source.split()[-1][:-1]:
        source = source[:-1]  # the sentence's full stop, not an abbreviation such as "U.S."
    return source.strip() or None


def assign_voices(text: str, sentences: Sequence[Sentence]) -> tuple[list[Voice], list[tuple[int, int]]]:
    """A `Voice` per sentence, plus the document's quote regions (for loaded terms)."""
    regions = quote_regions(text)
    attributions = []
    for sent in sentences:
        source, cue = find_attribution(_outside_quotes(sent, regions))
        attributions.append((_clean_source(source), cue))
    voices: list[Voice] = []
    # "he" / "she" refer to the nearest named person; "they" / "it" to the nearest named source of any kind
    # ("police said ... he said" is not the police).
    last_named: str | None = None
    last_person: str | None = None
    for k, sent in enumerate(sentences):
        source, cue = attributions[k]
        if source and re.fullmatch(_PRONOUN, source):
            source = last_person if _PERSON_PRONOUN.fullmatch(source) else last_named
        elif source:
            last_named = source
            if _is_person(source):
                last_person = source
        quoted = inside_share(sent.start, sent.end, regions) >= 0.5
        if quoted and source is None and voices and voices[-1].label != EDITORIAL and _continues_quote(sent, regions):
            source = voices[-1].source  # a quote running on from the previous sentence keeps its speaker
        if quoted and source is None:
            # A quote's speaker is often named in the sentence before or after it.
            for j in (k - 1, k + 1):
                if 0 <= j < len(sentences) and attributions[j][0]:
                    neighbour = attributions[j][0]
                    if re.fullmatch(_PRONOUN, neighbour):
                        neighbour = last_person if _PERSON_PRONOUN.fullmatch(neighbour) else last_named
                    source = neighbour
                    break
        if quoted:
            voices.append(Voice(QUOTED, source))
        elif cue:
            voices.append(Voice(ATTRIBUTED, source))
        else:
            voices.append(Voice(EDITORIAL))
    return voices, regions


def _is_person(source: str) -> bool:
    """A capitalised name whose last word is not an institution or role ("Anna Berg", not "Helsinki Committee")."""
    return source[:1].isupper() and not re.search(rf"{_ROLE_NOUN}$", source)


def _continues_quote(sentence: Sentence, regions: Sequence[tuple[int, int]]) -> bool:
    return any(s < sentence.start < e for s, e in regions)


def term_voice(start: int, end: int, sentence_voice: Voice, regions: Sequence[tuple[int, int]]) -> Voice:
    """A loaded term inside quotation marks is the quoted source's; otherwise it shares its sentence's voice."""
    if inside_share(start, end, regions) > 0.5:
        return Voice(QUOTED, sentence_voice.source)
    if sentence_voice.label == QUOTED:
        # The unquoted part of a mostly quoted sentence is the reporter's framing of the quote.
        return Voice(ATTRIBUTED if sentence_voice.source else EDITORIAL, sentence_voice.source)
    return sentence_voice
