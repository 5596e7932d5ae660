"""Whose words are these? Editorial voice, quoted speech, or attributed (reported) speech.

Two readers, one output (a `Voice` per sentence, and the speech regions that give each loaded term
and stance mention its own voice):
- the attribution head (`tagger_voices`), trained on PolNeAR's source / cue / content spans, plus
  quotation marks: a sentence is reported speech when the head puts at least half of it inside
  attributions, or when it lies inside quotation marks;
- rules (`assign_voices`), for models without that head: quotation marks (straight or curly, across
  sentence boundaries) and speech verbs ("X said", "according to X", "X warned that").

A sentence without its own source takes its neighbour's (a quote runs on from the sentence before,
or '"..." he said.' follows it). Pronoun and role sources ("he", "they", "the official") resolve to
the nearest earlier named source that fits (`SourceResolver`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

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
# What makes a cue someone's words: speech, thought or evidence ("said", "believes", "according to",
# "in a statement"). A cue without any of these ("voted", "approves", "showed its contempt", "signed")
# reports a deed: the sentence stays the outlet's own. Matched per lower-cased word of the cue.
_SPEECH_WORD = re.compile(
    r"(?:say|says|said|saying|tell|tells|told|telling|according|report\w*|claim\w*|argu\w*|not(?:e|es|ed|ing)|"
    r"add(?:s|ed|ing)?|ask\w*|call(?:s|ed|ing)?|writ\w*|wrote|tweet\w*|post(?:s|ed|ing)?|announc\w*|suggest\w*|"
    r"think\w*|thought|believ\w*|belief|fear\w*|hop(?:e|es|ed|ing)|expect\w*|know\w*|knew|feel\w*|felt|"
    r"find\w*|found|reveal\w*|indicat\w*|warn\w*|accus\w*|critici\w*|describ\w*|declar\w*|insist\w*|admit\w*|"
    r"den(?:y|ies|ied|ying)|confirm\w*|explain\w*|comment\w*|respon\w*|repl(?:y|ies|ied|ying)|"
    r"stat(?:e|es|ed|ing|ement|ements)|interview\w*|e-?mail\w*|letter\w*|message\w*|speech\w*|mention\w*|"
    r"cit(?:e|es|ed|ing)|quot\w*|recall\w*|predict\w*|promis\w*|pledg\w*|vow\w*|urg(?:e|es|ed|ing)|prais\w*|"
    r"condemn\w*|denounc\w*|blast\w*|slam\w*|mock\w*|blam\w*|question\w*|conclu\w*|acknowledg\w*|assert\w*|"
    r"alleg\w*|contend\w*|maintain\w*|stress\w*|emphasi\w*|reiterat\w*|echo\w*|agree\w*|disagree\w*|"
    r"dismiss\w*|reject\w*|threaten\w*|complain\w*|conced\w*|counter\w*|testif\w*|estimat\w*|label\w*|"
    r"brand(?:s|ed|ing)|spok\w*|speak\w*|talk\w*|discuss\w*|remark\w*|point(?:s|ed|ing)?|express\w*|worr\w*|"
    r"doubt\w*|concern\w*|see|sees|saw|view\w*|consider\w*|seem\w*|inform\w*|advis\w*|assur\w*|"
    r"charg(?:e|es|ed|ing)|object\w*|demand\w*|request\w*|propos\w*|recommend\w*|impl(?:y|ies|ied)|hint\w*|"
    r"jok(?:e|es|ed|ing)|quip\w*|shout\w*|yell\w*|whisper\w*|lament\w*|boast\w*|brag\w*|retort\w*|rebut\w*|"
    r"refut\w*|disput\w*|learn\w*|heard|hear|hears|understand\w*|recogni[sz]\w*|realiz\w*|assum\w*|"
    r"wonder\w*|suspect\w*|determin\w*|rul(?:e|es|ed|ing)|opinion|view|views|editorial|op-ed|column)"
)
# Verbs of deeds, not words: a cue made of these (and no word above) reports an act ("the council voted",
# "City Council Approves Housing Plan", "the NYPD overruled that request"). The attribution head learnt
# PolNeAR's broad attributions (positions, plans, feelings: "wants", "is afraid", "supports"), which
# stay reported speech; only deeds are taken back.
_DEED_WORD = re.compile(
    r"(?:vot(?:e|es|ed|ing)|approv\w*|pass(?:es|ed|ing)?|sign(?:s|ed|ing)?|kill\w*|bomb\w*|strik(?:e|es|ing)|struck|"
    r"launch\w*|build\w*|built|arrest\w*|seiz\w*|raid\w*|invad\w*|occup\w*|shoot\w*|shot|destroy\w*|"
    r"ban(?:s|ned|ning)?|adopt\w*|enact\w*|veto\w*|ratif\w*|award\w*|fund(?:s|ed|ing)?|spen(?:d|ds|t|ding)|"
    r"hir(?:e|es|ed|ing)|elect\w*|appoint\w*|nominat\w*|won|win|wins|winning|defeat\w*|deploy\w*|withdr\w*|"
    r"invest\w*|bought|buy\w*|sold|sell\w*|clos(?:e|es|ed|ing)|open(?:s|ed|ing)?|visit\w*|march\w*|"
    r"fil(?:e|es|ed|ing)|su(?:e|es|ed|ing)|overrul\w*|block\w*|halt\w*|suspend\w*|introduc\w*|implement\w*|"
    r"execut\w*|captur\w*|detain\w*|releas\w*|publish\w*|sen(?:d|ds|t|ding)|rammed|ram|rams|crush\w*|"
    r"attack(?:s|ed|ing)?|assassinat\w*|murder\w*|torture\w*|massacr\w*|shell\w*|fir(?:e|es|ed|ing)|"
    r"demolish\w*|expel\w*|deport\w*|impos\w*|levi\w*|slash\w*|cut|cuts|cutting|kick\w*|topple\w*|oust\w*)"
)
# "show" and its kin are evidence only for a that-clause or an evidential source ("the poll shows");
# "the regime showed its contempt" is a deed.
_SHOW_WORD = re.compile(r"show(?:s|ed|n|ing)?|prov(?:e|es|ed|en|ing)|demonstrat\w*")
_EVIDENCE_SOURCE = re.compile(
    r"(?i:\b(?:polls?|stud(?:y|ies)|surveys?|data|reports?|figures|statistics|evidence|videos?|footage|records?|"
    r"documents?|analys[ie]s|research|results|numbers|charts?|maps?|tests?|photos?|images?|emails?|filings?|"
    r"recordings?|tapes?|transcripts?)\W*$)"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]*")

# Every attribution pattern needs one of these words; most sentences have none, and this one
# cheap search spares them the three patterns above (which backtrack at every capital letter).
SPEECH_CUE = re.compile(rf"\b(?:[Aa]ccording to|[Aa]s (?:reported|stated) by|{_VERB})\b")
# "so-called X" is the outlet's scare quote, not speech: blanked before the cues are looked for.
_SO_CALLED = re.compile(r"\bso-called\b", re.IGNORECASE)
_QUOTE_MARK = re.compile('["“«„‘]')
_SINGLE_CLOSE = re.compile(r"’(?![A-Za-z])")

OPEN_CLOSE = {"“": "”", "«": "»", "„": "“"}
_SPACE = re.compile(r"\s+")

# Interview transcripts: a paragraph opening with a speaker's name in capitals and a colon
# ("PENCE: Well, look, ...") is that speaker's words to the paragraph's end.
_SPEAKER_LABEL = re.compile(r"(?m)^[“\"]?(?P<name>[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+){0,3}):[ \t]")
_NOT_SPEAKERS = {
    "AP", "BOOM", "BREAKING", "BYLINE", "CLARIFICATION", "CORRECTION", "EDITOR'S NOTE", "EMAIL", "EXCLUSIVE",
    "LOOK", "NOTE", "PHOTOS", "PREVIOUSLY", "READ", "UPDATE", "UPDATED", "VIDEO", "WATCH",
}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """A speaker as the text names it, at document offsets."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Voice:
    label: str  # editorial | quoted | attributed
    source: str | None = None
    score: float | None = None  # confidence in the label; None where rules decided
    source_start: int | None = None  # document offsets of the words naming the source
    source_end: int | None = None
    speaker: str | None = None  # the speaker's fullest name in the article (`name_speakers`)

    @classmethod
    def of(cls, label: str, source: Source | None, score: float | None = None) -> Voice:
        if source is None:
            return cls(label, None, score)
        return cls(label, source.name, score, source.start, source.end)

    def as_field(self) -> VoiceField:
        return voice_field(self.label, self.source, self.score, self.source_start, self.source_end, self.speaker)


EDITORIAL_VOICE = Voice(EDITORIAL)


@dataclass
class SpeechRegions:
    """Where a document's sentences hold someone else's words: quotation marks, and the content of
    attributions (predicted by the head, or the whole reported sentence under the rules)."""

    quotes: list[tuple[int, int]]
    content: list[tuple[int, int]] = field(default_factory=list)
    turns: list[tuple[int, int, Source]] = field(default_factory=list)  # transcript turns, with their speakers

    def voice_at(self, start: int, end: int, sentence_voice: Voice) -> Voice:
        """The voice of the words at [start, end): a quote's or a reported content's speaker, else the
        outlet's (the words naming the speaker, "Trump" in "Trump said", are the outlet's)."""
        names_source = sentence_voice.source_start is not None and sentence_voice.source_end is not None
        if names_source and start < sentence_voice.source_end and sentence_voice.source_start < end:
            return EDITORIAL_VOICE
        if sentence_voice.label != EDITORIAL or self.quotes:
            if inside_share(start, end, self.quotes) > 0.5:
                return replace(sentence_voice, label=QUOTED, score=None)
            if sentence_voice.label != EDITORIAL and inside_share(start, end, self.content) > 0.5:
                return replace(sentence_voice, label=ATTRIBUTED, score=None)
        return EDITORIAL_VOICE


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


def transcript_turns(text: str) -> list[tuple[int, int, Source]]:
    """(start, end, speaker) of each turn of an interview transcript in `text`: paragraphs opened by
    "NAME:". Only a document with at least three such turns, one speaker among them twice, counts as a
    transcript, so that a lone "CORRECTION:" or "UPDATE:" line is not a speaker."""
    labels = [m for m in _SPEAKER_LABEL.finditer(text) if m.group("name") not in _NOT_SPEAKERS]
    names = [m.group("name") for m in labels]
    if len(labels) < 3 or len(set(names)) == len(names):
        return []
    turns = []
    for m in labels:
        end = text.find("\n", m.end())
        turns.append((m.end(), len(text) if end < 0 else end, Source(m.group("name"), m.start("name"), m.end("name"))))
    return turns


def _turn_speaker(sentence: Sentence, turns: Sequence[tuple[int, int, Source]]) -> Source | None:
    return next((who for s, e, who in turns if inside_share(sentence.start, sentence.end, [(s, e)]) >= 0.5), None)


def inside_share(start: int, end: int, regions: Sequence[tuple[int, int]]) -> float:
    """Share of [start, end) inside `regions`: sorted, non-overlapping ranges (quotes, content spans),
    so only the few around [start, end) are looked at."""
    covered = 0
    k = bisect.bisect_left(regions, (end,)) - 1  # the last region starting before `end`
    while k >= 0 and regions[k][1] > start:
        s, e = regions[k]
        covered += max(0, min(end, e) - max(start, s))
        k -= 1
    return covered / max(1, end - start)


def _outside_quotes(sentence: Sentence, regions: Sequence[tuple[int, int]]) -> str:
    """The sentence with quoted stretches blanked out, so cues are only found in the outlet's words."""
    chars = list(sentence.text)
    for s, e in regions:
        for k in range(max(s, sentence.start), min(e, sentence.end)):
            chars[k - sentence.start] = " "
    return "".join(chars)


def find_attribution(text: str) -> tuple[tuple[int, int] | None, str | None]:
    """((start, end) of the source in `text`, cue) of the first attribution in `text`, or (None, None)."""
    text = _SO_CALLED.sub(lambda m: " " * len(m.group()), text)
    if not SPEECH_CUE.search(text):
        return None, None
    for pattern in (_ACCORDING, _APPOSED_NAME, _SOURCE_VERB, _VERB_SOURCE):
        m = pattern.search(text)
        if m:
            source = m.group("src").strip(" ,")
            if pattern is _VERB_SOURCE and re.fullmatch(_PRONOUN, source):
                continue
            begin = m.start("src") + m.group("src").index(source)
            return (begin, begin + len(source)), m.group(0)
    return None, None


_NAME_WORD = re.compile(r"[A-Z][\w’'.-]*")
_OPENER = re.compile(r"(?:(?:[Tt]he|[Aa]n?|[Bb]ut|[Aa]nd|[Ss]o|[Yy]et|[Aa]lso|[Oo]r)\s+)+")
# A trailing conjunction ("Mr. Kerry and"), or a relative clause ("the experts who opposed it").
_CLOSER = re.compile(r"\s+(?:(?:and|or|but)$|(?:who|which|that)\b.*$)")


def _whole_name_end(text: str, end: int) -> int:
    """`end` moved over the rest of a capitalised name the span stops inside ("Mitt" -> "Mitt Romney"),
    up to a capitalised cue ("Asa'ib Ahl Al-Haq Calls for ...": the name ends before "Calls")."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    if not _NAME_WORD.fullmatch(text[start:end]):
        return end
    while text[end : end + 1] == " " and (word := _NAME_WORD.match(text, end + 1)):
        bare = word.group().lower().rstrip(".")
        if _SPEECH_WORD.fullmatch(bare) or _DEED_WORD.fullmatch(bare):
            break
        end = word.end()
    return end


def clean_source(text: str, start: int, end: int) -> Source | None:
    """The source at text[start:end], completed to the whole name it stops inside, without leading
    articles or conjunctions ("But Megan Hester"), a trailing conjunction, or the sentence's full stop."""
    end = _whole_name_end(text, end)
    name = text[start:end]
    opener = _OPENER.match(name)
    if opener and len(name) > opener.end():
        start += opener.end()
    closer = _CLOSER.search(text[start:end])
    if closer:
        end = start + closer.start()
    name = text[start:end].rstrip()
    if name.endswith(".") and "." not in name.split()[-1][:-1]:
        name = name[:-1]  # the sentence's full stop, not an abbreviation such as "U.S."
    # An apposition is not the name: "Henry Crespo, president of the caucus," / "Mathur, who studies ...".
    name = re.split(r",\s+(?=[a-z])", name, maxsplit=1)[0]
    name = re.sub(r"[’']s$", "", name.strip(" ,;:"))  # "He’s going to", "Trump’s claim"
    if not name or name.lower() in _SPEAKER_SELF or name.lower() in _NOT_A_NAME:
        return None  # "I" or "we" inside a quote: the speaker is the quote's, named elsewhere; "the" names no one
    start = text.index(name, start)
    return Source(name, start, start + len(name))


# ---------------------------------------------------------------------------- pronouns and roles

_PERSON_WORDS = {"he", "she", "him", "her", "his", "hers"}
_SPEAKER_SELF = {"i", "we", "me", "us", "you", "my", "our", "your"}
_THING_WORDS = {"it", "its"}
_ANY_WORDS = {"they", "them", "their"}
# Words that can open a source but never name one alone.
_NOT_A_NAME = {
    "the", "a", "an", "this", "that", "these", "those", "some", "many", "most", "all", "both", "each", "every",
    "other", "others", "another", "such", "one",
}  # fmt: skip
# A generic role alone, without a name ("the official", "the spokeswoman", "the Republican lawmaker"):
# someone named earlier. Roles that identify their holder ("the governor", "the president") and
# institutions ("the union") are sources in their own right.
# The modifier is lower-case and not a possessive: "a UN spokesperson" and "his spokesman" are someone
# new, not a name said before.
_PERSON_ROLE = re.compile(
    r"(?:(?:[Tt]he|[Tt]his|[Tt]hat)\s+)?(?:(?!(?:his|her|their|its|our|my|your)\b)[a-z’'-]+\s+)?"
    r"(?i:official|spokes(?:man|woman|person)|aide|adviser|advisor|lawmaker|businessman|businesswoman|"
    r"billionaire|man|woman)"
)


def _fit(name: str) -> str | None:
    """What a pronoun or bare role can refer to: 'person', 'thing', 'any'; None for a name."""
    low = name.lower()
    if low in _PERSON_WORDS or _PERSON_ROLE.fullmatch(name):
        return "person"
    if low in _THING_WORDS:
        return "thing"
    if low in _ANY_WORDS:
        return "any"
    return None


def is_person(source: str) -> bool:
    """A capitalised name whose last word is not an institution or role ("Anna Berg", not "Helsinki Committee")."""
    return source[:1].isupper() and not re.search(rf"{_ROLE_NOUN}$", source)


class SourceResolver:
    """Pronoun and role sources resolve to the nearest earlier named source that fits: "he" / "she" /
    "the official" to a person's name, "it" to an institution's, "they" to either.
    Named sources are fed in text order; a source with nothing to resolve to stays as written."""

    def __init__(self) -> None:
        self.person: Source | None = None
        self.thing: Source | None = None
        self.named: Source | None = None

    def resolve(self, source: Source | None) -> Source | None:
        if source is None:
            return None
        fit = _fit(source.name)
        if fit is None:
            self.named = source
            if is_person(source.name):
                self.person = source
            else:
                self.thing = source
            return source
        found = {"person": self.person, "thing": self.thing, "any": self.named}[fit]
        return found or source


# ---------------------------------------------------------------------------- one name per speaker

_TITLE = re.compile(
    r"^(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Prof|Rev|Sgt|Capt|Del)\.?|President|Senator|Governor|"
    r"Representative|Judge|Justice|Secretary|Chancellor|Minister|Prime Minister|Former|former)\s+"
)
_PARENTHESIS = re.compile(r"\s*\([^)]*\)")
_NAME_PARTICLES = {"al", "bin", "ibn", "de", "van", "von", "der", "da", "di", "la", "le", "del", "of"}


def name_part(source: str) -> str:
    """The name in a source as written: its last run of capitalised words, without titles or a
    parenthesis ("Real estate tycoon Donald Trump" -> "Donald Trump", "Mr. Trump" -> "Trump",
    "Rep. Jim Clyburn (D-S.C.)" -> "Jim Clyburn"). A role without a name ("UN spokesperson",
    "the city council") stays as written."""
    words = _PARENTHESIS.sub("", source).split()
    k = len(words)
    while k > 0 and (words[k - 1][:1].isupper() or (words[k - 1] in _NAME_PARTICLES and k < len(words))):
        k -= 1
    while k < len(words) and words[k] in _NAME_PARTICLES:
        k += 1
    name = " ".join(words[k:]) or source
    while (title := _TITLE.match(name)) and len(name) > title.end():
        name = name[title.end() :]
    return name


def name_speakers(voices: Sequence[Voice]) -> list[Voice]:
    """Each voice with its `speaker`: the fullest name the article gives that speaker. A person's
    shorter names join the longest name that holds all their words and ends alike ("Trump" and
    "Real estate tycoon Donald Trump" -> "Donald Trump"); where two fit ("Clinton": "Bill Clinton",
    "Hillary Clinton"), the nearest one named before, else after. Other sources group by their
    words in any case ("the city council", "City Council"). Unresolved pronouns name no one."""
    names = [name_part(v.source) if v.source and _fit(v.source) is None else None for v in voices]
    people = list(dict.fromkeys(n for n in names if n and is_person(n)))
    spelled: dict[str, str] = {}
    out = []
    for k, (voice, name) in enumerate(zip(voices, names)):
        speaker = None
        if name and is_person(name):
            words = name.split()
            holders = [m for m in people if m.split()[-1] == words[-1] and set(words) <= set(m.split())]
            longest = max(len(m) for m in holders)
            best = [m for m in holders if len(m) == longest]
            if len(best) > 1:  # the nearest earlier mention of one of them, else the next
                order = [names[j] for j in range(k, -1, -1)] + names[k + 1 :]
                best = [next((m for m in order if m in best), best[0])]
            speaker = best[0]
        elif name:
            speaker = spelled.setdefault(name.lower(), name)
        out.append(replace(voice, speaker=speaker) if speaker != voice.speaker else voice)
    return out


# ---------------------------------------------------------------------------- the rules


def assign_voices(text: str, sentences: Sequence[Sentence]) -> tuple[list[Voice], SpeechRegions]:
    """Voice by rules: a `Voice` per sentence, plus the document's speech regions."""
    regions = quote_regions(text)
    turns = transcript_turns(text)
    regions = _union(regions + [(s, e) for s, e, _ in turns])
    sources: list[Source | None] = []
    cues: list[str | None] = []
    for sent in sentences:
        span, cue = find_attribution(_outside_quotes(sent, regions))
        sources.append(clean_source(text, sent.start + span[0], sent.start + span[1]) if span else None)
        cues.append(cue)
    resolved = _resolve_all(sources)
    voices: list[Voice] = []
    for k, sent in enumerate(sentences):
        source = resolved[k]
        quoted = inside_share(sent.start, sent.end, regions) >= 0.5
        source = _turn_speaker(sent, turns) or source
        if quoted and source is None and voices and voices[-1].label != EDITORIAL and _continues_quote(sent, regions):
            source = _source_of(voices[-1])  # a quote running on from the previous sentence keeps its speaker
        if quoted and source is None:
            # A quote's speaker is often named in the sentence before or after it.
            source = next((resolved[j] for j in (k - 1, k + 1) if 0 <= j < len(sentences) and resolved[j]), None)
        if quoted:
            voices.append(Voice.of(QUOTED, source))
        elif cues[k]:
            voices.append(Voice.of(ATTRIBUTED, source))
        else:
            voices.append(EDITORIAL_VOICE)
    # Under the rules, a reported sentence with a named speaker is that speaker's content throughout.
    content = [(s.start, s.end) for s, v in zip(sentences, voices) if v.label != EDITORIAL and v.source]
    return name_speakers(voices), SpeechRegions(regions, content, turns)


def _union(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted ranges with overlaps merged (a transcript turn holds its own quotation marks)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _resolve_all(sources: Sequence[Source | None]) -> list[Source | None]:
    resolver = SourceResolver()
    return [resolver.resolve(s) for s in sources]


def _source_of(voice: Voice) -> Source | None:
    if voice.source is None or voice.source_start is None or voice.source_end is None:
        return None
    return Source(voice.source, voice.source_start, voice.source_end)


def _continues_quote(sentence: Sentence, regions: Sequence[tuple[int, int]]) -> bool:
    return any(s < sentence.start < e for s, e in regions)


# ---------------------------------------------------------------------------- the attribution head


@dataclass
class Attribution:
    """The attribution head's reading of one sentence."""

    spans: list[tuple[int, int, str]]  # document offsets; category source, cue or content
    share: float  # expected share of the sentence's non-space characters inside attributions
    entries: list[dict] = field(default_factory=list)  # the same spans as the record's `attribution` field


def is_deed_cue(cue: str, after: str, source: str | None) -> bool:
    """Does the cue `cue` (followed by the text `after`, said by `source`) report a deed rather than
    words, thought or evidence? "voted", "approves", "showed its contempt"; not "said", "believes",
    "according to", "the poll shows", "X showed that", "wants"."""
    words = [w.lower() for w in _WORD.findall(cue)]
    if any(_SPEECH_WORD.fullmatch(w) for w in words):
        return False
    if any(_SHOW_WORD.fullmatch(w) for w in words):
        evidence = after.lstrip().lower().startswith("that ") or bool(source and _EVIDENCE_SOURCE.search(source))
        return not evidence
    return any(_DEED_WORD.fullmatch(w) for w in words)


def speech_only(reading: Attribution, sentence: Sentence) -> Attribution:
    """The head's reading without what is not someone's words: when every cue the head found in the
    sentence reports a deed ("City Council Approves Housing Plan", "the council voted 7 to 2"), or when a
    cue-less reading does not open the sentence with content (a quote running on does), none of its
    spans is kept."""
    cues = [(s, e) for s, e, c in reading.spans if c == "cue"]
    if not cues:
        # Without a cue, only content that opens the sentence (within its first three words) makes it
        # someone's words: a quote running on. A subject the head took for a source ("The so-called
        # experts ... never built a home") does not, nor content after the outlet's own words ("This
        # attack shows once again that ...": its own untagged frame, not the sentence before continued).
        content = [(s, e) for s, e, c in reading.spans if c == "content"]
        opening = content and len(sentence.text[: content[0][0] - sentence.start].split()) <= 3
        covered = sum(_non_space(sentence.text[s - sentence.start : e - sentence.start]) for s, e in content)
        if not opening or 2 * covered < _non_space(sentence.text):
            return Attribution([], 0.0, [])
        return reading
    sources = [(s, e) for s, e, c in reading.spans if c == "source"]

    def source_of(cue: tuple[int, int]) -> str | None:
        near = min(sources, key=lambda span: abs(span[0] - cue[0]), default=None)
        return sentence_text(near) if near else None

    def sentence_text(span: tuple[int, int]) -> str:
        return sentence.text[span[0] - sentence.start : span[1] - sentence.start]

    after = lambda cue: sentence.text[cue[1] - sentence.start :]  # noqa: E731
    if all(is_deed_cue(sentence_text(c), after(c), source_of(c)) for c in cues):
        return Attribution([], 0.0, [])
    return reading


def tagger_voices(
    text: str,
    sentences: Sequence[Sentence],
    readings: Sequence[Attribution],
    neighbours: bool = True,
    resolve: bool = True,
    rules: tuple[list[Voice], SpeechRegions] | None = None,
) -> tuple[list[Voice], SpeechRegions]:
    """Voice from the attribution head plus quotation marks.

    A sentence is reported speech when the head's spans cover at least half of its non-space
    characters, or when it lies mostly inside quotation marks. It is `quoted` when it lies mostly
    inside quotation marks or its content does ('"We will fight," Hollo said.'). Its source is the
    first source span the head finds in it, else the one the rules find; a reported sentence with
    neither, and no cue of its own, takes the source of the reported sentence before it, else of the
    one after it (`neighbours`). A sentence read as reported that ends with no source at all, and no
    quotation, is editorial. A transcript turn's speaker ("PENCE: ...") comes first. `neighbours=False` and
    `resolve=False` (pronouns kept as written) exist to measure what each step adds
    (scripts/eval_voice.py --ablations). `rules` is `assign_voices(text, sentences)` where the caller
    has it already (scoring makes it off the model's critical path).
    """
    rules, regions = rules or assign_voices(text, sentences)
    turns = regions.turns  # found by assign_voices: not searched for twice
    reported, own = [], []
    for sent, reading, rule in zip(sentences, readings, rules):
        turn = _turn_speaker(sent, turns)
        non_space = _non_space(sent.text)
        covered = sum(_non_space(text[max(s, sent.start) : min(e, sent.end)]) for s, e, _ in reading.spans)
        reported.append(rule.label == QUOTED or (non_space > 0 and 2 * covered >= non_space))
        # The first source span that names someone ("the" + "journalist Dainis Ivans": the second).
        named = (clean_source(text, s, e) for s, e, c in reading.spans if c == "source")
        head_source = next((source for source in named if source is not None), None)
        own.append(turn or head_source or (_source_of(rule) if rule.label != EDITORIAL else None))
    resolved = _resolve_all(own) if resolve else own
    voices: list[Voice] = []
    for k, (sent, reading, rule) in enumerate(zip(sentences, readings, rules)):
        content = [(s, e) for s, e, c in reading.spans if c == "content"]
        # Direct quotation: mostly inside quotation marks, or what the speaker says is mostly quoted.
        quoted = rule.label == QUOTED or (content and _quoted_share(content, regions.quotes) >= 0.5)
        if not reported[k]:
            voices.append(Voice(EDITORIAL, score=round(1.0 - reading.share, 4)))
            continue
        source = resolved[k]
        # A sentence with its own cue but no source ("the attack shows that ...") does not borrow a
        # neighbour's speaker: only a sentence without a cue continues or precedes someone's speech.
        borrows = neighbours and source is None and not any(c == "cue" for _, _, c in reading.spans)
        if borrows and k > 0 and reported[k - 1]:
            source = _source_of(voices[-1])  # the attribution runs on from the sentence before
        if borrows and source is None and k + 1 < len(sentences) and reported[k + 1]:
            source = resolved[k + 1]  # '"..." he said.' names the speaker after the quote
        if source is None and not quoted and rule.label == EDITORIAL:
            # Reported speech needs a speaker: with none in the sentence, its quotes or its
            # neighbours, the claim is the outlet's own ("the evidence shows that ...").
            voices.append(Voice(EDITORIAL, score=round(1.0 - reading.share, 4)))
            continue
        score = max(reading.share, inside_share(sent.start, sent.end, regions.quotes))
        voices.append(Voice.of(QUOTED if quoted else ATTRIBUTED, source, round(score, 4)))
    content = [(s, e) for reading in readings for s, e, c in reading.spans if c == "content"]
    return name_speakers(voices), SpeechRegions(regions.quotes, content, regions.turns)


def _quoted_share(spans: Sequence[tuple[int, int]], quotes: Sequence[tuple[int, int]]) -> float:
    total = sum(e - s for s, e in spans)
    return sum(inside_share(s, e, quotes) * (e - s) for s, e in spans) / total if total else 0.0


def _non_space(text: str) -> int:
    return len(text) - sum(map(len, _SPACE.findall(text)))
