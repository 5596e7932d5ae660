"""Neutral alternatives for loaded terms, from a user-editable lexicon (configs/alternatives.yaml).

A term matches an entry when the whole term, or a run of its words, is the entry or one of its forms
(case-insensitive); the longest run wins, so "illegal aliens" beats "aliens". How the shipped lexicon
was seeded from BABE and NewsWCL50 is written at the top of configs/alternatives.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import InputError

_WORD = re.compile(r"[\w][\w'’-]*")


@dataclass
class Lexicon:
    forms: dict[str, str] = field(default_factory=dict)  # lower-cased form -> its entry
    alternatives: dict[str, list[str]] = field(default_factory=dict)  # entry -> alternatives
    longest: int = 1  # words in the longest form

    def lookup(self, term: str) -> tuple[str, list[str]] | None:
        """(entry, alternatives) for a loaded term's text, or None."""
        words = [w.lower().replace("’", "'") for w in _WORD.findall(term)]
        for n in range(min(self.longest, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                entry = self.forms.get(" ".join(words[i : i + n]))
                if entry is not None:
                    return entry, self.alternatives[entry]
        return None

    def annotate(self, terms: list[dict]) -> None:
        """Add `alternatives` and `alternatives_entry` to each record term the lexicon has."""
        for term in terms:
            found = self.lookup(term["text"])
            if found is not None:
                term["alternatives_entry"], term["alternatives"] = found[0], list(found[1])


def default_alternatives_path() -> Path:
    from .defaults import _package_path

    return _package_path("stance.configs", "alternatives.yaml", "configs")


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The lexicon at `path` (None: the shipped one). Malformed entries are errors naming the entry."""
    path = Path(path) if path is not None else default_alternatives_path()
    if not path.is_file():
        raise InputError(f"expected an alternatives lexicon (YAML) at {path}, found no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: expected YAML, found a syntax error ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping `term: {{alternatives: [...]}}`, found {type(data).__name__}")
    lexicon = Lexicon()
    for entry, spec in data.items():
        if isinstance(spec, list):  # the short form `term: [alternative, ...]`
            spec = {"alternatives": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("alternatives"), list) or not spec["alternatives"]:
            raise InputError(
                f"{path}: entry {entry!r}: expected {{alternatives: [word, ...], forms: [...]}} with at least one "
                f"alternative, found {spec!r}"
            )
        key = str(entry).strip().lower()
        lexicon.alternatives[key] = [str(a) for a in spec["alternatives"]]
        for form in [key, *(str(f).strip().lower() for f in spec.get("forms") or [])]:
            lexicon.forms.setdefault(form, key)
            lexicon.longest = max(lexicon.longest, len(form.split()))
    return lexicon
