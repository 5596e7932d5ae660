"""The training loop: multi-task batches, early stopping, checkpoints and resume.

`train()` only wires things together; `train_while_improving()` is the loop and
yields after every evaluation, handling patience and the step budget.
Output directory layout:

    OUT/checkpoint/    everything needed to resume after a kill (written atomically)
    OUT/model-best/    best model so far by validation score
    OUT/model/         the final model: best weights, calibrated, with metrics.json and README.md
    OUT/train_log.jsonl  per-step losses per head and per-evaluation metrics
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import yaml

from . import distributed
from .config import TrainConfig
from .data import Splits, fingerprint, load_splits
from .devices import distributed_backend, needs_grad_scaler, resolve_device, training_autocast
from .errors import DataError
from .evaluation import calibrate, evaluate_by_source, headline, precision_costs, validate
from .examples import encode_examples
from .features import Encoded, collate, to_device
from .heads import HEADS, Head
from .model_card import write_model_card
from .modeling import StanceModel, load_encoder, load_model, load_tokenizer, save_model

DIR_CHECKPOINT = "checkpoint"
DIR_MODEL_BEST = "model-best"
DIR_MODEL = "model"
LOG_NAME = "train_log.jsonl"


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_score: float = -math.inf
    best_step: int = -1
    evals_without_improvement: int = 0
    finished: bool = False


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length. Deterministic per (seed, epoch), so resume can skip ahead."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda k: lengths[k])
        batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def build_optimizer(model: StanceModel, config: TrainConfig) -> torch.optim.Optimizer:
    t = config.training
    decay = lambda n: not (n.endswith("bias") or "LayerNorm" in n or "layer_norm" in n)  # noqa: E731
    groups = {(True, True): [], (True, False): [], (False, True): [], (False, False): []}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups[(name.startswith("heads."), decay(name))].append(param)
    return torch.optim.AdamW(
        [
            {
                "params": ps,
                "lr": t.head_learning_rate if is_head else t.learning_rate,
                "weight_decay": t.weight_decay if dec else 0.0,
            }
            for (is_head, dec), ps in groups.items()
            if ps
        ]
    )


def linear_schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int) -> torch.optim.lr_scheduler.LambdaLR:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# ---------------------------------------------------------------------------- checkpoints


def save_checkpoint(out: Path, model, optimizer, scheduler, state: TrainState, config: TrainConfig) -> None:
    """Write to a temporary folder, then swap it in: a kill mid-write leaves the previous checkpoint intact."""
    from safetensors.torch import save_file

    tmp = out / (DIR_CHECKPOINT + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
    opt_tensors, opt_meta = _flatten_optimizer(optimizer)
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    meta = {
        "state": asdict(state),
        "optimizer": opt_meta,
        "scheduler": scheduler.state_dict(),
        "config": config.model_dump(),
    }
    (tmp / "trainer_state.json").write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
    final = out / DIR_CHECKPOINT
    old = out / (DIR_CHECKPOINT + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    # Optimizer state as safetensors + JSON rather than a pickle.
    sd = optimizer.state_dict()
    tensors = {}
    for pid, pstate in sd["state"].items():
        for key, value in pstate.items():
            tensors[f"{pid}.{key}"] = (value if torch.is_tensor(value) else torch.tensor(value)).cpu().contiguous()
    return tensors, {"param_groups": sd["param_groups"]}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def load_checkpoint(out: Path, model, optimizer, scheduler) -> TrainState:
    from safetensors.torch import load_file

    ckpt = out / DIR_CHECKPOINT
    meta = json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))
    model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
    optimizer.load_state_dict(_unflatten_optimizer(load_file(str(ckpt / "optimizer.safetensors")), meta["optimizer"]))
    scheduler.load_state_dict(meta["scheduler"])
    return TrainState(**meta["state"])


# ---------------------------------------------------------------------------- the loop


class Logger:
    def __init__(self, path: Path, enabled: bool = True) -> None:
        self.path, self.enabled = path, enabled

    def write(self, record: dict) -> None:
        if self.enabled:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, default=float) + "\n")


def train_while_improving(
    model: StanceModel,
    tokenizer,
    encoded: list[Encoded],
    validation,
    optimizer,
    scheduler,
    state: TrainState,
    config: TrainConfig,
    logger: Logger,
    out: Path,
    device: str = "cpu",
) -> Iterator[tuple[TrainState, bool]]:
    """Yields (state, improved) after every evaluation, until patience or the step budget runs out.
    Batches run on `device`, in mixed precision on a GPU."""
    t = config.training
    scaler = torch.amp.GradScaler("cuda", enabled=needs_grad_scaler(device))
    lengths = [len(e) for e in encoded]
    steps_per_epoch = len(epoch_batches(lengths, t.batch_size, t.seed, 0))
    eval_every = t.eval_every or steps_per_epoch
    total = total_steps(config, steps_per_epoch)
    pad_id = tokenizer.pad_token_id
    progress = distributed.progress_bar(total=total, initial=state.step)
    while state.step < total:
        batches = distributed.shard(epoch_batches(lengths, t.batch_size, t.seed, state.epoch))
        for b in range(state.batch_in_epoch, len(batches)):
            set_seed(t.seed + state.step)  # dropout masks are reproducible after resume
            model.train()
            rows = [encoded[i] for i in batches[b]]
            batch = to_device(collate(rows, pad_id, model_of(model).head_specs, model_of(model).mark_mentions), device)
            with training_autocast(device):
                losses = model(**batch)["losses"]
                loss = sum(t.loss_weights.get(k, 1.0) * v for k, v in losses.items()) + model_of(model).zero_touch()
            scaler.scale(loss).backward()  # a no-op scaler except for fp16 autocast
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            state.step += 1
            state.batch_in_epoch = b + 1
            progress.update(1)
            progress.set_postfix({k: f"{v.item():.3f}" for k, v in losses.items()})
            if state.step % t.log_every == 0:
                logger.write(
                    {"step": state.step, "epoch": state.epoch, "lr": scheduler.get_last_lr()[0]}
                    | {f"loss/{k}": v.item() for k, v in losses.items()}
                )
            if state.step % eval_every == 0 or state.step >= total:
                yield state, evaluate_step(model, tokenizer, validation, state, config, logger)
                if state.finished:
                    progress.close()
                    return
            if state.step % t.checkpoint_every == 0 and distributed.is_main():
                save_checkpoint(out, model_of(model), optimizer, scheduler, state, config)
            if state.step >= total:
                break
        if state.batch_in_epoch >= len(batches):
            state.epoch += 1
            state.batch_in_epoch = 0
    state.finished = True
    progress.close()


def evaluate_step(model, tokenizer, validation, state: TrainState, config: TrainConfig, logger: Logger) -> bool:
    """Evaluate on rank 0 and share its verdict, so every process stops at the same step."""
    improved = False
    if distributed.is_main():
        score, numbers, _ = validate(model_of(model), tokenizer, validation, config.model.max_length)
        improved = score > state.best_score
        if improved:
            state.best_score, state.best_step, state.evals_without_improvement = score, state.step, 0
        else:
            state.evals_without_improvement += 1
        state.finished = state.evals_without_improvement >= config.training.patience
        logger.write(
            {"step": state.step, "epoch": state.epoch, "eval": numbers, "selection_score": score, "improved": improved}
        )
    improved, state.finished = distributed.broadcast((improved, state.finished))
    return improved


def model_of(model):
    return getattr(model, "module", model)


def total_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    per_process = max(1, steps_per_epoch // distributed.world_size())
    total = per_process * config.training.epochs
    return min(total, config.training.max_steps) if config.training.max_steps else total


def trained_heads(examples: list) -> list[Head]:
    """The registered heads the training data labels: a head without labels would only guess."""
    heads = [h for h in HEADS.values() if any(h.label_of(ex) is not None for ex in examples)]
    if not heads:
        raise DataError(f"expected training examples labelled for at least one head of {list(HEADS)}, found none")
    return heads


def build_model(config: TrainConfig, heads: list[Head]) -> StanceModel:
    encoder = load_encoder(config.model.base_model)
    if config.model.freeze_embeddings:
        for p in encoder.embeddings.parameters():
            p.requires_grad = False
    return StanceModel(encoder, dropout=config.model.dropout, heads=heads, mark_mentions=config.model.mark_mentions)


def train(
    config: TrainConfig, out_dir: str | Path, resume: bool = False, device: str = "auto", report: bool = True
) -> Path:
    """Train on `device` (auto: a GPU when there is one); under torchrun each process takes its own GPU,
    and the process group's backend matches the device (NCCL for GPUs, gloo for CPUs). Without
    `report`, the final model is calibrated and validated only: its export and int8 / bf16 costs and
    its test-file figures are not measured (cross-validation folds score their held-out part themselves)."""
    out = Path(out_dir)
    device = resolve_device(device, distributed.local_rank())
    distributed.init(distributed_backend(device))
    if device.startswith("cuda"):
        torch.cuda.set_device(device)
    if config.training.num_threads:
        torch.set_num_threads(config.training.num_threads)
    set_seed(config.training.seed)
    if distributed.is_main():
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(config.model_dump(), sort_keys=False), encoding="utf-8")
    tokenizer = load_tokenizer(config.model.base_model)
    splits = load_splits(config)
    heads = trained_heads(splits.train)
    encoded = encode_examples(tokenizer, splits.train, config.model.max_length, heads)
    model = build_model(config, heads).to(device)
    optimizer = build_optimizer(model, config)
    steps_per_epoch = len(epoch_batches([len(e) for e in encoded], config.training.batch_size, config.training.seed, 0))
    total = total_steps(config, steps_per_epoch)
    scheduler = linear_schedule(optimizer, int(config.training.warmup_ratio * total), total)
    state = TrainState()
    if resume and (out / DIR_CHECKPOINT / "trainer_state.json").exists():
        state = load_checkpoint(out, model, optimizer, scheduler)
    logger = Logger(out / LOG_NAME, enabled=distributed.is_main())
    logger.write(
        {
            "event": "start",
            "resumed_at_step": state.step,
            "train_examples": len(encoded),
            "validation_examples": len(splits.validation),
            "steps_per_epoch": steps_per_epoch,
            "total_steps": total,
            "world_size": distributed.world_size(),
        }
    )
    wrapped = distributed.wrap(model, device)
    save = lambda: save_model(  # noqa: E731
        model,
        tokenizer,
        out / DIR_MODEL_BEST,
        config.model.base_model,
        config.model.max_length,
        config.model.freeze_embeddings,
        "float32",
    )
    try:
        for _, improved in train_while_improving(  # the loop updates `state` in place
            wrapped, tokenizer, encoded, splits.validation, optimizer, scheduler, state, config, logger, out, device
        ):
            if improved and distributed.is_main():
                save()
    finally:
        if distributed.is_main():
            save_checkpoint(out, model, optimizer, scheduler, state, config)
    try:
        if not distributed.is_main():
            return out / DIR_MODEL
        if not (out / DIR_MODEL_BEST).exists():
            save()
        logger.write(
            {
                "event": "end",
                "step": state.step,
                "best_step": state.best_step,
                "best_score": state.best_score,
                "world_size": distributed.world_size(),
            }
        )
        return finalize(out, config, splits, state, device, report)
    finally:
        distributed.shutdown()


def finalize(
    out: Path, config: TrainConfig, splits: Splits, state: TrainState, device: str = "cpu", report: bool = True
) -> Path:
    """Calibrate the best model, export it in the shipping dtype, and (with `report`) measure what the
    export and the CPU precisions cost and score the test files."""
    model, tokenizer, _ = load_model(out / DIR_MODEL_BEST)
    model.to(device)
    calibrate(model, tokenizer, splits.validation, config.model.max_length)
    numbers_fp32 = (
        validate(model, tokenizer, splits.validation, config.model.max_length, tune_threshold=False)[1]
        if report
        else {}
    )
    final = out / DIR_MODEL
    extra = {
        "training": {
            "seed": config.training.seed,
            "validation_fraction": config.data.validation_fraction,
            "folds": config.data.folds,
            "fold": config.data.fold,
            "best_step": state.best_step,
            "steps": state.step,
            "datasets": [d.model_dump() for d in config.data.datasets],
        },
        "framing_temperature": float(model.framing_temperature),
        "loaded_threshold": float(model.loaded_threshold),
    }
    save_model(
        model,
        tokenizer,
        final,
        config.model.base_model,
        config.model.max_length,
        config.model.freeze_embeddings,
        config.model.save_dtype,
        extra=extra,
    )
    exported, tokenizer, _ = load_model(final)
    exported.to(device)
    _, numbers, val_metrics = validate(
        exported, tokenizer, splits.validation, config.model.max_length, tune_threshold=False
    )
    test_metrics = (
        evaluate_by_source(exported, tokenizer, splits.test, config.model.max_length) if splits.test and report else {}
    )
    # The CPU scoring precisions are measured on the CPU, whatever device trained the model.
    costs = (
        precision_costs(exported.cpu(), tokenizer, splits.validation, config.model.max_length, numbers)
        if report
        else {}
    )
    metrics = {
        "validation": {"headline": numbers, "detail": val_metrics},
        "test": {"headline": headline(test_metrics), "detail": test_metrics},
        "export_cost": {
            "dtype": config.model.save_dtype,
            "float32_headline": numbers_fp32,
            "delta": {k: numbers[k] - numbers_fp32[k] for k in numbers if k in numbers_fp32},
        },
        **costs,
        "framing_temperature": float(exported.framing_temperature),
        "loaded_threshold": float(exported.loaded_threshold),
        "examples": {
            "train": len(splits.train),
            "validation": len(splits.validation),
            "test": len(splits.test),
            # Per dataset: `stance evaluate MODEL ADAPTER:PATH@validation` must give these sentences.
            "validation_by_dataset": {
                f"{c.spec.adapter}:{c.spec.path}": fingerprint(c.validation) for c in splits.corpora if c.validation
            },
        },
    }
    (final / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float) + "\n", encoding="utf-8")
    write_model_card(final, config, metrics, exported.head_specs)
    return final
