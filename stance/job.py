"""A scoring run: read documents, score them, write records, keep the corpus summary and a progress bar."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .documents import count_documents, read_documents
from .options import ScoreOptions
from .output import Journal, doc_key, journal_path
from .records import flat_columns, to_jsonl
from .scoring import Scorer
from .summary import CorpusSummary


@dataclass
class RunResult:
    summary: CorpusSummary  # the whole corpus, documents kept from a resumed journal included
    output: Path | None  # the final file; None when writing to stdout or when interrupted
    resumed: int  # documents already complete in a resumed journal
    interrupted: bool = False  # stopped by Ctrl-C: the journal holds every finished document
    journal: Path | None = None
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The closing summary, as `--summary-json` writes it."""
        return self.summary.to_dict() | {
            "resumed_documents": self.resumed,
            "interrupted": self.interrupted,
            "output": str(self.output) if self.output else None,
            "timings": self.timings,
        }


def _progress(enabled: bool):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents"),
        TextColumn("{task.fields[rate]:.1f} docs/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )


def run_scoring(scorer: Scorer, run: ScoreOptions) -> RunResult:
    """Score every document under `run.paths` into `run.output` (or stdout).

    Ctrl-C ends the run cleanly: every finished document is in the journal, and the result says
    `interrupted`, so the caller can print how to resume.
    """
    paths, options, output, targets = list(run.paths), run.read, run.output, list(run.targets)
    if output is not None:  # an output inside an input folder must not be read back as input
        own = {output.resolve(), journal_path(output).resolve()}
        options = replace(options, exclude=options.exclude | {str(p) for p in own})
    started = time.perf_counter()
    summary = CorpusSummary()
    journal = (
        Journal(
            output,
            run.format,
            resume=run.resume,
            force=run.force,
            on_recovered=summary.add,
            columns=flat_columns(h.record_field for h in scorer.model.head_specs),
            model_version=scorer.model_version,
        )
        if output
        else None
    )
    done = journal.done if journal else set()
    resumed = len(done)
    skipped_files: list[Path] = []

    def pending():
        for doc in read_documents(paths, options, skipped=skipped_files):
            if doc_key(doc.path, doc.doc_id) in done:
                continue
            yield doc

    show = sys.stderr.isatty() if run.progress is None else run.progress
    total = count_documents(paths, options) if show else None
    interrupted = False
    scored = 0
    try:
        with _progress(show) as progress:
            task = progress.add_task("score", total=total, completed=resumed, rate=0.0)

            def moved(fraction: float, in_chunk: int) -> None:
                # A chunk's documents come out together when its last batch is done; between
                # batches the bar moves by the share of the chunk's sentences already scored.
                progress.update(
                    task,
                    completed=resumed + scored + fraction * in_chunk,
                    rate=scored / max(1e-9, time.perf_counter() - started),
                )

            for _, records in scorer.score_documents(pending(), targets, on_progress=moved if show else None):
                if journal:
                    journal.write_document(records)
                else:
                    sys.stdout.write(to_jsonl(records))
                    sys.stdout.flush()
                for r in records:
                    summary.add(r)
                scored += 1
                progress.update(
                    task, completed=resumed + scored, rate=scored / max(1e-9, time.perf_counter() - started)
                )
    except KeyboardInterrupt:
        interrupted = True
    for path in skipped_files:
        summary.skip(path)
    final = None
    scoring_done = time.perf_counter()
    try:
        if journal and not interrupted:
            final = journal.finish()
    finally:
        if journal:
            journal.close()
    timings = {
        "total_s": round(time.perf_counter() - started, 3),
        "scoring_s": round(scoring_done - started, 3),
        "documents_scored_in_this_run": scored,
    }
    return RunResult(summary, final, resumed, interrupted, journal.path if journal else None, timings)
