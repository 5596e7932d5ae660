"""From sentences (and their labels) to padded tensors for the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .labels import IGNORE_INDEX, TAG_TO_ID, begin_tag, inside_tag


@dataclass
class Encoded:
    """One tokenized sentence. Word-level data lets tags sit on the first sub-token of each word."""

    input_ids: list[int]
    word_spans: list[tuple[int, int]]  # character span of each word
    word_first_token: list[int]  # token index of the first sub-token of each word
    token_offsets: list[tuple[int, int]]
    text: str = ""
    framing: float | None = None
    word_tags: list[int] | None = None
    mentions: list[list[int]] = field(default_factory=list)  # token indices of each target mention
    mention_labels: list[int] | None = None  # stance label id per mention (labelled examples only)

    def __len__(self) -> int:
        return len(self.input_ids)


def tokenize(tokenizer, texts: Sequence[str], max_length: int) -> list[Encoded]:
    batch = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        add_special_tokens=True,
    )
    out = []
    for i in range(len(texts)):
        offsets = [tuple(o) for o in batch["offset_mapping"][i]]
        word_ids = batch.word_ids(i)
        spans: dict[int, list[int]] = {}
        first: dict[int, int] = {}
        for tok, wid in enumerate(word_ids):
            if wid is None:
                continue
            start, end = offsets[tok]
            if wid not in spans:
                spans[wid] = [start, end]
                first[wid] = tok
            else:
                spans[wid][1] = max(spans[wid][1], end)
        order = sorted(spans)
        out.append(
            Encoded(
                input_ids=list(batch["input_ids"][i]),
                word_spans=[tuple(spans[w]) for w in order],
                word_first_token=[first[w] for w in order],
                token_offsets=offsets,
                text=texts[i],
            )
        )
    return out


def word_tags_for_spans(word_spans: list[tuple[int, int]], spans) -> list[int]:
    """BIO tag per word: a word is inside a span (anything with start, end, category) when their
    character ranges overlap."""
    tags = [TAG_TO_ID["O"]] * len(word_spans)
    for span in spans:
        inside = [i for i, (s, e) in enumerate(word_spans) if s < span.end and e > span.start]
        for k, w in enumerate(inside):
            if tags[w] == TAG_TO_ID["O"]:
                tags[w] = begin_tag(span.category) if k == 0 else inside_tag(span.category)
    return tags


def mention_tokens(enc: Encoded, start: int, end: int) -> list[int]:
    return [t for t, (s, e) in enumerate(enc.token_offsets) if e > s and s < end and e > start]


def collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch. Missing labels become IGNORE_INDEX (tokens) or a zero mask (framing)."""
    size, length = len(batch), max(len(e) for e in batch)
    # Padded Python lists become tensors in one call each: row-by-row tensor writes are slower.
    input_ids = torch.tensor([e.input_ids + [pad_id] * (length - len(e)) for e in batch], dtype=torch.long)
    attention = torch.tensor([[1] * len(e) + [0] * (length - len(e)) for e in batch], dtype=torch.long)
    tags = torch.full((size, length), IGNORE_INDEX, dtype=torch.long)
    framing = torch.zeros(size)
    framing_mask = torch.zeros(size)
    mention_batch, mention_labels = [], []
    weight_rows, weight_cols, weight_values = [], [], []  # mean-pooling weights, filled in one indexed write
    for i, enc in enumerate(batch):
        if enc.framing is not None:
            framing[i], framing_mask[i] = enc.framing, 1.0
        if enc.word_tags is not None:
            for tok, tag in zip(enc.word_first_token, enc.word_tags):
                tags[i, tok] = tag
        for k, tokens in enumerate(enc.mentions):
            weight_rows += [len(mention_batch)] * len(tokens)
            weight_cols += tokens
            weight_values += [1.0 / len(tokens)] * len(tokens)
            mention_batch.append(i)
            mention_labels.append(enc.mention_labels[k] if enc.mention_labels is not None else IGNORE_INDEX)
    mention_weights = torch.zeros((len(mention_batch), length))
    mention_weights[weight_rows, weight_cols] = torch.tensor(weight_values)
    return {
        "input_ids": input_ids,
        "attention_mask": attention,
        "tag_labels": tags,
        "framing_targets": framing,
        "framing_mask": framing_mask,
        "mention_weights": mention_weights,  # (T, seq)
        "mention_batch": torch.tensor(mention_batch, dtype=torch.long),  # (T,)
        "stance_labels": torch.tensor(mention_labels, dtype=torch.long),  # (T,)
    }
