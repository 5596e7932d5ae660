"""The `stance` command line: a thin shell over the library. Only this module prints errors and exits.

Exit codes: 0 every document scored, 1 some documents failed, 2 a usage error (reported in one
line, before any model loads), 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import __version__
from .defaults import SHIPPED_MODEL_NAME, model_path
from .errors import StanceError

if TYPE_CHECKING:
    from .options import ScoreOptions

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    help="Media framing, loaded-term and stance scoring for news.",
)

# Help texts are rich markup: a literal "[" is written "\\[".
TARGET_HELP = 'Stance target: "Name" or "Name=alias1,alias2". Repeatable.'
TARGETS_FILE_HELP = "YAML file of targets, one per line: Name: \\[alias, ...]."
ALIASES_HELP = "YAML alias table, Name: \\[alias, ...] (default: the shipped configs/aliases.yaml)."
ALTERNATIVES_HELP = "YAML lexicon of neutral alternatives for loaded terms (default: the shipped one)."
MODEL_HELP = "Model directory, or `default` for the shipped model (default: $STANCE_MODEL, else the shipped model)."
DEVICE_HELP = "auto, cpu, cuda, cuda:N or mps."
PRECISION_HELP = "auto (ONNX: int8; torch CPU: bf16 where native, else int8; GPU: bf16/fp16), fp32, int8, fp16 or bf16."
BACKEND_HELP = (
    "auto (ONNX Runtime on the CPU, torch on a GPU), onnx (CPU, no torch import; fp32 or int8) or torch "
    "(any device; bf16 and fp16)."
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"stance {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Media framing, loaded-term and stance scoring for news."""


def fail(exc: Exception | str, code: int = 2) -> None:
    typer.secho(f"error: {exc}", fg="red", err=True)
    raise typer.Exit(code)


@app.command()
def train(
    config: Path | None = typer.Argument(
        None, metavar="[CONFIG]", help="Training config YAML, e.g. configs/default.yaml (with --resume: optional)."
    ),
    overrides: list[str] | None = typer.Argument(
        None, metavar="[KEY=VALUE]...", help="Dotted overrides, e.g. training.epochs=2."
    ),
    output: Path = typer.Option(Path("runs/model"), "-o", "--output", metavar="DIR", help="Output directory."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in OUTPUT after a stop, with the settings it was started with."
    ),
    force: bool = typer.Option(False, "--force", help="Replace the run already in OUTPUT."),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help=DEVICE_HELP + " Mixed precision on a GPU."),
) -> None:
    """Train a model from labelled corpora (`stance init-config` writes a config for your own data)."""
    from .config import TrainConfig, apply_overrides, load_config
    from .devices import check_device
    from .training import saved_run_config
    from .training import train as run_training

    try:
        check_device(device)
        if config is not None and "=" in str(config) and not config.exists():
            overrides, config = [str(config), *(overrides or [])], None  # `--resume key=value`: no config given
        if config is None:
            if not resume:
                raise ValueError("expected a training CONFIG (e.g. configs/default.yaml), found none")
            # The interrupted run's own settings; an override that changes them is refused by train().
            cfg = TrainConfig.model_validate(apply_overrides(saved_run_config(output), overrides or []))
        else:
            cfg = load_config(config, overrides or [])
        final = run_training(cfg, output, resume=resume, device=device, force=force)
    except (StanceError, ValueError) as exc:
        fail(exc)
    typer.echo(f"model written to {final}")


@app.command("init-config")
def init_config(
    output: Path = typer.Argument(..., metavar="OUT.yaml", help="The config file to write."),
    data: Path = typer.Option(
        ..., "--data", metavar="FILE", help="Your labelled file: doccano, Label Studio or a table."
    ),
    adapter: str | None = typer.Option(
        None, "--adapter", metavar="ADAPTER", help="doccano, label-studio or table (default: guessed from the file)."
    ),
    framing_positive: list[str] | None = typer.Option(
        None, "--framing-positive", metavar="LABEL", help="A sentence label meaning editorial (repeatable)."
    ),
    init_from: str | None = typer.Option(
        None, "--init-from", metavar="default|MODEL_DIR", help="Continue from a trained stance model."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite OUT.yaml."),
) -> None:
    """Look at a labelled file and write a complete, commented training config for it."""
    from .init_config import write_config

    try:
        if output.exists() and not force:
            raise ValueError(f"expected a new config file, found {output} already there; pass --force to overwrite")
        if init_from and init_from != "default":
            from .modeling import read_model_config

            read_model_config(init_from)
        found, meanings = write_config(output, data, adapter, framing_positive, init_from)
    except (StanceError, ValueError, OSError) as exc:
        fail(exc)
    typer.echo(found.report())
    typer.echo("label meanings:")
    for label, meaning in meanings.items():
        typer.echo(f"  {label!r:24s} -> {meaning}")
    questions = [k for k, v in meanings.items() if v == "???"]
    if questions:
        typer.secho(
            f"answer {len(questions)} question(s) marked ??? in {output} before training: {', '.join(questions)}",
            fg="yellow",
        )
    typer.echo(f"config written to {output}; next: stance train {output} -o runs/mine")


def _cv_command(config: Path, overrides: list[str] | None, folds: int, max_steps: int | None) -> str:
    steps = f" --max-steps {max_steps}" if max_steps else ""
    return " ".join(["stance cv", str(config), *(overrides or []), f"--folds {folds}{steps}"])


@app.command()
def cv(
    config: Path = typer.Argument(
        ..., metavar="CONFIG", help="Training config YAML (the recipe), e.g. configs/default.yaml."
    ),
    overrides: list[str] | None = typer.Argument(
        None, metavar="[KEY=VALUE]...", help="Dotted overrides, e.g. training.loss_weights.framing=2."
    ),
    output: Path = typer.Option(Path("runs/cv"), "-o", "--output", metavar="DIR", help="Output directory."),
    folds: int = typer.Option(5, "--folds", metavar="K", help="Number of folds."),
    max_steps: int | None = typer.Option(
        None, "--max-steps", metavar="N", help="Cap each fold's training (screening recipes at equal budget)."
    ),
    fold: list[int] | None = typer.Option(
        None, "--fold", metavar="I", help="Run only these folds (repeatable); the summary covers all finished ones."
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", metavar="CV_JSON", help="Another recipe's cv.json: print paired deltas per metric."
    ),
    model_card: Path | None = typer.Option(
        None, "--model-card", metavar="MODEL_DIR", help="Add the figures to this model's card (trained with CONFIG)."
    ),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help=DEVICE_HELP),
) -> None:
    """Cross-validate a recipe: grouped, stratified k-fold; every choice made inside each fold's training part.

    Folds already finished in OUTPUT are kept, and an interrupted fold resumes from its checkpoint."""
    import json

    from .config import load_config
    from .crossval import attach_to_model, cross_validate, render
    from .devices import check_device

    try:
        check_device(device)
        cfg = load_config(config, overrides or [])
        if cfg.data.folds:
            raise ValueError("expected a recipe without data.folds / data.fold: `stance cv` sets them per fold")
        base = json.loads(baseline.read_text(encoding="utf-8")) if baseline else None
        summary = cross_validate(
            cfg,
            output,
            folds,
            max_steps,
            fold,
            device,
            on_fold=lambda r: typer.echo(f"fold {r['fold']} finished (trained in {r['seconds']:.0f} s)", err=True),
        )
        if model_card is not None:
            attach_to_model(model_card, summary, _cv_command(config, overrides, folds, max_steps))
    except (StanceError, ValueError, OSError) as exc:
        fail(exc)
    typer.echo(render(summary, base))
    typer.echo(f"summary written to {output / 'cv.json'}")


def _check_common(
    device: str, precision: str, threshold: float | None, paths: list[str], backend: str = "auto"
) -> None:
    """Usage errors every scoring command shares, found before the model loads."""
    from .devices import PRECISIONS, check_device
    from .documents import missing_inputs
    from .runtime import BACKENDS

    if backend not in BACKENDS:
        raise ValueError(f"expected --backend to be one of {', '.join(BACKENDS)}, found {backend!r}")
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"expected --threshold in [0, 1], found {threshold}")
    if precision not in PRECISIONS:
        raise ValueError(f"expected --precision to be one of {', '.join(PRECISIONS)}, found {precision!r}")
    missing = missing_inputs(paths)
    if missing:
        raise ValueError(f"expected existing files or folders, found no such path: {', '.join(missing)}")
    check_device(device)


def _targets(target: list[str] | None, targets_file: Path | None):
    from .targets import load_targets_file, parse_target_option

    targets = [parse_target_option(t) for t in target or []]
    if targets_file:
        targets += load_targets_file(targets_file)
    return targets


def _resume_command() -> str:
    """The command line that finishes an interrupted run: the same arguments, with --resume."""
    args = [a for a in sys.argv[1:] if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["stance", *args])


@app.command()
def score(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH...", help="Files, folders (recursive) or - for stdin: .txt .md .html .json .jsonl .parquet."
    ),
    output: Path | None = typer.Option(
        None,
        "-o",
        "--output",
        metavar="FILE",
        help="Write records here (.jsonl, .csv, .parquet, or .json: Label Studio tasks) instead of stdout.",
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        metavar="FORMAT",
        help="jsonl, csv, parquet or label-studio (tasks with the model's labels as pre-annotations, least certain first; default: from the -o suffix).",
    ),
    model: Path | None = typer.Option(None, "--model", "-m", metavar="DIR", help=MODEL_HELP),
    target: list[str] | None = typer.Option(None, "--target", "-t", metavar="TARGET", help=TARGET_HELP),
    targets_file: Path | None = typer.Option(None, "--targets-file", metavar="FILE", help=TARGETS_FILE_HELP),
    aliases: Path | None = typer.Option(None, "--aliases", metavar="FILE", help=ALIASES_HELP),
    alternatives: Path | None = typer.Option(None, "--alternatives", metavar="FILE", help=ALTERNATIVES_HELP),
    auto_targets: int = typer.Option(
        5, "--auto-targets", metavar="N", help="Targets to pick per article when none are given (0: none)."
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        metavar="P",
        help="Framing flag threshold (default: the model's own, fitted on its validation split).",
    ),
    glob: str | None = typer.Option(
        None, "--glob", metavar="PATTERN", help='Only files in folders matching this pattern, e.g. "*.html".'
    ),
    id_field: str = typer.Option("id", "--id-field", metavar="FIELD", help="JSON field holding the document id."),
    text_field: str = typer.Option(
        "text", "--text-field", metavar="FIELD", help="JSON field holding the article text."
    ),
    title_field: str = typer.Option(
        "title", "--title-field", metavar="FIELD", help="JSON field holding the title (scored as sentence 0)."
    ),
    batch_size: int = typer.Option(64, "--batch-size", metavar="N", help="Sentences per model batch."),
    max_batch_tokens: int = typer.Option(
        4096,
        "--max-batch-tokens",
        metavar="N",
        help="Padded tokens per model batch; bounds memory (raise it on a GPU).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted run into the same -o file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output file."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    summary_json: Path | None = typer.Option(
        None,
        "--summary-json",
        metavar="FILE",
        help="Also write the closing summary (counts, flagged share, timings) as JSON.",
    ),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", metavar="PRECISION", help=PRECISION_HELP),
    backend: str = typer.Option("auto", "--backend", metavar="BACKEND", help=BACKEND_HELP),
    engine: str = typer.Option(
        "local", "--engine", metavar="ENGINE", help="local, or ray (Ray Data; -o is then a folder of shards)."
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", metavar="ADDRESS", help="Ray cluster to join (default: $RAY_ADDRESS or a local Ray)."
    ),
    num_actors: int = typer.Option(2, "--num-actors", metavar="N", help="Ray: scoring actors, each holding one model."),
    gpus_per_actor: float = typer.Option(
        0.0, "--gpus-per-actor", metavar="G", help="Ray: GPUs per scoring actor (0.5: two actors share a GPU)."
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        metavar="N",
        help="Processes that prepare documents and build records around the one model (for a GPU; 0: none).",
    ),
) -> None:
    """Score articles sentence by sentence: framing, loaded terms, voice and stance per target."""
    from .alternatives import load_lexicon
    from .documents import ReadOptions
    from .options import ModelOptions, ScoreOptions
    from .output import check_journal, check_output
    from .targets import load_alias_file

    try:
        if batch_size < 1 or max_batch_tokens < 1:
            raise ValueError(
                f"expected --batch-size and --max-batch-tokens >= 1, found {batch_size} and {max_batch_tokens}"
            )
        if engine not in ("local", "ray"):
            raise ValueError(f"expected --engine local or ray, found {engine!r}")
        if workers < 0 or gpus_per_actor < 0:
            raise ValueError(f"expected --workers and --gpus-per-actor >= 0, found {workers} and {gpus_per_actor}")
        if gpus_per_actor and engine != "ray":
            raise ValueError("expected --engine ray with --gpus-per-actor; the local engine uses --device cuda")
        if resume and output is None:
            raise ValueError("expected -o/--output with --resume: only a file output can be resumed")
        _check_common(device, precision, threshold, paths, backend)
        chosen = check_output(output, fmt, folder=engine == "ray")
        if output is None and (chosen != "jsonl" or engine == "ray"):
            raise ValueError(
                f"expected -o/--output for --format {chosen} / --engine {engine}: only local JSONL streams to stdout"
            )
        if output is not None and engine == "local":
            check_journal(output, resume, force)
        if summary_json is not None and not summary_json.parent.is_dir():
            raise ValueError(f"expected the folder {summary_json.parent} for --summary-json to exist, found none")
        load_alias_file(aliases)  # a bad alias file is a usage error, found before the model loads
        load_lexicon(alternatives)  # so is a bad lexicon
        options = ScoreOptions(
            paths=tuple(paths),
            model=ModelOptions(
                model_dir=str(model) if model else None,
                threshold=threshold,
                batch_size=batch_size,
                max_batch_tokens=max_batch_tokens,
                auto_targets=auto_targets,
                device=device,
                precision=precision,
                backend=backend,
                workers=workers,
                aliases=str(aliases) if aliases else None,
                alternatives=str(alternatives) if alternatives else None,
            ),
            read=ReadOptions(id_field=id_field, text_field=text_field, title_field=title_field, glob=glob),
            targets=tuple(_targets(target, targets_file)),
            output=output,
            format=chosen,
            resume=resume,
            force=force,
            progress=False if quiet else progress,
            quiet=quiet,
            summary_json=summary_json,
            engine=engine,
            ray_address=ray_address,
            num_actors=num_actors,
            gpus_per_actor=gpus_per_actor,
        )
    except (StanceError, ValueError) as exc:
        fail(exc)
    try:
        _score_on_ray(options) if engine == "ray" else _score_locally(options)
    except (StanceError, ValueError) as exc:
        fail(exc)
    except KeyboardInterrupt:
        fail("interrupted before any document was scored", code=130)


def _score_locally(options: ScoreOptions) -> None:
    import json
    import time

    from rich.console import Console

    from .job import run_scoring
    from .scoring import Scorer

    started = time.perf_counter()
    scorer = Scorer.from_options(options.model)
    loaded = time.perf_counter() - started
    result = run_scoring(scorer, options)
    result.timings["model_load_s"] = round(loaded, 3)
    console = Console(stderr=True, quiet=options.quiet)
    summary = result.summary
    summary.render(console)
    if options.quiet:  # errors still reach the user
        for path, error in summary.errors:
            typer.secho(f"failed {path}: {error}", fg="yellow", err=True)
    if result.resumed:
        console.print(f"resumed: {result.resumed} documents were already complete (counted in the table above)")
    if summary.documents + summary.failed == 0 and not result.resumed:
        console.print("[yellow]warning:[/yellow] no documents found in the given paths")
    if options.summary_json is not None:
        options.summary_json.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    if result.interrupted:
        where = f"; finished documents are in {result.journal}" if result.journal else ""
        typer.secho(f"interrupted{where}", fg="yellow", err=True)
        if options.output is not None:
            typer.echo(f"continue with: {_resume_command()}", err=True)
        raise typer.Exit(130)
    if result.output:
        console.print(f"records written to {result.output}")
    raise typer.Exit(1 if summary.failed else 0)


def _score_on_ray(options: ScoreOptions) -> None:
    from .ray_engine import score_with_ray

    result = score_with_ray(options)
    typer.echo(
        f"scored {result['documents'] - result['failed']} documents, {result['failed']} failed, "
        f"{len(result['shards'])} shards in {options.output}",
        err=True,
    )
    raise typer.Exit(1 if result["failed"] else 0)


def _pick_document(path: str, options, doc_id: str | None):
    """The one document to show: the only one under `path`, or the one named by --doc."""
    from itertools import islice

    from .documents import read_documents

    docs = read_documents([path], options)
    if doc_id is None:
        first = list(islice(docs, 6))
        if len(first) == 1:
            return first[0]
        if not first:
            raise ValueError(f"expected an article in {path}, found no readable document")
        ids = ", ".join(d.doc_id for d in first[:5]) + (", ..." if len(first) > 5 else "")
        raise ValueError(f"expected one article, found several in {path} ({ids}); pass --doc ID to choose one")
    seen = []
    for doc in docs:
        if doc.doc_id == doc_id or doc.path == doc_id:
            return doc
        if len(seen) < 5:
            seen.append(doc.doc_id)
    raise ValueError(
        f"expected a document with id {doc_id!r} in {path}, found only others "
        f"({', '.join(seen)}{', ...' if len(seen) == 5 else ''})"
    )


@app.command()
def show(
    path: str = typer.Argument(
        ..., metavar="PATH", help="An article (.txt .md .html .json), or a folder / JSONL file with --doc."
    ),
    doc: str | None = typer.Option(None, "--doc", metavar="ID", help="Which document, when PATH holds several."),
    model: Path | None = typer.Option(None, "--model", "-m", metavar="DIR", help=MODEL_HELP),
    target: list[str] | None = typer.Option(None, "--target", "-t", metavar="TARGET", help=TARGET_HELP),
    targets_file: Path | None = typer.Option(None, "--targets-file", metavar="FILE", help=TARGETS_FILE_HELP),
    aliases: Path | None = typer.Option(None, "--aliases", metavar="FILE", help=ALIASES_HELP),
    alternatives: Path | None = typer.Option(None, "--alternatives", metavar="FILE", help=ALTERNATIVES_HELP),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        metavar="P",
        help="Framing flag threshold (default: the model's own, fitted on its validation split).",
    ),
    auto_targets: int = typer.Option(5, "--auto-targets", metavar="N", help="Targets to pick when none are given."),
    glob: str | None = typer.Option(
        None, "--glob", metavar="PATTERN", help="Only files in folders matching this pattern."
    ),
    id_field: str = typer.Option("id", "--id-field", metavar="FIELD", help="JSON field holding the document id."),
    text_field: str = typer.Option(
        "text", "--text-field", metavar="FIELD", help="JSON field holding the article text."
    ),
    title_field: str = typer.Option("title", "--title-field", metavar="FIELD", help="JSON field holding the title."),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help=DEVICE_HELP),
    precision: str = typer.Option("auto", "--precision", metavar="PRECISION", help=PRECISION_HELP),
    backend: str = typer.Option("auto", "--backend", metavar="BACKEND", help=BACKEND_HELP),
) -> None:
    """Render one article in the terminal: flagged sentences, loaded terms, and stance per target."""
    from rich.console import Console

    from .alternatives import load_lexicon
    from .documents import ReadOptions
    from .records import error_of
    from .render import render_article
    from .scoring import Scorer
    from .targets import load_alias_file

    try:
        _check_common(device, precision, threshold, [path], backend)
        targets = _targets(target, targets_file)
        alias_table = load_alias_file(aliases)
        lexicon = load_lexicon(alternatives)
        options = ReadOptions(id_field=id_field, text_field=text_field, title_field=title_field, glob=glob)
        chosen = _pick_document(path, options, doc)
        scorer = Scorer(
            model,
            threshold=threshold,
            aliases=alias_table,
            auto_targets=auto_targets,
            device=device,
            precision=precision,
            alternatives=lexicon,
            backend=backend,
        )
        records = list(scorer.score([chosen], targets))
    except (StanceError, ValueError) as exc:
        fail(exc)
    error = error_of(records)
    if error is not None:
        fail(f"{chosen.path}: {error}", code=1)
    whose = "--threshold" if threshold is not None else "the model's, fitted on its validation split"
    render_article(Console(), chosen.text, records, f"flag threshold {scorer.threshold:.2f} ({whose})")


@app.command()
def evaluate(
    model: Path = typer.Argument(..., metavar="MODEL", help="Model directory, or `default` for the shipped model."),
    data: list[str] = typer.Argument(
        ..., metavar="DATA...", help="ADAPTER:PATH\\[@SPLIT], e.g. babe:babe@validation table:mine.csv"
    ),
    split: str = typer.Option(
        "all",
        "--split",
        metavar="SPLIT",
        help="Split for DATA without @SPLIT: all, train, validation or test (as training split it).",
    ),
    columns: list[str] | None = typer.Option(
        None, "--columns", metavar="FIELD=COLUMN,...", help="Columns of table: files, e.g. text=sentence,framing=label."
    ),
    labels: list[str] | None = typer.Option(
        None,
        "--labels",
        metavar="NAME=MEANING,...",
        help="What DATA's label names mean, e.g. SUBJ=editorial,OBJ=neutral.",
    ),
    data_root: Path = typer.Option(
        Path("../shared/data"),
        "--data-root",
        envvar="STANCE_DATA",
        metavar="DIR",
        help="Folder relative PATHs are looked up in.",
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", metavar="FILE", help="Write the metrics JSON here (default: print only)."
    ),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help=DEVICE_HELP),
    precision: str = typer.Option(
        "fp32",
        "--precision",
        metavar="PRECISION",
        help="fp32 (default), or int8 / bf16 / fp16 to measure what they cost.",
    ),
    backend: str = typer.Option(
        "torch", "--backend", metavar="BACKEND", help="torch (default) or onnx: the engine to measure."
    ),
) -> None:
    """Per-head metrics: macro-F1, per-class P/R/F1, confusion matrix, span F1, calibration error."""
    import json

    from rich.console import Console

    from .devices import check_device
    from .evaluation import evaluate_examples, headline, load_eval_examples, parse_data_spec, parse_label_map
    from .model_files import read_model_config
    from .render import render_metrics
    from .runtime import Runtime
    from .tabular import parse_columns

    try:
        check_device(device)
        mapping = parse_columns(columns or [])
        label_map = parse_label_map(labels or [])
        for spec in data:
            parse_data_spec(spec)
        if output is not None and not output.parent.is_dir():
            raise ValueError(f"expected the folder {output.parent} for -o to exist, found none; create it first")
        model = model_path(model)
        config = read_model_config(model)
        runtime = Runtime.choose(device, precision, backend, config)
        engine, tokenizer = runtime.load(model, config)
        results = {}
        for spec in data:
            examples = load_eval_examples(spec, data_root, split, config, columns=mapping, labels=label_map)
            results[spec] = evaluate_examples(engine, tokenizer, examples, int(config["max_length"]))
    except (StanceError, ValueError) as exc:
        fail(exc)
    report = {
        "model": str(model),
        "precision": runtime.precision,
        "backend": runtime.backend,
        "device": str(runtime.device),
        "results": results,
        "headline": {s: headline({"": r}) for s, r in results.items()},
    }
    console = Console()
    for spec, metrics in results.items():
        render_metrics(console, spec, metrics)
    for spec, numbers in report["headline"].items():
        typer.echo(spec)
        for key, value in numbers.items():
            typer.echo(f"  {key.lstrip('/'):32s} {value:.4f}")
    if output:
        output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"metrics written to {output}")


@app.command()
def report(
    scores: list[Path] = typer.Argument(
        ..., metavar="SCORES...", help="Score files from `stance score` (.jsonl, .parquet) or folders of them."
    ),
    output: Path = typer.Option(..., "-o", "--output", metavar="SITE", help="Folder to write the site into."),
    group_by: str = typer.Option(
        "folder", "--group-by", metavar="FIELD", help="Record field to group articles by (default: their folder)."
    ),
    title: str = typer.Option("stance report", "--title", metavar="TEXT", help="The index page's title."),
    force: bool = typer.Option(False, "--force", help="Replace a site already in SITE."),
) -> None:
    """Write a static HTML report (opens from disk): corpus figures, groups, terms, stance, one page per article."""
    from .report import build_site

    try:
        if output.exists() and any(output.iterdir()) and not force:
            raise ValueError(f"expected a new or empty folder for the site, found {output} holding files; pass --force")
        stats = build_site(scores, output, group_by, title)
    except (StanceError, ValueError, OSError) as exc:
        fail(exc)
    typer.echo(
        f"{stats.documents} articles, {stats.pages} pages, {stats.bytes / 1e6:.1f} MB in {stats.seconds:.1f} s; "
        f"open {output / 'index.html'}"
    )


def _is_model_dir(path: str) -> bool:
    import json

    config = model_path(path) / "config.json"
    try:
        return config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("format") == "stance-multitask"
    except (OSError, ValueError):
        return False


@app.command()
def compare(
    a: str = typer.Argument(
        ...,
        metavar="A",
        help="A model directory (`default`: the shipped model), or score records: FILE, FOLDER or PATH@GROUP.",
    ),
    b: str = typer.Argument(..., metavar="B", help="The same kind as A: the candidate model, or the other outlet."),
    data: list[str] | None = typer.Argument(
        None,
        metavar="[DATA]...",
        help="Models only: ADAPTER:PATH\\[@SPLIT] (@train/@validation/@test: a model's own split).",
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", metavar="OUT", help="Models: a JSON report file. Score records: the site folder."
    ),
    split: str = typer.Option("all", "--split", metavar="SPLIT", help="Models: split for DATA without @SPLIT."),
    columns: list[str] | None = typer.Option(
        None, "--columns", metavar="FIELD=COLUMN,...", help="Models: columns of table: files."
    ),
    labels: list[str] | None = typer.Option(
        None, "--labels", metavar="NAME=MEANING,...", help="Models: what DATA's label names mean, e.g. SUBJ=editorial."
    ),
    data_root: Path = typer.Option(
        Path("../shared/data"), "--data-root", envvar="STANCE_DATA", metavar="DIR", help="Folder relative PATHs are in."
    ),
    group_by: str = typer.Option(
        "folder", "--group-by", metavar="FIELD", help="Score records: what PATH@GROUP groups by (default: folder)."
    ),
    resamples: int = typer.Option(1000, "--resamples", metavar="N", help="Bootstrap resamples for the intervals."),
    top: int = typer.Option(10, "--top", metavar="N", help="Models: sentences shown where they disagree most."),
    force: bool = typer.Option(False, "--force", help="Score records: replace a site already in OUT."),
) -> None:
    """Compare two models on the same labelled data, or two outlets' (or periods') score records.

    Models: per-head B - A with paired bootstrap 95% intervals, and the sentences where they disagree.
    Score records: flagged share with bootstrap intervals, each side's own loaded terms, and stance per
    shared target by voice, printed and (with -o SITE) written as a page."""
    import json

    try:
        if resamples < 1:
            raise ValueError(f"expected --resamples >= 1, found {resamples}")
        for side in (a, b):
            path = side if Path(side).exists() else side.rpartition("@")[0] or side  # PATH@GROUP
            if side != SHIPPED_MODEL_NAME and not Path(path).exists():
                raise ValueError(
                    f"expected a model directory or score records (FILE, FOLDER or PATH@GROUP), found nothing at "
                    f"{path}; check the path (`default` names the shipped model)"
                )
        models = _is_model_dir(a), _is_model_dir(b)
        if models[0] != models[1]:
            raise ValueError(
                f"expected A and B of one kind (two model directories, or two sets of score records), found "
                f"{'a model' if models[0] else 'score records'} ({a}) and {'a model' if models[1] else 'score records'} ({b})"
            )
        if models[0]:
            _compare_models(a, b, data or [], output, split, columns, labels, data_root, resamples, top)
            return
        if data:
            raise ValueError(f"expected no DATA when comparing score records, found {' '.join(data)}")
        from .coverage import compare_sides, load_side, render_text, write_site

        if output is not None and output.exists() and any(output.iterdir()) and not force:
            raise ValueError(f"expected a new or empty folder for the site, found {output} holding files; pass --force")
        result = compare_sides(load_side(a, group_by), load_side(b, group_by), resamples)
        typer.echo(render_text(result))
        if output is not None:
            typer.echo(f"written to {write_site(result, output)}")
            (output / "compare.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    except (StanceError, ValueError, OSError) as exc:
        fail(exc)


def _compare_models(a, b, data, output, split, columns, labels, data_root, resamples, top) -> None:
    import json

    from .comparison import compare_models, render
    from .evaluation import parse_data_spec, parse_label_map
    from .tabular import parse_columns

    if not data:
        raise ValueError("expected DATA (ADAPTER:PATH[@SPLIT]) to compare two models on, found none")
    for spec in data:
        parse_data_spec(spec)
    if output is not None and not output.parent.is_dir():
        raise ValueError(f"expected the folder {output.parent} for -o to exist, found none; create it first")
    report = compare_models(
        model_path(a),
        model_path(b),
        data,
        data_root,
        split,
        parse_columns(columns or []),
        parse_label_map(labels or []),
        resamples=resamples,
        top=top,
    )
    typer.echo(render(report))
    if output is not None:
        output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"report written to {output}")


def main() -> None:
    app(prog_name="stance")


if __name__ == "__main__":
    main()
