"""The README.md model card written next to every trained model."""

from __future__ import annotations

from pathlib import Path

from .config import TrainConfig

LICENCES = {
    "babe": "BABE (Spinde et al. 2021), AGPL-3.0 (repository licence)",
    "mbic": "MBIC (Spinde et al. 2021), AGPL-3.0 (repository licence)",
    "ptc": "PTC SemEval-2020 Task 11 (Da San Martino et al. 2020), no licence stated, research distribution",
    "newsmtsc": "NewsMTSC (Hamborg & Donnay 2021), MIT-style notice",
    "checkthat": "CheckThat! 2023 subjectivity, CC BY-NC-SA 4.0",
    "polnear": "PolNeAR (Newell, Margolin & Ruths 2018), no licence stated, research use",
    "wiki_npov": "Wiki NPOV statements (Hube & Fetahu 2019), no licence stated; Wikipedia text, CC BY-SA",
}

# Issue 11's minimums for cross-validated means (held-out folds).
CV_TARGETS = {
    "babe/framing_macro_f1": 0.80,
    "babe/loaded_word_f1": 0.56,
    "ptc/loaded_span_f1_overlap": 0.50,
    "newsmtsc:devtest_mt/stance_macro_f1": 0.80,
}

TARGETS = {
    "babe/framing_macro_f1": 0.78,
    "babe/loaded_word_f1": 0.50,
    "ptc/loaded_span_f1_overlap": 0.35,
    "newsmtsc/stance_macro_f1": 0.75,
}


def _table(numbers: dict[str, float]) -> str:
    rows = ["| metric | value | minimum |", "|---|---|---|"]
    for key, value in sorted(numbers.items()):
        target = TARGETS.get(key)
        rows.append(f"| {key} | {value:.4f} | {target if target is not None else ''} |")
    return "\n".join(rows)


COST_COLUMNS = {"onnx_int8_cost": "ONNX int8 (default)", "int8_cost": "torch int8", "bf16_cost": "torch bf16"}


def _delta_table(metrics: dict) -> str:
    columns = {label: metrics.get(key, {}).get("delta", {}) for key, label in COST_COLUMNS.items()}
    keys = sorted({k for delta in columns.values() for k in delta})
    if not keys:
        return "(not measured)"
    rows = ["| metric | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for k in keys:
        cells = [f"{d[k]:+.4f}" if k in d else "not measured" for d in columns.values()]
        rows.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


CV_HEADING = "## Cross-validated figures"


def cv_section(cv: dict | None) -> str:
    """The card's cross-validation section: held-out-fold mean ± sd per metric, beside the shipped
    model's own validation figure (which picked its checkpoint, threshold and temperature, so it is
    optimistic)."""
    if not cv:
        return ""
    budget = f", each fold capped at {cv['max_steps']} steps" if cv.get("max_steps") else ""
    rows = ["| metric | CV mean ± sd (held-out folds) | minimum |", "|---|---|---|"]
    for key, m in sorted(cv["metrics"].items()):
        if key.startswith("selection="):
            continue  # another selection rule's models (training.also_select): reports/cv compares them
        target = CV_TARGETS.get(key)
        rows.append(f"| {key} | {m['mean']:.4f} ± {m['sd']:.4f} | {target if target is not None else ''} |")
    return (
        f"""
{CV_HEADING}

These predict unseen data. Grouped, stratified {cv["folds"]}-fold cross-validation of this model's
recipe ({len(cv["finished_folds"])} folds finished{budget}): in each fold, early stopping, the checkpoint,
the loaded-term threshold and the framing temperature were chosen on a split of that fold's training
part, and the held-out fold was scored once. Reproduce with `{cv.get("command", "stance cv CONFIG")}`.

"""
        + "\n".join(rows)
        + "\n"
    )


def _heads(heads) -> str:
    return "\n".join(
        f"- **{h.name}** ({h.level}){': ' + h.description if h.description else ''}; labels: {', '.join(h.labels)}"
        for h in heads
    )


# Limits that hold only when a corpus is among the training data.
CORPUS_LIMITS = {
    "babe": "BABE and MBIC cover US politics 2017-2020; other topics and countries are out of distribution.",
    "ptc": "Loaded-term labels mix BABE's single biased words with PTC's longer propaganda spans, so span\n"
    "  boundaries are uncertain; PTC spans are per-line-sentence cuts of article-level spans.",
    "newsmtsc": "Stance is learnt from NewsMTSC, i.e. *sentiment toward a mention*, which is a proxy for stance.",
    "polnear": "Voice (the attribution head) is learnt from PolNeAR: US campaign news of 2015-2016. Reported\n"
    '  thoughts ("X believes ...") count as attributions there, so they are `attributed` here too.',
}


def _data_line(spec) -> str:
    if spec.adapter in LICENCES:
        return f"- {LICENCES[spec.adapter]}" + (" (reported only, never trained on)" if spec.split == "test" else "")
    return f"- `{spec.path}` ({spec.adapter}): user-supplied data"


def _adapted_section(adapted: dict | None, model_dir: Path) -> str:
    if not adapted:
        return ""
    inherited = ", ".join(adapted["inherited"]) or "none"
    return f"""
## Adapted from another model
Continued from `{adapted["init_from"]}` (see its own card for what it was trained on). Heads trained
on the data below: {", ".join(adapted["retrained"])}. Heads inherited from it without new labels: {inherited};
their weights are unchanged, but the encoder under them moved, so their figures may have drifted:
measure it with `stance compare {adapted["init_from"]} {model_dir} DATA` (the init model's own
validation splits, e.g. `babe:babe@validation`, are never trained on).
"""


def _notes_section(notes: list[str]) -> str:
    return "\n## Notes from training\n" + "".join(f"- {n}\n" for n in notes) if notes else ""


def write_model_card(model_dir: Path, config: TrainConfig, metrics: dict, heads) -> None:
    """The card of a model with `heads` (heads.Head objects, the ones it was trained with)."""
    adapters = {d.adapter for d in config.data.datasets}
    data_lines = "\n".join(_data_line(d) for d in config.data.datasets)
    limits = "".join(f"- {text}\n" for name, text in CORPUS_LIMITS.items() if name in adapters)
    dedup = (
        "Duplicates across corpora (MBIC is BABE SG1) are removed before splitting; validation splits are\n"
        if {"babe", "mbic"} <= adapters
        else "Sentences seen in an earlier dataset are dropped from later ones; validation splits are\n"
    )
    test = metrics.get("test", {}).get("headline", {})
    test_part = (
        "\n## Held-out test files (never used for training or model selection)\n\n" + _table(test) + "\n"
        if test
        else ""
    )
    text = f"""# stance model

A multi-task news-sentence model with these heads:

{_heads(heads)}

Base encoder: `{config.model.base_model}`; weights stored in
{config.model.save_dtype}{"; embeddings are reloaded from the base package" if config.model.freeze_embeddings else ""}.

## Intended use
Research and newsroom analysis of news text in English: finding sentences that read as the outlet's
opinion, the words carrying the slant, and which way a sentence leans toward named actors. Scores are
aids for a human reader, not verdicts about an outlet or an author.

## Training data
{data_lines}
{_adapted_section(metrics.get("adapted"), model_dir)}
{dedup}drawn by group (a sentence, or an article where the corpus has them) with seed {config.training.seed}.
{_notes_section(metrics.get("notes") or [])}
## Metrics on the validation splits
These are optimistic: the same split chose the checkpoint, the threshold and the temperature.

{_table(metrics.get("validation", {}).get("headline", {}))}
{test_part}{cv_section(metrics.get("cross_validation"))}
Framing scores are temperature-scaled on the validation split (T = {metrics.get("framing_temperature", 1.0):.3f});
`*_ece` is the expected calibration error (10 bins). Loaded terms are tagged when P(loaded) >=
{metrics.get("loaded_threshold", 0.5):.2f}, a threshold tuned on the validation split.
Flag threshold: `framing.flag` is raised at a framing score >= {metrics.get("framing_threshold", 0.5):.2f}
(`heads.framing.threshold` in config.json; `--threshold` overrides it), chosen on the validation split for
framing macro-F1 (the threshold nearest 0.5 within 0.02 of the best); the framing figures above are at it.

## Size and precision
Stored weights: {config.model.save_dtype}{", without the embeddings (reloaded from the base package, which the loader verifies by checksum)" if config.model.freeze_embeddings else ""}.
Exporting to {config.model.save_dtype} changed the headline metrics by at most
{max((abs(v) for v in metrics.get("export_cost", {}).get("delta", {}).values()), default=0.0):.4f}.

CPU scoring runs on ONNX Runtime by default (`--backend auto`), in int8 (fixed activation scales,
per-channel weight scales, every encoder matrix product; the heads stay float32). With `--backend torch`,
`--precision auto` runs bf16 autocast on CPUs with native bf16 (AVX512-BF16, AMX) and selective
dynamic int8 elsewhere (query/key/value and FFN up-projections only). ONNX fp32 matches torch fp32
(logits within 1e-4). Their cost on the validation splits, minus float32:

{_delta_table(metrics)}

## Known limits
- English news only; sentences longer than {config.model.max_length} tokens are truncated.
{limits}- Biases of the annotators are inherited.
"""
    (model_dir / "README.md").write_text(text, encoding="utf-8")
