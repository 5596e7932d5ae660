"""The model's tokenizer on the `tokenizers` library alone: no torch, no transformers.

Scoring needs only ids, offsets and word ids, which `tokenizers` gives straight from the model's own
tokenizer.json in a few milliseconds; transformers' tokenizer classes cost a second of imports.
"""

from __future__ import annotations

import json
from pathlib import Path


class FastTokenizer:
    """The subset of a transformers tokenizer that stance uses, on the `tokenizers` library."""

    def __init__(self, model_dir: str | Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.no_padding()
        config = json.loads((Path(model_dir) / "tokenizer_config.json").read_text(encoding="utf-8"))
        pad = config.get("pad_token", "[PAD]")
        self.pad_token_id = self.tokenizer.token_to_id(pad if isinstance(pad, str) else pad["content"])
        self._length = None

    def __call__(
        self,
        texts,
        truncation: bool = True,
        max_length: int = 512,
        return_offsets_mapping: bool = True,
        add_special_tokens: bool = True,
    ) -> _Batch:
        if self._length != max_length:
            self.tokenizer.enable_truncation(max_length)
            self._length = max_length
        return _Batch(self.tokenizer.encode_batch(list(texts), add_special_tokens=add_special_tokens))


class _Batch(dict):
    def __init__(self, encodings) -> None:
        super().__init__(input_ids=[e.ids for e in encodings], offset_mapping=[e.offsets for e in encodings])
        self.encodings = encodings

    def word_ids(self, i: int) -> list[int | None]:
        return self.encodings[i].word_ids


def scoring_tokenizer(model_dir: str | Path, config: dict):
    """The tokenizer scoring uses: FastTokenizer for BERT-family models with a tokenizer.json, else
    transformers' (the same choice as modeling.load_model(fast=True))."""
    from .model_files import plain_bert

    if plain_bert(config.get("encoder_config", {})) and (Path(model_dir) / "tokenizer.json").exists():
        return FastTokenizer(model_dir)
    from .modeling import load_tokenizer

    return load_tokenizer(str(model_dir))
