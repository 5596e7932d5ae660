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


def auto_targets(text: str, aliases: AliasTable, top_k: int = 5, min_count: int = 2) -> list[Target]:
    """The actors and places an article mentions most: capitalised names, merged through the alias
    table and by surname ("Khazali" counts toward "Qais Khazali"). A heuristic stand-in for NER that
    needs no model download."""
    counts: Counter[str] = Counter()
    forms: dict[str, set[str]] = {}
    for m in _CAPITALISED.finditer(text):
        phrase = _strip_leading_function_words(m.group(0))
        if not phrase or phrase in _NOT_ACTORS or len(phrase) < 2:
            continue
        name = aliases.canonical.get(phrase.lower(), phrase)
        counts[name] += 1
        forms.setdefault(name, set()).add(phrase)
    # Fold a single word into the longest multi-word name that ends with it (surnames).
    for name in sorted(counts, key=len):
        if " " in name:
            continue
        longer = [n for n in counts if n != name and n.endswith(" " + name) and counts[n] > 0]
        if longer:
            full = max(longer, key=lambda n: counts[n])
            counts[full] += counts.pop(name)
            forms[full] |= forms.pop(name)
    chosen = [n for n, c in counts.most_common() if c >= min_count][:top_k]
    return [aliases.resolve(Target(n, tuple(sorted(forms[n] - {n})))) for n in chosen]
