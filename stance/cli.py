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
    paths: List[str] = typer.Argument(..., help="Text files, folders (recursive) or JSONL files of {id, text, targets}."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write JSONL here instead of stdout."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model directory (default: models/default)."),
    target: Optional[List[str]] = typer.Option(None, "--target", "-t", help='Stance target: "Name" or "Name=alias1,alias2". Repeatable.'),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Framing flag threshold (default 0.5)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Sentences per model batch."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
) -> None:
    """Score articles sentence by sentence; writes one JSON record per sentence."""
    import json
    import sys

    from .documents import read_documents
    from .scoring import Scorer
    from .targets import parse_target_option

    if output is not None and output.exists() and not force:
        fail(FileExistsError(f"expected a new output file, found {output} already there; pass --force to overwrite"))
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        fail(ValueError(f"expected --threshold in [0, 1], found {threshold}"))
    try:
        targets = [parse_target_option(t) for t in target or []]
        scorer = Scorer(model, threshold=threshold, batch_size=batch_size)
    except StanceError as exc:
        fail(exc)
    failed = documents = 0
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        last_doc = None
        for record in scorer.score(read_documents(paths), targets):
            if record["record"] == "error":
                failed += 1
                typer.secho(f"warning: {record['path']}: {record['error']}", fg="yellow", err=True)
            if (record["doc_id"], record["path"]) != last_doc:
                documents += 1
                last_doc = (record["doc_id"], record["path"])
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            sink.close()
    if documents == 0:
        typer.secho("warning: no documents found in the given paths", fg="yellow", err=True)
    typer.echo(f"scored {documents - failed} documents, {failed} failed", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def evaluate(
    model: Path = typer.Argument(..., help="Model directory, e.g. models/default."),
    data: List[str] = typer.Argument(..., help="ADAPTER:PATH[@SPLIT], e.g. babe:babe@validation ptc:semeval2020_task11_ptc@validation newsmtsc:newsmtsc/devtest_mt.jsonl"),
    split: str = typer.Option("all", "--split", help="Default split for DATA items without @SPLIT: all, train or validation (as in training)."),
    data_root: Path = typer.Option(Path("../shared/data"), "--data-root", envvar="STANCE_DATA", help="Folder relative PATHs are looked up in."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the metrics JSON here (default: print only)."),
) -> None:
    """Per-head metrics: macro-F1, per-class P/R/F1, confusion matrix, span F1, calibration error."""
    import json

    from .evaluation import evaluate_examples, headline, load_eval_examples
    from .modeling import load_model

    try:
        loaded, tokenizer, config = load_model(model)
        results = {}
        for spec in data:
            examples = load_eval_examples(spec, data_root, split, config)
            results[spec] = evaluate_examples(loaded, tokenizer, examples, int(config["max_length"]))
    except StanceError as exc:
        fail(exc)
    report = {"model": str(model), "results": results, "headline": {s: headline({"": r}) for s, r in results.items()}}
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
