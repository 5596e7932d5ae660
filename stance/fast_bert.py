"""A plain-torch BERT encoder and tokenizer wrapper for scoring, with no transformers import.

Importing transformers' modeling code pulls in torch.distributed, dynamo and sympy, about two
seconds before the first sentence is scored. For BERT-family encoders (the default MiniLM) the
scorer runs this module instead: the same architecture and parameter names as
`transformers.BertModel` (a test checks the outputs match), and the `tokenizers` library on the
model's own tokenizer.json. Training, and any other architecture, still use transformers.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .model_files import plain_bert
from .tokenizer import FastTokenizer


class _Embeddings(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        types = (
            self.token_type_embeddings.weight[0]
            if token_type_ids is None
            else self.token_type_embeddings(token_type_ids)
        )
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None] + types
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.heads, self.head_dim = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        split = lambda t: t.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731  (b, heads, seq, dim)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return out.transpose(1, 2).reshape(b, n, self.heads * self.head_dim)


class _Output(nn.Module):
    def __init__(self, d_in: int, d_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Output(c.hidden_size, c.hidden_size, c.layer_norm_eps)


class _Intermediate(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Output(c.intermediate_size, c.hidden_size, c.layer_norm_eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.attention.output(self.attention.self(x, bias), x)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


class _Stack(nn.Module):
    def __init__(self, c) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


class BertEncoder(nn.Module):
    """Parameter names match transformers.BertModel without its pooler."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        c = SimpleNamespace(**{k: v for k, v in config.items() if not k.startswith("_")})
        c.pad_token_id = config.get("pad_token_id", 0)
        self.config = c
        self.embeddings = _Embeddings(c)
        self.encoder = _Stack(c)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> SimpleNamespace:
        x = self.embeddings(input_ids, token_type_ids)
        # Additive mask: 0 where attended, a large negative number at padding.  (batch, 1, 1, seq)
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return SimpleNamespace(last_hidden_state=x)


def base_embeddings(model_dir: str | Path) -> dict[str, torch.Tensor]:
    """The embedding tensors of a base model directory, read straight from its safetensors file."""
    from safetensors import safe_open

    path = Path(model_dir) / "model.safetensors"
    out = {}
    with safe_open(str(path), "pt") as fh:
        for key in fh.keys():  # noqa: SIM118 - safe_open is not a dict
            name = key.split("embeddings.", 1)[-1] if "embeddings." in key else None
            if name and not name.startswith("position_ids"):
                out[name] = fh.get_tensor(key)
    return out


def load_fast(model_dir: Path, config: dict[str, Any]) -> tuple[BertEncoder, FastTokenizer] | None:
    """The plain-torch encoder and tokenizer for this model, or None when it needs transformers."""
    if not plain_bert(config["encoder_config"]) or not (model_dir / "tokenizer.json").exists():
        return None
    return BertEncoder(config["encoder_config"]), FastTokenizer(model_dir)
