"""Targets (the actors or topics stance is measured toward) and finding their mentions in a sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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
                f'expected target text {item["text"]!r} at offsets {start}:{end}, found {text[start:end]!r}; '
                "offsets are character offsets into the document text"
            )
        return Target(item["text"], span=(start, end))
    raise InputError(f'expected a target string or {{"text", "start", "end"}} object, found {item!r}')


def _alias_pattern(alias: str) -> re.Pattern[str]:
    # Names in capitals match case-sensitively ("US" must not match "us"); lower-case aliases match any case.
    flags = 0 if any(c.isupper() for c in alias) else re.IGNORECASE
    return re.compile(r"(?<!\w)" + re.escape(alias) + r"(?!\w)", flags)


def find_mentions(targets: list[Target], sentence: str, sent_start: int) -> list[Mention]:
    """One `Mention` per target that occurs in the sentence, at its first occurrence."""
    out = []
    sent_end = sent_start + len(sentence)
    for target in targets:
        if target.span is not None:
            s, e = target.span
            spans = [(s, e)] if sent_start <= s and e <= sent_end else []
        else:
            spans = sorted(
                {(sent_start + m.start(), sent_start + m.end())
                 for alias in target.surface_forms() for m in _alias_pattern(alias).finditer(sentence)}
            )
            spans = [sp for i, sp in enumerate(spans) if not any(o[0] <= sp[0] and sp[1] <= o[1] and o != sp for o in spans)]
        if spans:
            s, e = spans[0]
            out.append(Mention(target.name, s, e, sentence[s - sent_start : e - sent_start], spans))
    return out
