"""The training loop: multi-task batches, early stopping, checkpoints and resume.

`train()` only wires things together; `train_while_improving()` is the loop and
yields after every evaluation, handling patience and the step budget.
Output directory layout:

    OUT/checkpoint/    everything needed to resume after a kill (written atomically)
    OUT/model-best/    best model so far by validation score
    OUT/model/         the final model: best weights, calibrated, with metrics.json and README.md
    OUT/model-best-RULE/, OUT/model-RULE/   the same for each rule of training.also_select (no report)
    OUT/train_log.jsonl  per-step losses per head and per-evaluation metrics
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from . import distributed
from .config import TrainConfig, config_differences
from .data import Splits, fingerprint, load_splits, replay_sample
from .defaults import FLAG_THRESHOLD
from .devices import distributed_backend, needs_grad_scaler, resolve_device, training_autocast
from .errors import ConfigError, DataError
from .evaluation import (
    MIN_FLAG_CLASS_EXAMPLES,
    MIN_SELECTION_EXAMPLES,
    SELECTION_RULES,
    calibrate,
    evaluate_by_source,
    headline,
    precision_costs,
    selection_score,
    validate,
)
from .examples import encode_examples
from .features import Encoded, collate, to_device
from .heads import HEADS, Head, every_class_present
from .model_card import write_model_card
from .modeling import StanceModel, load_encoder, load_model, load_tokenizer, read_model_config, save_model
from .onnx_export import RANGE_SENTENCES, RANGES_KEY, activation_ranges

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
    # training.also_select: the best score and step by each extra selection rule
    also_best: dict[str, float] = field(default_factory=dict)
    also_best_step: dict[str, int] = field(default_factory=dict)


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
    fixed_budget: bool = False,
) -> Iterator[tuple[TrainState, list[str]]]:
    """Yields (state, improved) after every evaluation, until patience or the step budget runs out;
    `improved` names the selection rules (training.selection, then also_select) whose best this was.
    With `fixed_budget` (validation too small to choose by) every evaluation counts as an improvement
    and patience never stops training: the last model is the one kept. Batches run on `device`, in
    mixed precision on a GPU. The terminal gets a bar per epoch and each evaluation's metrics."""
    t = config.training
    scaler = torch.amp.GradScaler("cuda", enabled=needs_grad_scaler(device, t.precision))
    lengths = [len(e) for e in encoded]
    steps_per_epoch = len(epoch_batches(lengths, t.batch_size, t.seed, 0))
    eval_every = t.eval_every or steps_per_epoch
    total = total_steps(config, steps_per_epoch)
    epochs = math.ceil(total / max(1, steps_per_epoch // distributed.world_size()))
    pad_id = tokenizer.pad_token_id
    while state.step < total:
        batches = distributed.shard(epoch_batches(lengths, t.batch_size, t.seed, state.epoch))
        in_epoch = min(len(batches), state.batch_in_epoch + total - state.step)
        progress = distributed.progress_bar(
            total=in_epoch, initial=state.batch_in_epoch, desc=f"epoch {state.epoch + 1}/{epochs}"
        )
        for b in range(state.batch_in_epoch, len(batches)):
            set_seed(t.seed + state.step)  # dropout masks are reproducible after resume
            model.train()
            rows = [encoded[i] for i in batches[b]]
            batch = to_device(collate(rows, pad_id, model_of(model).head_specs, model_of(model).mark_mentions), device)
            with training_autocast(device, t.precision):
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
                yield state, evaluate_step(model, tokenizer, validation, state, config, logger, fixed_budget)
                if state.finished:
                    progress.close()
                    return
            if state.step % t.checkpoint_every == 0 and distributed.is_main():
                save_checkpoint(out, model_of(model), optimizer, scheduler, state, config)
            if state.step >= total:
                break
        progress.close()
        if state.batch_in_epoch >= len(batches):
            state.epoch += 1
            state.batch_in_epoch = 0
    state.finished = True


def evaluate_step(
    model, tokenizer, validation, state: TrainState, config: TrainConfig, logger: Logger, fixed_budget: bool = False
) -> list[str]:
    """Evaluate on rank 0 and share its verdict, so every process stops at the same step. Returns the
    selection rules whose best score this evaluation beat: training.selection (which alone drives
    early stopping) first, then those of training.also_select."""
    t = config.training
    improved: list[str] = []
    if distributed.is_main():
        _, numbers, metrics = validate(model_of(model), tokenizer, validation, config.model.max_length)
        scores = selected_scores(metrics, t)
        score = scores[t.selection]
        if fixed_budget or score > state.best_score:
            state.best_score, state.best_step, state.evals_without_improvement = score, state.step, 0
            improved.append(t.selection)
        else:
            state.evals_without_improvement += 1
        for rule in also_rules(t):
            if fixed_budget or scores[rule] > state.also_best.get(rule, -math.inf):
                state.also_best[rule], state.also_best_step[rule] = scores[rule], state.step
                improved.append(rule)
        state.finished = not fixed_budget and state.evals_without_improvement >= t.patience
        logger.write(
            {
                "step": state.step,
                "epoch": state.epoch,
                "eval": numbers,
                "selection_score": score,
                "improved": t.selection in improved,
            }
            | ({"also_scores": {r: scores[r] for r in also_rules(t)}} if also_rules(t) else {})
        )
        distributed.echo(describe_evaluation(state, numbers, score, t.selection in improved, fixed_budget, t.patience))
        for line in per_class_lines(metrics):
            distributed.echo(line)
    improved, state.finished = distributed.broadcast((improved, state.finished))
    return improved


def also_rules(t) -> list[str]:
    """training.also_select without the rule that already chooses OUT/model."""
    return [r for r in dict.fromkeys(t.also_select) if r != t.selection]


def selected_scores(metrics: dict, t) -> dict[str, float]:
    """The selection score of each rule training uses, from one evaluation's metrics."""
    selectable = headline(metrics, MIN_SELECTION_EXAMPLES)
    return {rule: selection_score(selectable, rule) for rule in [t.selection, *also_rules(t)]}


def best_dir(rule: str, t) -> str:
    """Where the best model by `rule` is kept while training (model-best for training.selection)."""
    return DIR_MODEL_BEST if rule == t.selection else f"{DIR_MODEL_BEST}-{rule}"


def model_dir(rule: str, t) -> str:
    """The calibrated final model chosen by `rule` (model for training.selection)."""
    return DIR_MODEL if rule == t.selection else f"{DIR_MODEL}-{rule}"


def describe_evaluation(
    state: TrainState, numbers: dict[str, float], score: float, improved: bool, fixed_budget: bool, patience: int
) -> str:
    """One evaluation for the terminal: every head's validation figures per corpus, then the verdict."""
    shown = {k: v for k, v in numbers.items() if not k.endswith(("_ece", "_exact"))}
    lines = [f"step {state.step} (epoch {state.epoch + 1}) validation:"]
    lines += [f"  {key:44s} {value:.4f}" for key, value in sorted(shown.items())]
    if fixed_budget:
        verdict = "fixed budget: no early stopping, the last model is kept"
    elif improved:
        verdict = f"selection score {score:.4f}: best so far, saved"
    else:
        verdict = (
            f"selection score {score:.4f}: not better than {state.best_score:.4f} at step {state.best_step} "
            f"({state.evals_without_improvement}/{patience} before early stopping)"
        )
    return "\n".join(lines + [f"  {verdict}"])


def per_class_lines(metrics: dict) -> list[str]:
    """Precision and recall of every class of the sentence-level heads, per corpus, and a warning where a
    head answers one class only: a macro-F1 alone hides a head that never flags anything."""
    lines = []
    for source, heads in sorted(metrics.items()):
        for name, m in heads.items():
            head = HEADS.get(name)
            if head is None or head.level != "sentence" or "per_class" not in m or not m.get("n"):
                continue
            at = f" at threshold {m['threshold']:.2f}" if "threshold" in m else ""
            lines.append(
                f"  {name} ({source}){at}: "
                + ", ".join(
                    f"{label} P {row['precision']:.2f} R {row['recall']:.2f} (n={row['support']})"
                    for label, row in m["per_class"].items()
                )
            )
            predicted = [sum(col) for col in zip(*m["confusion_matrix"]["rows_gold_cols_pred"])]
            if sum(1 for n in predicted if n) == 1:
                only = m["confusion_matrix"]["labels"][next(i for i, n in enumerate(predicted) if n)]
                lines.append(
                    f"  warning: {name} answers {only!r} for every {source} validation sentence: it has not learnt "
                    "the other classes (yet). Its macro-F1 is that of a constant answer; see the class weights above, "
                    "and label more of the rare class"
                )
            if not every_class_present(m):
                absent = [label for label, row in m["per_class"].items() if not row["support"]]
                lines.append(
                    f"  {name} macro-F1 on {source}: not shown, no {', '.join(absent)} sentences in its validation split"
                )
    return lines


def validation_warnings(validation: list, heads: list[Head], config: TrainConfig) -> list[str]:
    """Before training: a class with fewer than MIN_FLAG_CLASS_EXAMPLES validation sentences in some
    corpus makes that head's figures (and its fitted threshold) noise; say so, with counts, and what to do."""
    out = []
    by_source: dict[str, list] = {}
    for ex in validation:
        by_source.setdefault(ex.source, []).append(ex)
    for source, examples in sorted(by_source.items()):
        for head in heads:
            if head.level != "sentence":
                continue
            values = [head.to_ids(v) for ex in examples if (v := head.label_of(ex)) is not None]
            if not values:
                continue
            ids = [int(float(v) >= 0.5) for v in values] if head.name == "framing" else values  # soft labels
            counts = {label: sum(1 for v in ids if v == k) for k, label in enumerate(head.labels)}
            few = {label: n for label, n in counts.items() if n < MIN_FLAG_CLASS_EXAMPLES}
            if few:
                out.append(
                    f"the validation split of {source} holds "
                    + " and ".join(f"{n} {label}" for label, n in counts.items())
                    + f" sentences: {head.name} figures from fewer than {MIN_FLAG_CLASS_EXAMPLES} of a class are noise, "
                    "and its flag threshold is not fitted. Label more "
                    + " and ".join(few)
                    + " sentences, cross-validate instead (`stance cv CONFIG --folds 5`: every sentence is validated "
                    f"once), or raise data.validation_fraction (now {config.data.validation_fraction}) so validation "
                    "holds more of them"
                )
    return out


def model_of(model):
    return getattr(model, "module", model)


def total_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    per_process = max(1, steps_per_epoch // distributed.world_size())
    total = per_process * config.training.epochs
    return min(total, config.training.max_steps) if config.training.max_steps else total


def has_signal(value) -> bool:
    """Does a head's label carry anything to learn from? A target list or span list that is empty
    for every sentence does not: such a head would only learn to guess."""
    return value is not None and not (isinstance(value, (list, tuple)) and not value)


def trained_heads(examples: list) -> list[Head]:
    """The registered heads the training data labels: a head without labels would only guess."""
    heads = [h for h in HEADS.values() if any(has_signal(h.label_of(ex)) for ex in examples)]
    if not heads:
        raise DataError(f"expected training examples labelled for at least one head of {list(HEADS)}, found none")
    return heads


def can_select(validation: list, heads: list[Head]) -> bool:
    """Is there a corpus with enough labelled validation sentences for some head to choose a
    checkpoint by? With fewer, every selection score is noise (or 0.0), and early stopping would
    keep whichever model came first."""
    counts = Counter((ex.source, h.name) for ex in validation for h in heads if h.label_of(ex) is not None)
    return any(n >= MIN_SELECTION_EXAMPLES for n in counts.values())


def build_model(config: TrainConfig, heads: list[Head]) -> StanceModel:
    model = StanceModel(
        load_encoder(config.model.base_model),
        dropout=config.model.dropout,
        heads=heads,
        mark_mentions=config.model.mark_mentions,
    )
    freeze_encoder(model, config)
    return model


def resolve_init(name: str) -> Path:
    """`model.init_from`: "default" (the shipped model) or a stance model directory."""
    from .defaults import model_path

    path = model_path(name)
    read_model_config(path)  # a clear error when it is not a stance model
    return path


def adapt_model(init_dir: Path, config: TrainConfig, heads: list[Head]) -> tuple[StanceModel, list[Head]]:
    """The trained model at `init_dir`, plus a fresh head for each of `heads` it lacks. Its heads that
    the new data does not label are frozen: they keep their trained weights (the encoder under them
    still moves; `data.replay` counters that). Returns the model and the frozen heads."""
    start, _, _ = load_model(init_dir)
    names = {h.name for h in heads} | {h.name for h in start.head_specs}
    model = StanceModel(
        start.encoder,
        dropout=config.model.dropout,
        heads=[h for h in HEADS.values() if h.name in names],
        mark_mentions=start.mark_mentions,
    )
    for head in start.head_specs:
        model.heads[head.name].load_state_dict(start.heads[head.name].state_dict())
    model.framing_temperature.copy_(start.framing_temperature)
    model.loaded_threshold.copy_(start.loaded_threshold)
    retrained = {h.name for h in heads}
    inherited = [h for h in start.head_specs if h.name not in retrained]
    for head in inherited:
        for p in model.heads[head.name].parameters():
            p.requires_grad = False
    freeze_encoder(model, config)
    return model, inherited


def freeze_encoder(model: StanceModel, config: TrainConfig) -> None:
    """Frozen embeddings (or, with model.freeze_encoder, the whole encoder) take no gradient."""
    frozen = (
        model.encoder
        if config.model.freeze_encoder
        else model.encoder.embeddings
        if config.model.freeze_embeddings
        else None
    )
    for p in frozen.parameters() if frozen is not None else ():
        p.requires_grad = False


RUN_FILES = (
    DIR_CHECKPOINT,
    DIR_CHECKPOINT + ".tmp",
    DIR_CHECKPOINT + ".old",
    DIR_MODEL_BEST,
    DIR_MODEL,
    LOG_NAME,
    *(f"{d}-{rule}" for d in (DIR_MODEL_BEST, DIR_MODEL) for rule in SELECTION_RULES),
)
CONFIG_FILE = "config.yaml"


def prepare_output(out: Path, config: TrainConfig, resume: bool, force: bool) -> None:
    """A new run needs an empty folder (or --force, which removes the earlier run's files); a resumed
    run must be the same run: the config it was started with, unchanged."""
    if resume:
        saved = out / CONFIG_FILE
        if saved.exists():
            changed = config_differences(yaml.safe_load(saved.read_text(encoding="utf-8")), config)
            if changed:
                raise ConfigError(
                    f"expected --resume to continue the run in {out} with the settings it was started with, found "
                    f"changed settings: {'; '.join(changed[:6])}. Resume without them (`stance train --resume -o "
                    f"{out}` reads {saved}), or start a new run in another folder"
                )
        return
    if out.is_dir() and any(out.iterdir()):
        if not force:
            held = ", ".join(sorted(p.name for p in out.iterdir())[:5])
            raise ConfigError(
                f"expected a new or empty output folder, found {out} holding {held}; pass --force to replace "
                "the run in it, --resume to continue it, or choose another -o"
            )
        for name in (*RUN_FILES, CONFIG_FILE):
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def saved_run_config(out: Path) -> dict:
    """The settings a run in `out` was started with (for `stance train --resume` without a config)."""
    saved = Path(out) / CONFIG_FILE
    if not saved.is_file():
        raise ConfigError(
            f"expected the run's {CONFIG_FILE} in {out} to resume from, found none; check -o, or start a new run "
            "with a config"
        )
    return yaml.safe_load(saved.read_text(encoding="utf-8"))


def train(
    config: TrainConfig,
    out_dir: str | Path,
    resume: bool = False,
    device: str = "auto",
    report: bool = True,
    force: bool = False,
) -> Path:
    """Train on `device` (auto: a GPU when there is one); under torchrun each process takes its own GPU,
    and the process group's backend matches the device (NCCL for GPUs, gloo for CPUs). Without
    `report`, the final model is calibrated and validated only: its export and int8 / bf16 costs and
    its test-file figures are not measured (cross-validation folds score their held-out part themselves).

    `resume` continues the run in `out_dir` (same config, else an error); a new run refuses a folder
    holding files unless `force`."""
    out = Path(out_dir)
    if distributed.is_main():
        prepare_output(out, config, resume, force)
    device = resolve_device(device, distributed.local_rank())
    distributed.init(distributed_backend(device))
    if device.startswith("cuda"):
        torch.cuda.set_device(device)
    if config.training.num_threads:
        torch.set_num_threads(config.training.num_threads)
    set_seed(config.training.seed)
    if distributed.is_main():
        out.mkdir(parents=True, exist_ok=True)
        if not (out / CONFIG_FILE).exists():
            (out / CONFIG_FILE).write_text(yaml.safe_dump(config.model_dump(), sort_keys=False), encoding="utf-8")
    notes: list[str] = []
    init_dir = resolve_init(config.model.init_from) if config.model.init_from else None
    if init_dir is not None:
        init_config = read_model_config(init_dir)
        # The adapted model keeps the init model's base (its embeddings) and input marking.
        config = config.model_copy(deep=True)
        config.model.base_model = init_config["base_model"]
        config.model.mark_mentions = bool(init_config.get("mark_mentions", False))
        config.model.freeze_embeddings = bool(init_config["weights"].get("embeddings_from_base"))
    tokenizer = load_tokenizer(str(init_dir) if init_dir else config.model.base_model)
    splits = load_splits(config)
    if init_dir is not None and config.data.replay:
        replayed = replay_sample(init_config, config.data_root(), config.data.replay, config.training.seed)
        splits.train.extend(replayed)
        notes.append(f"replay: {len(replayed)} training sentences of {init_dir}'s own corpora were mixed in")
    heads = trained_heads(splits.train)
    encoded = encode_examples(tokenizer, splits.train, config.model.max_length, heads)
    inherited: list[Head] = []
    if init_dir is not None:
        model, inherited = adapt_model(init_dir, config, heads)
        model.to(device)
    else:
        model = build_model(config, heads).to(device)
    baseline = init_baseline(init_dir, config, splits, device) if init_dir and distributed.is_main() else None
    for warning in validation_warnings(splits.validation, heads, config):
        notes.append(warning)
        if distributed.is_main():
            distributed.echo(f"warning: {warning}")
    weights = balancing_weights(splits.train, heads, config)
    model.class_weights = {name: torch.tensor(w) for name, w in weights.items()}
    if "framing" in [h.name for h in heads]:
        model.framing_threshold = FLAG_THRESHOLD  # a new framing head: its threshold is fitted at the end
    fixed_budget = not can_select(splits.validation, heads)
    if fixed_budget:
        notes.append(
            f"validation has fewer than {MIN_SELECTION_EXAMPLES} labelled sentences per corpus and head "
            f"({len(splits.validation)} in all): trained for the fixed budget without early stopping, and the "
            "last model was kept"
        )
        if distributed.is_main():
            distributed.echo(f"warning: {notes[-1]}")
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
            "fixed_budget": fixed_budget,
            "init_from": str(init_dir) if init_dir else None,
            "class_weights": weights,
        }
    )
    if distributed.is_main():
        distributed.echo(
            f"training {', '.join(h.name for h in heads)} on {len(encoded)} sentences "
            f"({len(splits.validation)} for validation): {total} steps, {steps_per_epoch} per epoch"
            + (f"; continuing from {init_dir}, keeping {', '.join(h.name for h in inherited)}" if inherited else "")
        )
        for name, w in weights.items():
            head = HEADS[name]
            shown = {"editorial": w[0]} if name == "framing" else dict(zip(head.labels, w))
            distributed.echo(
                f"class weights for {name} (training.class_weights: balanced, from the label counts): "
                + ", ".join(f"{label} x{value:.2f}" for label, value in shown.items())
            )
    wrapped = distributed.wrap(model, device)
    t = config.training
    save = lambda rule=t.selection: save_model(  # noqa: E731
        model,
        tokenizer,
        out / best_dir(rule, t),
        config.model.base_model,
        config.model.max_length,
        config.model.freeze_embeddings,
        "float32",
    )
    try:
        for _, improved in train_while_improving(  # the loop updates `state` in place
            wrapped,
            tokenizer,
            encoded,
            splits.validation,
            optimizer,
            scheduler,
            state,
            config,
            logger,
            out,
            device,
            fixed_budget,
        ):
            if distributed.is_main():
                for rule in improved:
                    save(rule)
    finally:
        if distributed.is_main():
            save_checkpoint(out, model, optimizer, scheduler, state, config)
    try:
        if not distributed.is_main():
            return out / DIR_MODEL
        for rule in [t.selection, *also_rules(t)]:
            if not (out / best_dir(rule, t)).exists():
                save(rule)
        logger.write(
            {
                "event": "end",
                "step": state.step,
                "best_step": state.best_step,
                "best_score": state.best_score,
                "world_size": distributed.world_size(),
            }
        )
        adapted = (
            {"init_from": str(init_dir), "retrained": [h.name for h in heads], "inherited": [h.name for h in inherited]}
            if init_dir
            else None
        )
        for rule in also_rules(t):
            model, tokenizer, _ = calibrated(out / best_dir(rule, t), config, splits, device)
            chosen = {"selection": rule, "best_step": state.also_best_step.get(rule, state.step)}
            save_shipped(model, tokenizer, out / model_dir(rule, t), config, chosen, splits)
        final = finalize(out, config, splits, state, device, report, notes, adapted)
        if baseline is not None:
            verdict = against_init(baseline, init_dir, final, config, splits, heads)
            logger.write({"event": "against_init"} | verdict)
            for line in verdict["lines"]:
                distributed.echo(line)
        return final
    finally:
        distributed.shutdown()


def init_baseline(init_dir: Path, config: TrainConfig, splits: Splits, device: str):
    """The model training starts from, scored on the run's validation split before the first step:
    what the new model has to beat. Its figures go to the terminal now; the scores wait for the end."""
    from .comparison import score_with

    start, tokenizer, _ = load_model(init_dir)
    start.to(device)
    scored = score_with(start, tokenizer, splits.validation, config.model.max_length)
    figures = headline(evaluate_by_source(start, tokenizer, splits.validation, config.model.max_length))
    distributed.echo(f"the model you start from ({init_dir}) on this run's validation split:")
    for key, value in sorted(figures.items()):
        if not key.endswith(("_ece", "_exact")):
            distributed.echo(f"  {key:44s} {value:.4f}")
    return scored


def against_init(baseline, init_dir: Path, final: Path, config: TrainConfig, splits: Splits, heads: list[Head]) -> dict:
    """Is the adapted model better than the one it started from (`baseline`, init_baseline's scores)?
    Both on the run's validation split (paired bootstrap per head, as `stance compare`), then on the
    init model's own validation corpora that label the retrained heads, where `data.root` has them (what
    adapting cost elsewhere). Returns the figures and the lines the run ends with: a plain verdict, and
    what to try if it is not better."""
    from .comparison import bootstrap_deltas, score_with
    from .data import config_of_model

    start, start_config = baseline.model, read_model_config(init_dir)
    end, tokenizer, _ = load_model(final)
    end.to(next(start.parameters()).device)
    max_length = config.model.max_length
    lines = [f"against the model it started from ({init_dir}), on this run's validation split (B - A, 95% interval):"]
    deltas: dict[str, dict] = {}
    a, b = baseline, score_with(end, tokenizer, splits.validation, max_length)
    for head in heads:
        if head.name in a.outputs and head.name in b.outputs:
            for key, d in bootstrap_deltas(a, b, splits.validation, head.name, 1000, config.training.seed).items():
                deltas[key] = d
                lines.append(
                    f"  {key:28s} {d['a']:.4f} -> {d['b']:.4f}  {d['delta']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
                )
    main = [d for k, d in deltas.items() if k.endswith(("macro_f1", "word_f1"))]
    better = bool(main) and all(d["low"] > 0 for d in main)
    worse = any(d["high"] < 0 for d in main)
    elsewhere = {}
    try:
        own = load_splits(config_of_model(start_config, config.data_root())).validation
    except (DataError, OSError, ValueError):
        own = []  # the init model's corpora are not under data.root: nothing to compare there
    own = [ex for ex in own if any(h.label_of(ex) is not None for h in heads)]
    if own:
        before, after = (
            evaluate_by_source(start, tokenizer, own, max_length),
            evaluate_by_source(end, tokenizer, own, max_length),
        )
        lines.append("on the init model's own validation corpora (what adapting cost there):")
        for key, value in sorted(headline(before).items()):
            if key.endswith(("macro_f1", "word_f1")) and key in headline(after):
                elsewhere[key] = {"before": value, "after": headline(after)[key]}
                lines.append(f"  {key:28s} {value:.4f} -> {headline(after)[key]:.4f}")
    if better:
        lines.append(f"verdict: better than {init_dir} on this data (every interval above zero): use {final}")
    elif worse:
        lines.append(
            f"verdict: WORSE than {init_dir} on this data. Keep {init_dir}: it is unchanged. To try: label more "
            "sentences (above all of the rare class), train longer (training.epochs), or a lower "
            "training.learning_rate; `stance cv` tells noise from a real change on small data"
        )
    else:
        lines.append(
            f"verdict: not clearly better than {init_dir} (an interval includes zero): the difference may be noise. "
            f"You can keep {init_dir}. To try: label more sentences (above all of the rare class), or "
            "`stance cv` for a steadier figure"
        )
    return {"deltas": deltas, "elsewhere": elsewhere, "better": better, "worse": worse, "lines": lines}


def range_sentences(examples: list, seed: int) -> list[str]:
    """The training sentences that fix the int8 export's activation scales: a seeded sample, so the
    same run gives the same model."""
    texts = sorted({e.text for e in examples})
    random.Random(seed).shuffle(texts)
    return texts[:RANGE_SENTENCES]


def balancing_weights(examples: list, heads: list[Head], config: TrainConfig) -> dict[str, list[float]]:
    """Per sentence-level head, the loss weights that balance its classes over the training labels
    (training.class_weights: balanced): on a corpus where 5% of sentences are editorial, the editorial
    ones weigh 19 times as much, so the head learns them instead of answering "neutral" throughout."""
    if config.training.class_weights != "balanced":
        return {}
    out = {}
    for head in heads:
        if head.level != "sentence":
            continue
        values = [head.to_ids(v) for ex in examples if (v := head.label_of(ex)) is not None]
        weights = head.class_weights(values)
        if weights is not None:
            out[head.name] = weights
    return out


def calibrated(src: Path, config: TrainConfig, splits: Splits, device: str) -> tuple[StanceModel, object, list[str]]:
    """The model in `src` with the logit shift of its class weights undone, its framing temperature
    and thresholds fitted on the validation split, its tokenizer, and calibration's notes."""
    model, tokenizer, _ = load_model(src)
    for name, weights in balancing_weights(splits.train, trained_heads(splits.train), config).items():
        HEADS[name].undo_class_weights(model.heads[name], weights)
    model.to(device)
    return model, tokenizer, calibrate(model, tokenizer, splits.validation, config.model.max_length)


def save_shipped(model: StanceModel, tokenizer, dst: Path, config: TrainConfig, training: dict, splits: Splits) -> None:
    """Save a calibrated model in the shipping dtype; `training` (how it was chosen) goes into config.json,
    with the int8 export's activation ranges, measured on training sentences."""
    extra = {
        "training": training,
        "framing_temperature": float(model.framing_temperature),
        "loaded_threshold": float(model.loaded_threshold),
        RANGES_KEY: activation_ranges(
            model, tokenizer, range_sentences(splits.train, config.training.seed), config.model.max_length
        ),
    }
    save_model(
        model,
        tokenizer,
        dst,
        config.model.base_model,
        config.model.max_length,
        config.model.freeze_embeddings,
        config.model.save_dtype,
        extra=extra,
    )


def finalize(
    out: Path,
    config: TrainConfig,
    splits: Splits,
    state: TrainState,
    device: str = "cpu",
    report: bool = True,
    notes: list[str] | None = None,
    adapted: dict | None = None,
) -> Path:
    """Calibrate the best model, export it in the shipping dtype, and (with `report`) measure what the
    export and the CPU precisions cost and score the test files. `notes` (what training had to
    decide, e.g. a fixed budget) and `adapted` (what `model.init_from` kept) go into the card."""
    model, tokenizer, calibration_notes = calibrated(out / DIR_MODEL_BEST, config, splits, device)
    notes = list(notes or []) + calibration_notes
    for note in notes:
        distributed.echo(f"note: {note}")
    numbers_fp32 = (
        validate(model, tokenizer, splits.validation, config.model.max_length, tune_threshold=False)[1]
        if report
        else {}
    )
    final = out / DIR_MODEL
    training = {
        "seed": config.training.seed,
        "validation_fraction": config.data.validation_fraction,
        "folds": config.data.folds,
        "fold": config.data.fold,
        "best_step": state.best_step,
        "steps": state.step,
        "datasets": [d.model_dump() for d in config.data.datasets],
        "adapted": adapted,
    }
    save_shipped(model, tokenizer, final, config, training, splits)
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
        precision_costs(exported.cpu(), tokenizer, splits.validation, config.model.max_length, numbers, final)
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
        "framing_threshold": float(exported.framing_threshold),
        "notes": notes,
        "adapted": adapted,
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
    logger = Logger(out / LOG_NAME)
    logger.write({"event": "finalized", "notes": notes, "headline": numbers})
    return final
