"""The `stance` command line: a thin shell over the library. Only this module prints errors and exits."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .errors import StanceError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Media framing, loaded-term and stance scoring for news.")


@app.callback()
def _root() -> None:
    """Media framing, loaded-term and stance scoring for news."""


def fail(exc: Exception, code: int = 2) -> None:
    typer.secho(f"error: {exc}", fg="red", err=True)
    raise typer.Exit(code)


@app.command()
def train(
    config: Path = typer.Argument(..., help="Training config YAML, e.g. configs/default.yaml."),
    overrides: Optional[List[str]] = typer.Argument(None, help="Dotted overrides, e.g. training.epochs=2."),
    output: Path = typer.Option(Path("runs/model"), "-o", "--output", help="Output directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUTPUT/checkpoint after a kill."),
) -> None:
    """Train a model from labelled corpora."""
    from .config import load_config
    from .training import train as run_training

    try:
        cfg = load_config(config, overrides or [])
        final = run_training(cfg, output, resume=resume)
    except StanceError as exc:
        fail(exc)
    typer.echo(f"model written to {final}")


@app.command()
def score(
    paths: List[str] = typer.Argument(..., help="Files, folders (recursive) or - for stdin: .txt .md .html .json .jsonl."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write records here instead of stdout."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="jsonl (default), csv or parquet; default from the -o suffix."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory (default: models/default)."),
    target: Optional[List[str]] = typer.Option(None, "--target", "-t", help='Stance target: "Name" or "Name=alias1,alias2". Repeatable.'),
    targets_file: Optional[Path] = typer.Option(None, "--targets-file", help="YAML of targets: Name: [alias, ...]."),
    aliases: Optional[Path] = typer.Option(None, "--aliases", help="Alias table merging names (default: configs/aliases.yaml)."),
    auto_targets: int = typer.Option(5, "--auto-targets", help="Targets to pick per article when none are given (0: none)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Framing flag threshold (default 0.5)."),
    glob: Optional[str] = typer.Option(None, "--glob", help='Only files in folders matching this pattern, e.g. "*.html".'),
    id_field: str = typer.Option("id", "--id-field", help="JSON field holding the document id."),
    text_field: str = typer.Option("text", "--text-field", help="JSON field holding the article text."),
    title_field: str = typer.Option("title", "--title-field", help="JSON field holding the title (scored as sentence 0)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Sentences per model batch."),
    max_batch_tokens: int = typer.Option(4096, "--max-batch-tokens",
                                         help="Padded tokens per model batch; bounds memory (raise it on a GPU)."),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted run into the same -o file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    precision: str = typer.Option("auto", "--precision", help="auto (CPU: bf16 where native, else int8; GPU: bf16/fp16), fp32, int8, fp16, bf16."),
    engine: str = typer.Option("local", "--engine", help="local, or ray (Ray Data; -o is then a folder of shards)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: $RAY_ADDRESS or a local Ray)."),
    num_actors: int = typer.Option(2, "--num-actors", help="Ray: scoring actors, each holding one model."),
) -> None:
    """Score articles sentence by sentence: framing, loaded terms, voice and stance per target."""
    from .documents import ReadOptions
    from .output import output_format
    from .targets import load_targets_file, parse_target_option

    if threshold is not None and not 0.0 <= threshold <= 1.0:
        fail(ValueError(f"expected --threshold in [0, 1], found {threshold}"))
    if batch_size < 1 or max_batch_tokens < 1:
        fail(ValueError(f"expected --batch-size and --max-batch-tokens >= 1, found {batch_size} and {max_batch_tokens}"))
    if resume and output is None:
        fail(ValueError("expected -o/--output with --resume: only a file output can be resumed"))
    if engine not in ("local", "ray"):
        fail(ValueError(f"expected --engine local or ray, found {engine!r}"))
    try:
        chosen = output_format(output, fmt)
        if output is None and (chosen != "jsonl" or engine == "ray"):
            raise ValueError(f"expected -o/--output for --format {chosen} / --engine {engine}: only local JSONL streams to stdout")
        targets = [parse_target_option(t) for t in target or []]
        if targets_file:
            targets += load_targets_file(targets_file)
        options = ReadOptions(id_field=id_field, text_field=text_field, title_field=title_field, glob=glob)
        scorer_kwargs = {"model_dir": model, "threshold": threshold, "batch_size": batch_size,
                         "max_batch_tokens": max_batch_tokens, "auto_targets": auto_targets, "device": device,
                         "precision": precision}
        if engine == "ray":
            _score_on_ray(paths, output, chosen, scorer_kwargs, aliases, targets, options, ray_address, num_actors)
        else:
            _score_locally(paths, output, chosen, scorer_kwargs, aliases, targets, options, resume, force, progress)
    except (StanceError, ValueError) as exc:
        fail(exc)


def _score_locally(paths, output, fmt, scorer_kwargs, aliases, targets, options, resume, force, progress) -> None:
    from rich.console import Console

    from .job import run_scoring
    from .scoring import Scorer
    from .targets import load_alias_file

    scorer = Scorer(aliases=load_alias_file(aliases), **scorer_kwargs)
    result = run_scoring(paths, scorer, targets, output, fmt, options, resume=resume, force=force,
                         show_progress=progress)
    console = Console(stderr=True)
    result.summary.render(console)
    if result.skipped:
        console.print(f"resumed: {result.skipped} documents were already complete")
    if result.summary.documents + result.summary.failed == 0 and not result.skipped:
        console.print("[yellow]warning:[/yellow] no documents found in the given paths")
    if result.output:
        console.print(f"records written to {result.output}")
    raise typer.Exit(1 if result.summary.failed else 0)


def _score_on_ray(paths, output, fmt, scorer_kwargs, aliases, targets, options, ray_address, num_actors) -> None:
    from .ray_engine import score_with_ray

    kwargs = scorer_kwargs | {"model_dir": str(scorer_kwargs["model_dir"]) if scorer_kwargs["model_dir"] else None,
                              "aliases_path": str(aliases) if aliases else None}
    result = score_with_ray(paths, output, kwargs, targets, options, fmt, ray_address, num_actors)
    typer.echo(f"scored {result['documents'] - result['failed']} documents, {result['failed']} failed, "
               f"{len(result['shards'])} shards in {output}", err=True)
    raise typer.Exit(1 if result["failed"] else 0)


@app.command()
def show(
    file: Path = typer.Argument(..., help="One article: .txt, .md, .html or .json."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory (default: models/default)."),
    target: Optional[List[str]] = typer.Option(None, "--target", "-t", help='Stance target: "Name" or "Name=alias1,alias2".'),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Framing flag threshold (default 0.5)."),
    auto_targets: int = typer.Option(5, "--auto-targets", help="Targets to pick when none are given."),
) -> None:
    """Render one article in the terminal: flagged sentences, loaded terms, and stance per target."""
    from rich.console import Console

    from .documents import read_documents
    from .render import render_article
    from .scoring import Scorer
    from .targets import load_alias_file, parse_target_option

    try:
        scorer = Scorer(model, threshold=threshold, aliases=load_alias_file(None), auto_targets=auto_targets)
        docs = list(read_documents([file]))
        records = list(scorer.score(docs[:1], [parse_target_option(t) for t in target or []]))
    except StanceError as exc:
        fail(exc)
    if records and records[0]["record"] == "error":
        fail(ValueError(f"{file}: {records[0]['error']}"), code=1)
    render_article(Console(), docs[0].text, records)


@app.command()
def evaluate(
    model: Path = typer.Argument(..., help="Model directory, e.g. models/default."),
    data: List[str] = typer.Argument(..., help="ADAPTER:PATH[@SPLIT], e.g. babe:babe@validation ptc:semeval2020_task11_ptc@validation newsmtsc:newsmtsc/devtest_mt.jsonl"),
    split: str = typer.Option("all", "--split", help="Default split for DATA items without @SPLIT: all, train or validation (as in training)."),
    data_root: Path = typer.Option(Path("../shared/data"), "--data-root", envvar="STANCE_DATA", help="Folder relative PATHs are looked up in."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the metrics JSON here (default: print only)."),
    precision: str = typer.Option("fp32", "--precision", help="fp32 (default) or int8: measure what quantization costs."),
) -> None:
    """Per-head metrics: macro-F1, per-class P/R/F1, confusion matrix, span F1, calibration error."""
    import json

    from .evaluation import evaluate_examples, headline, load_eval_examples
    from .modeling import load_model
    from .runtime import Runtime

    try:
        loaded, tokenizer, config = load_model(model)
        if precision not in ("fp32", "int8"):
            raise ValueError(f"expected --precision fp32 or int8 for evaluate, found {precision!r}")
        loaded = Runtime.choose("cpu", precision).prepare(loaded)
        results = {}
        for spec in data:
            examples = load_eval_examples(spec, data_root, split, config)
            results[spec] = evaluate_examples(loaded, tokenizer, examples, int(config["max_length"]))
    except (StanceError, ValueError) as exc:
        fail(exc)
    report = {"model": str(model), "precision": precision, "results": results, "headline": {s: headline({"": r}) for s, r in results.items()}}
    for spec, numbers in report["headline"].items():
        typer.echo(spec)
        for key, value in numbers.items():
            typer.echo(f"  {key.lstrip('/'):32s} {value:.4f}")
    if output:
        output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"metrics written to {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
