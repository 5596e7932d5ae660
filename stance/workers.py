"""`stance score --workers N`: worker processes prepare documents and build records around one model.

On a GPU the model outruns one Python process: segmentation, voice rules, target matching,
tokenization, span decoding and JSON-ready records all run under one GIL. With workers the main
process only runs the model; the text work runs in N processes:

    documents --(groups of about chunk_sentences)--> workers: segment, voice rules, targets, tokenize
              --> main: the model, batch by batch
              --> workers: span decoding, voice from the attribution head, records
              --> main: records, in input order

Records are the same as without workers (exactly, on fp32 and on a GPU; int8's activation scales
follow the batch, and groups here are cut by text length rather than by sentences, so int8 scores
can differ in the last digits). Each worker loads the tokenizer and the alias table, never the model.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import SimpleNamespace

from .documents import Document

# A group of documents goes to one worker; its size in characters approximates chunk_sentences
# sentences of news text (about 130 characters each), so the model's batches stay as full as without workers.
CHARS_PER_SENTENCE = 130

_scorer = None  # the worker process's text-only Scorer


def _start_worker(arguments: dict) -> None:
    from .scoring import Scorer

    global _scorer
    engine = SimpleNamespace(**arguments.pop("engine"))
    _scorer = Scorer(engine=engine, **arguments)


def _prepare(docs: list[Document], targets: list) -> object:
    chunks = list(_scorer._chunks(docs, targets))
    return chunks[0]  # chunk_sentences is unbounded in a worker: one group, one chunk


def _build(chunk, predictions) -> list[tuple[Document, list[dict]]]:
    return list(_scorer._records(chunk, predictions))


def _groups(documents: Iterable[Document], chars: int) -> Iterator[list[Document]]:
    group: list[Document] = []
    size = 0
    for doc in documents:
        group.append(doc)
        size += len(doc.text)
        if size >= chars:
            yield group
            group, size = [], 0
    if group:
        yield group


def worker_arguments(scorer) -> dict:
    """What a worker needs to rebuild the scorer's text side: everything but the model itself."""
    model = scorer.model
    return {
        "model_dir": scorer.model_dir,
        "threshold": scorer.threshold,
        "aliases": scorer.aliases,
        "auto_targets": scorer.auto_targets,
        "alternatives": scorer.lexicon,
        "chunk_sentences": 1 << 30,
        "engine": {
            "head_specs": model.head_specs,
            "mark_mentions": model.mark_mentions,
            "loaded_threshold": float(model.loaded_threshold),
            "framing_temperature": float(model.framing_temperature),
        },
    }


def score_in_workers(
    scorer,
    documents: Iterable[Document],
    targets: list,
    on_progress: Callable[[float, int], None] | None = None,
) -> Iterator[tuple[Document, list[dict]]]:
    """(document, records) in input order, as Scorer.score_documents gives them."""
    workers = scorer.workers
    # spawn, not fork: the parent holds ONNX Runtime or torch thread pools, which do not survive a fork.
    context = multiprocessing.get_context("spawn")
    ahead = 2 * workers  # groups in preparation, and chunks being turned into records
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(worker_arguments(scorer),)
    ) as pool:
        prepared: deque[Future] = deque()
        built: deque[Future] = deque()

        def run_model(chunk) -> Iterator[tuple[Document, list[dict]]]:
            built.append(pool.submit(_build, chunk, scorer._predict(chunk, on_progress)))
            while built and (built[0].done() or len(built) > ahead):
                yield from built.popleft().result()

        for group in _groups(documents, scorer.chunk_sentences * CHARS_PER_SENTENCE):
            prepared.append(pool.submit(_prepare, group, targets))
            if len(prepared) > ahead:
                yield from run_model(prepared.popleft().result())
        while prepared:
            yield from run_model(prepared.popleft().result())
        while built:
            yield from built.popleft().result()
