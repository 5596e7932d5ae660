"""Targets (the actors or topics stance is measured toward) and finding their mentions in a sentence."""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .defaults import default_aliases_path
from .errors import InputError


@dataclass(frozen=True)
class Target:
    name: str
    aliases: tuple[str, ...] = ()
    # An exact mention in the document, from a {"text", "start", "end"} target object.
    span: tuple[int, int] | None = None

    def surface_forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name,) + self.aliases))


@dataclass
class Mention:
    target: str
    start: int  # document offsets
    end: int
    text: str
    # Every mention of the same target in the sentence; the model pools over all of them.
    all_spans: list[tuple[int, int]] = field(default_factory=list)


def parse_target_option(option: str) -> Target:
    """`"Name"` or `"Name=alias1,alias2"` from the command line."""
    name, _, aliases = option.partition("=")
    name = name.strip()
    if not name:
        raise InputError(f'expected --target "Name" or "Name=alias1,alias2", found {option!r}')
    return Target(name, tuple(a.strip() for a in aliases.split(",") if a.strip()))


def parse_document_target(item: Any, text: str) -> Target:
    if isinstance(item, str) and item.strip():
        return Target(item.strip())
    if isinstance(item, dict) and {"text", "start", "end"} <= item.keys():
        start, end = int(item["start"]), int(item["end"])
        if text[start:end] != item["text"]:
            raise InputError(
                f"expected target text {item['text']!r} at offsets {start}:{end}, found {text[start:end]!r}; "
                "offsets are character offsets into the document text"
            )
        return Target(item["text"], span=(start, end))
    raise InputError(f'expected a target string or {{"text", "start", "end"}} object, found {item!r}')


@functools.lru_cache(maxsize=1024)
def _target_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for all of a target's surface forms. Names with capitals match case-sensitively
    ("US" must not match "us"); lower-case aliases match any case (an inline (?i:...) group)."""
    parts = [
        re.escape(f) if any(c.isupper() for c in f) else f"(?i:{re.escape(f)})"
        for f in sorted(forms, key=len, reverse=True)
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def find_mentions(targets: list[Target], sentence: str, sent_start: int) -> list[Mention]:
    """One `Mention` per target that occurs in the sentence, at its first occurrence."""
    return find_document_mentions(targets, sentence, [(sent_start, sent_start + len(sentence))], offset=sent_start)[0]


def find_document_mentions(
    targets: list[Target], text: str, sentences: list[tuple[int, int]], offset: int = 0
) -> list[list[Mention]]:
    """The mentions of every target in each sentence (given as document offsets) of `text`.

    Each target's pattern runs once over the whole text, not once per sentence; a match is
    kept when it lies inside one sentence. `offset` is the document offset of `text`.
    """
    starts = [s for s, _ in sentences]
    spans_by_sentence: list[dict[str, list[tuple[int, int]]]] = [{} for _ in sentences]
    for target in targets:
        if target.span is not None:
            found = [target.span]
        else:
            # Longest forms first in the alternation, so "United States" wins over "United".
            pattern = _target_pattern(target.surface_forms())
            found = [(offset + m.start(), offset + m.end()) for m in pattern.finditer(text)]
        for s, e in found:
            i = bisect.bisect_right(starts, s) - 1
            if i >= 0 and e <= sentences[i][1]:
                spans_by_sentence[i].setdefault(target.name, []).append((s, e))
    return [
        [
            Mention(name, spans[0][0], spans[0][1], text[spans[0][0] - offset : spans[0][1] - offset], spans)
            for name, spans in by_target.items()
        ]
        for by_target in spans_by_sentence
    ]


# ---------------------------------------------------------------------------- alias tables


class AliasTable:
    """Canonical names and the words that refer to them ("US", "Washington" -> "United States")."""

    def __init__(self, entries: dict[str, list[str]] | None = None) -> None:
        self.aliases: dict[str, tuple[str, ...]] = {}
        self.canonical: dict[str, str] = {}
        for name, aliases in (entries or {}).items():
            self.add(str(name), [str(a) for a in aliases or []])

    def add(self, name: str, aliases: Iterable[str]) -> None:
        merged = tuple(dict.fromkeys(list(self.aliases.get(name, ())) + [a for a in aliases if a != name]))
        self.aliases[name] = merged
        for form in (name, *merged):
            self.canonical[form.lower()] = name

    def resolve(self, target: Target) -> Target:
        """Expand a target whose name is in the table with the table's other surface forms. The
        name stays as given: `--target "White House"` is reported as "White House", and matches
        "US" and "Washington" too. The table groups forms; it never renames a user's target."""
        if target.span is not None:
            return target
        group = self.canonical.get(target.name.lower())
        if group is None:
            return target
        forms = (*target.aliases, group, *self.aliases[group])
        return Target(target.name, tuple(dict.fromkeys(f for f in forms if f != target.name)))


def merge_targets(targets: Iterable[Target]) -> list[Target]:
    """One target per name (first seen order), with the union of the aliases given for it."""
    merged: dict[tuple[str, tuple[int, int] | None], Target] = {}
    for t in targets:
        key = (t.name, t.span)
        if key in merged:
            merged[key] = Target(t.name, tuple(dict.fromkeys(merged[key].aliases + t.aliases)), t.span)
        else:
            merged[key] = t
    return list(merged.values())


def load_alias_file(path: str | Path | None) -> AliasTable:
    """A YAML mapping `Name: [alias, ...]` or a list of `{name, aliases}` objects."""
    if path is None:
        path = default_aliases_path()
        if not path.exists():
            raise InputError(
                f"expected the shipped alias table at {path}, found no such file; reinstall stance-news "
                "or pass --aliases FILE"
            )
    path = Path(path)
    if not path.is_file():
        raise InputError(f"expected a YAML alias/targets file at {path}, found no such file")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(data, list):
        try:
            data = {item["name"]: item.get("aliases", []) for item in data}
        except (TypeError, KeyError):
            raise InputError(
                f"{path}: expected a list of {{name, aliases}} objects or a mapping Name: [aliases]"
            ) from None
    if not isinstance(data, dict) or not all(isinstance(v, (list, type(None))) for v in data.values()):
        raise InputError(f"{path}: expected a mapping Name: [alias, ...], found {type(data).__name__}")
    return AliasTable(data)


def load_targets_file(path: str | Path) -> list[Target]:
    table = load_alias_file(path)
    return [Target(name, aliases) for name, aliases in table.aliases.items()]


# ---------------------------------------------------------------------------- automatic targets

# Parts of a name are joined by spaces or tabs, never by a line break: a title line and the first
# line of the body are not one name ("Storm Hits Coast\n\nGovernor Maria Lopez").
_CAPITALISED = re.compile(
    r"(?<![\w’'-])(?:[A-Z][\w’'.-]*[\w]|[A-Z]{2,})(?:[ \t]+(?:(?:al|bin|ibn|de|van|von|der|of|the|for)[- \t]+)?(?:[A-Z][\w’'.-]*[\w]|[A-Z]{2,}))*"
)
_NOT_ACTORS = set(
    """The A An This That These Those It Its He She They We I You His Her Their Our My Your But And Or If When While
    After Before Since Under In On At For From By With Without As To Of Also However Meanwhile Still Yet There Here
    What Who Why How Where Which Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March
    April May June July August September October November December Mr Mrs Ms Dr President Prime Minister Back Top
    Governor Gov Senator Sen Rep Representative Mayor General Gen Chancellor Secretary Judge Justice Sheikh
    Read More Related Share Photo Image Video Updated Copyright According Speaking""".split()
)


def _strip_leading_function_words(phrase: str) -> str:
    words = phrase.split()
    while words and words[0] in _NOT_ACTORS:
        words = words[1:]
    return " ".join(words)


# Groups and institutions a reader sees as actors, written in lower case ("the defence ministry",
# "foreign warplanes", "the so-called peacekeepers"): capitalised names alone miss them.
_ACTOR_NOUNS = (
    "ministry|ministries|government|governments|army|armies|military|police|troops|forces|soldiers|"
    "peacekeepers|militia|militias|militants|rebels|insurgents|fighters|guerrillas|officials|council|committee|"
    "party|court|senate|congress|parliament|regime|administration|jets|warplanes|aircraft|drones|bombers|"
    "protesters|demonstrators|activists|workers|union|unions|company|companies|bank|lawmakers|legislators|"
    "senators|voters|residents|citizens|civilians|refugees|migrants|immigrants|settlers|occupiers|terrorists|"
    "extremists|elites|commander|minister|governor|mayor|president|agency|department|authorities|coalition|"
    "alliance|opposition|prosecutors|cartel|cartels|gangs|landlords|tenants|employers|investors|critics"
)
_ACTOR_NOUN = re.compile(rf"(?<![\w’'-])(?:{_ACTOR_NOUNS})(?![\w’'-])", re.IGNORECASE)
_WORD_BEFORE = re.compile(r"([A-Za-z][\w’'-]*)[ \t]+$")
_DETERMINERS = set(
    """the a an this that these those its their his her our my your some many most all both several other
    any every each so-called alleged respected""".split()
)
# After these the phrase is a place, an addressee, an agent of a passive or an absence ("no civilians"):
# not who acts here.
_PREPOSITIONS = set("to by of with from for near at in on into about over under against no".split())
# A role noun right after an actor noun makes a compound whose actor is the role ("militia leader").
_ROLE_AFTER = re.compile(
    r"[ \t]+(?:leaders?|members?|spokes(?:man|woman|person)|chiefs?|heads?|officials?|officers?|commanders?|"
    r"ministers?|representatives?|sources?)\b",
    re.IGNORECASE,
)
# One actor under several words: the aircraft of a strike.
_SAME_ACTOR = {"warplanes": "jets", "aircraft": "jets", "bombers": "jets", "drones": "jets"}


def _words_before(text: str, end: int, n: int = 3) -> list[str]:
    """Up to `n` words right before `end`, nearest first, within the line and clause (no punctuation)."""
    words = []
    window = max(0, end - 40 * n)  # a few words back: searching from the text's start would cost O(n) a call
    while len(words) < n and (m := _WORD_BEFORE.search(text, window, end)):
        words.append(m.group(1))
        end = m.start()
    return words


def _group_actors(text: str, title_end: int) -> list[tuple[str, str, int]]:
    """(name as written, key, position) of each actor noun phrase: the noun with the modifier before it
    ("defence ministry", "anti-terror commander"), unless a preposition comes first ("to reporters",
    "according to the regional governor") or, in the body, the noun is capitalised (a name's part,
    counted by the name pass)."""
    from .voice import inside_share, quote_regions

    quotes = quote_regions(text)
    out = []
    for m in _ACTOR_NOUN.finditer(text):
        noun = m.group()
        if m.start() >= title_end and noun[0].isupper():
            continue
        if _ROLE_AFTER.match(text, m.end()) or inside_share(m.start(), m.end(), quotes) > 0:
            continue  # "militia leader": the leader is the actor; inside a quote: the speaker's word
        before = [w.lower() for w in _words_before(text, m.start())]
        modifier = before[0] if before and before[0] not in _DETERMINERS | _PREPOSITIONS else None
        rest = before[1 if modifier else 0 :]
        while rest and rest[0] in _DETERMINERS:
            rest = rest[1:]
        if rest and rest[0] in _PREPOSITIONS:
            continue
        words = [modifier, noun.lower()] if modifier else [noun.lower()]
        out.append((" ".join(words), " ".join(words[:-1] + [_SAME_ACTOR.get(words[-1], words[-1])]), m.start()))
    return out


def auto_targets(text: str, aliases: AliasTable, top_k: int = 5, min_count: int = 2) -> list[Target]:
    """The actors an article is about, most mentioned first: capitalised names, merged through the
    alias table and by surname ("Khazali" counts toward "Qais Khazali"), and groups and institutions
    named in lower case ("the defence ministry", "foreign warplanes", "peacekeepers"). A name needs
    `min_count` mentions unless it has several words ("Abu Hassan"); a group counts from its first
    mention, unless it only ever follows a preposition ("speaking to reporters"). Ties go to names,
    then to the earlier mention. A title line (before a blank line) is read in lower case: headline
    capitals make no names. A heuristic stand-in for NER that needs no model download."""
    from .documents import title_of

    title = title_of(text)
    title_end = text.index(title) + len(title) if title else 0
    counts: Counter[str] = Counter()
    forms: dict[str, set[str]] = {}
    first: dict[str, int] = {}
    for m in _CAPITALISED.finditer(text, title_end):
        phrase = _strip_leading_function_words(m.group(0))
        if not phrase or phrase in _NOT_ACTORS or len(phrase) < 2:
            continue
        name = aliases.canonical.get(phrase.lower(), phrase)
        counts[name] += 1
        forms.setdefault(name, set()).add(phrase)
        first.setdefault(name, m.start())
    # Fold a single word into the longest multi-word name that ends with it (surnames).
    for name in sorted(counts, key=len):
        if " " in name:
            continue
        longer = [n for n in counts if n != name and n.endswith(" " + name) and counts[n] > 0]
        if longer:
            full = max(longer, key=lambda n: counts[n])
            counts[full] += counts.pop(name)
            forms[full] |= forms.pop(name)
    names = {n for n, c in counts.items() if c >= min_count or " " in n}
    in_names = {w.lower() for n in names for w in n.split()}
    groups: dict[str, str] = {}  # key -> the name it goes by (its first form)
    for written, key, position in _group_actors(text, title_end):
        if aliases.canonical.get(written) in counts or written.split()[-1] in in_names:
            continue  # the alias table's name, or part of a name ("Senate" of "Senate Democrats")
        name = groups.setdefault(key, written)
        counts[name] += 1
        forms.setdefault(name, set()).add(written)
        first.setdefault(name, position)
    candidates = names | set(groups.values())
    ranked = sorted(candidates, key=lambda n: (-counts[n], n not in names, first.get(n, 0)))
    return [aliases.resolve(Target(n, tuple(sorted(forms[n] - {n})))) for n in ranked[:top_k]]
