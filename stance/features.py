"""From sentences (and their labels) to padded tensors for the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .labels import TAG_TO_ID


@dataclass
class Encoded:
    """One tokenized sentence. Word-level data lets tags sit on the first sub-token of each word."""

    input_ids: list[int]
    word_spans: list[tuple[int, int]]  # character span of each word
    word_first_token: list[int]  # token index of the first sub-token of each word
    token_offsets: list[tuple[int, int]]
    text: str = ""
    mentions: list[list[int]] = field(default_factory=list)  # token indices of each target mention
    mention_sources: list[int] = field(default_factory=list)  # index of each mention's target in the example
    labels: dict[str, Any] = field(default_factory=dict)  # per head (heads.py), for labelled sentences only

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


def word_tags_for_spans(word_spans: list[tuple[int, int]], spans, tag_to_id: dict[str, int] = TAG_TO_ID) -> list[int]:
    """BIO tag id per word (`tag_to_id`: the loaded-term tags by default): a word is inside a span
    (anything with start, end, category) when their character ranges overlap."""
    outside = tag_to_id["O"]
    tags = [outside] * len(word_spans)
    for span in spans:
        inside = [i for i, (s, e) in enumerate(word_spans) if s < span.end and e > span.start]
        for k, w in enumerate(inside):
            if tags[w] == outside:
                tags[w] = tag_to_id[f"{'B' if k == 0 else 'I'}-{span.category}"]
    return tags


def mention_tokens(enc: Encoded, start: int, end: int) -> list[int]:
    return [t for t, (s, e) in enumerate(enc.token_offsets) if e > s and s < end and e > start]


def model_inputs(batch: Sequence[Encoded], pad_id: int, mark_mentions: bool = False) -> dict[str, np.ndarray]:
    """The model's inputs for a batch, padded, as numpy arrays (what either engine takes):
    input_ids and attention_mask (B, L); mention_weights (T, L), each mention's mean-pooling weights
    over its tokens; mention_batch (T,), the sentence of each mention. With `mark_mentions`,
    token_type_ids is 1 on target-mention tokens and 0 elsewhere: the mention is marked in the input
    itself, at no cost in length (unlike inserted marker tokens)."""
    length = max(len(e) for e in batch)
    input_ids = np.full((len(batch), length), pad_id, dtype=np.int64)
    attention = np.zeros((len(batch), length), dtype=np.int64)
    for i, e in enumerate(batch):
        input_ids[i, : len(e)] = e.input_ids
        attention[i, : len(e)] = 1
    mention_batch = []
    weight_rows, weight_cols, weight_values = [], [], []  # mean-pooling weights, filled in one indexed write
    for i, enc in enumerate(batch):
        for tokens in enc.mentions:
            weight_rows += [len(mention_batch)] * len(tokens)
            weight_cols += tokens
            weight_values += [1.0 / len(tokens)] * len(tokens)
            mention_batch.append(i)
    mention_weights = np.zeros((len(mention_batch), length), dtype=np.float32)
    mention_weights[weight_rows, weight_cols] = weight_values
    out = {
        "input_ids": input_ids,
        "attention_mask": attention,
        "mention_weights": mention_weights,
        "mention_batch": np.asarray(mention_batch, dtype=np.int64).reshape(-1),
    }
    if mark_mentions:
        types = np.zeros((len(batch), length), dtype=np.int64)
        rows = [i for i, enc in enumerate(batch) for tokens in enc.mentions for _ in tokens]
        types[rows, weight_cols] = 1
        out["token_type_ids"] = types
    return out


def collate(batch: Sequence[Encoded], pad_id: int, heads: Sequence = (), mark_mentions: bool = False) -> dict[str, Any]:
    """`model_inputs` as torch tensors, plus label tensors for `heads` (training) under "labels"."""
    import torch

    out: dict[str, Any] = {k: torch.from_numpy(v) for k, v in model_inputs(batch, pad_id, mark_mentions).items()}
    if heads:
        length = out["input_ids"].shape[1]
        out["labels"] = {head.name: head.collate(batch, length) for head in heads}
    return out


def to_device(batch: dict[str, Any], device) -> dict[str, Any]:
    """A collated batch (labels included) on `device`."""
    return {k: to_device(v, device) if isinstance(v, dict) else v.to(device) for k, v in batch.items()}
