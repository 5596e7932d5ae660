"""A scoring run: read documents, score them, write records, keep the corpus summary and a progress bar."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .documents import ReadOptions, read_documents
from .output import Journal, doc_key
from .scoring import Scorer
from .summary import CorpusSummary
from .targets import Target


@dataclass
class RunResult:
    summary: CorpusSummary
    output: Path | None
    skipped: int  # documents already complete in a resumed journal


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(), TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("documents"),
        TextColumn("{task.fields[rate]:.1f} docs/s"), TimeElapsedColumn(),
        disable=not enabled, transient=False,
    )


def run_scoring(
    paths: Iterable[str],
    scorer: Scorer,
    targets: list[Target],
    output: Path | None,
    fmt: str = "jsonl",
    options: ReadOptions | None = None,
    resume: bool = False,
    force: bool = False,
    show_progress: bool | None = None,
) -> RunResult:
    journal = Journal(output, fmt, resume=resume, force=force) if output else None
    done = journal.done if journal else set()
    summary = CorpusSummary()
    skipped = 0

    def pending():
        nonlocal skipped
        for doc in read_documents(paths, options):
            if doc_key(doc.path, doc.doc_id) in done:
                skipped += 1
                continue
            yield doc

    show = sys.stderr.isatty() if show_progress is None else show_progress
    start = time.perf_counter()
    try:
        with _progress(show) as progress:
            task = progress.add_task("score", total=None, rate=0.0)
            for _, records in scorer.score_documents(pending(), targets):
                if journal:
                    journal.write_document(records)
                else:
                    for r in records:
                        sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                for r in records:
                    summary.add(r)
                done_count = summary.documents + summary.failed
                progress.update(task, completed=done_count, rate=done_count / max(1e-9, time.perf_counter() - start))
        final = journal.finish() if journal else None
    finally:
        if journal:
            journal.close()
    return RunResult(summary, final, skipped)

