"""The labelled sentence that every corpus adapter produces, plus de-duplication and splitting."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .features import Encoded, mention_tokens, tokenize
from .labels import LOADED_CATEGORIES, STANCE_LABELS


@dataclass
class Span:
    start: int
    end: int
    category: str = "loaded_language"

    def __post_init__(self) -> None:
        if self.category not in LOADED_CATEGORIES:
            raise ValueError(f"expected a loaded-term category in {LOADED_CATEGORIES}, found {self.category!r}")


@dataclass
class TaggedSpan:
    """A labelled character span for a token head other than loaded terms (e.g. attribution's source)."""

    start: int
    end: int
    category: str


@dataclass
class TargetLabel:
    start: int
    end: int
    label: str  # one of STANCE_LABELS

    def __post_init__(self) -> None:
        if self.label not in STANCE_LABELS:
            raise ValueError(f"expected a stance label in {STANCE_LABELS}, found {self.label!r}")


@dataclass
class Example:
    """One sentence with whatever labels its corpus provides.

    `None` means "this corpus does not label this head": the head ignores the
    example. An empty list of spans means "labelled, and nothing is loaded".
    """

    text: str
    source: str
    group: str  # examples sharing a group (an article) always land in the same split
    framing: float | None = None  # P(editorial); soft when built from annotator votes
    spans: list[Span] | None = None
    targets: list[TargetLabel] | None = None
    labels: dict[str, Any] = field(default_factory=dict)  # other heads' labels, by head name (heads.py)


_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Key used to find the same sentence in two corpora (MBIC is BABE SG1)."""
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _SPACE.sub(" ", text).strip().lower()


def deduplicate(corpora: Iterable[list[Example]]) -> list[list[Example]]:
    """Drop every sentence already seen in an earlier corpus (or earlier in the same one).

    Earlier corpora win, so list the expert-labelled corpus first.
    """
    seen: set[str] = set()
    kept_all = []
    for examples in corpora:
        kept = []
        for ex in examples:
            key = normalize_text(ex.text)
            if key in seen:
                continue
            seen.add(key)
            kept.append(ex)
        kept_all.append(kept)
    return kept_all


def in_validation(group: str, fraction: float, seed: int) -> bool:
    """Deterministic split by group: stable across runs, machines and other corpora."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_examples(examples: list[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    train, val = [], []
    for ex in examples:
        (val if in_validation(ex.group, fraction, seed) else train).append(ex)
    return train, val


def encode_examples(
    tokenizer, examples: Sequence[Example], max_length: int, heads: Sequence | None = None
) -> list[Encoded]:
    """Tokenized examples with the labels of `heads` (default: every registered head) attached."""
    from .heads import HEADS

    encoded = tokenize(tokenizer, [ex.text for ex in examples], max_length)
    for enc, ex in zip(encoded, examples):
        for k, target in enumerate(ex.targets or []):
            tokens = mention_tokens(enc, target.start, target.end)
            if tokens:  # a mention cut off by truncation cannot be scored
                enc.mentions.append(tokens)
                enc.mention_sources.append(k)
        for head in HEADS.values() if heads is None else heads:
            head.encode_label(enc, ex)
    return encoded
