"""The Python API: `stance.load()` gives a model that scores text, records and files.

    import stance
    model = stance.load()                                   # the shipped default model, or a path
    doc = model.score_text("The regime crushed the protest.", targets=["regime"])
    doc.sentences[0]["framing"]["score"], doc.summary["stance"]
    for record in model.score_documents(["articles/", {"id": "a1", "text": "..."}]):
        ...

Records are the dicts `stance score` writes (see the README's record schema).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .documents import Document, ReadOptions, read_documents, record_document
from .records import error_of, sentences_of, summary_of
from .targets import Target, load_alias_file, parse_target_option


@dataclass
class ScoredDocument:
    """One scored document: its sentence records and summary, or the error that stopped it."""

    records: list[dict]

    @property
    def sentences(self) -> list[dict]:
        return sentences_of(self.records)

    @property
    def summary(self) -> dict | None:
        return summary_of(self.records)

    @property
    def error(self) -> str | None:
        return error_of(self.records)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.records)


def _targets(targets: Iterable[str | Target] | None) -> list[Target]:
    """Targets as `"Name"`, `"Name=alias1,alias2"` or `Target` objects."""
    if isinstance(targets, str):
        targets = [targets]
    return [t if isinstance(t, Target) else parse_target_option(t) for t in targets or []]


class Model:
    """A loaded stance model with its scoring options. Build it with `stance.load()`."""

    def __init__(self, scorer, read_options: ReadOptions | None = None) -> None:
        self.scorer = scorer
        self.read_options = read_options or ReadOptions()

    def score_text(
        self, text: str, targets: Iterable[str | Target] | None = None, doc_id: str = "text", title: str | None = None
    ) -> ScoredDocument:
        """Score one article given as a string; `title`, when given, is sentence 0."""
        if not isinstance(text, str):
            raise TypeError(
                f"expected the article text as a str, found {type(text).__name__}; "
                "use score_documents() for files, folders and records"
            )
        record = {"id": doc_id, "text": text} | ({"title": title} if title else {})
        doc = record_document(record, doc_id, doc_id, ReadOptions())
        ((_, records),) = self.scorer.score_documents([doc], _targets(targets))
        return ScoredDocument(records)

    def score_documents(self, items: Iterable[Any], targets: Iterable[str | Target] | None = None) -> Iterator[dict]:
        """Records of every document, in input order, each closed by its summary (or an error record).

        Each item is a dict (`{"id", "text", "title", "targets"}`, fields as in JSONL input), a
        path to a file or folder (read as `stance score` reads it), or a `Document`.
        """
        if isinstance(items, (str, Path, dict)):
            items = [items]
        for _, records in self.scorer.score_documents(self._documents(items), _targets(targets)):
            yield from records

    def _documents(self, items: Iterable[Any]) -> Iterator[Document]:
        for i, item in enumerate(items):
            if isinstance(item, Document):
                yield item
            elif isinstance(item, dict):
                yield record_document(item, f"item:{i}", f"item:{i}", self.read_options)
            elif isinstance(item, (str, Path)):
                if not Path(item).exists():
                    raise FileNotFoundError(
                        f"expected a file or folder to score, found no such path: {item}; "
                        "pass text through score_text() or a {'text': ...} dict"
                    )
                yield from read_documents([item], self.read_options)
            else:
                raise TypeError(f"expected a dict, a path or a Document at item {i}, found {type(item).__name__}")


def load(
    model: str | Path | None = None,
    *,
    device: str = "auto",
    precision: str = "auto",
    threshold: float | None = None,
    aliases: str | Path | None = None,
    auto_targets: int = 5,
    batch_size: int = 64,
    read_options: ReadOptions | None = None,
    alternatives: str | Path | None = None,
    backend: str = "auto",
) -> Model:
    """Load a model directory (default: the shipped model, or $STANCE_MODEL) for scoring.

    The options are those of `stance score`: `device` auto/cpu/cuda/mps, `precision`
    auto/fp32/int8/bf16/fp16, `backend` auto/onnx/torch, the framing flag `threshold`, an alias table, and how many
    targets to pick per article when none are given, and the neutral-alternatives lexicon
    (default: the shipped configs/alternatives.yaml).
    """
    from .alternatives import load_lexicon
    from .devices import check_device
    from .scoring import Scorer

    check_device(device)
    scorer = Scorer(
        model,
        threshold=threshold,
        batch_size=batch_size,
        aliases=load_alias_file(aliases),
        auto_targets=auto_targets,
        device=device,
        precision=precision,
        alternatives=load_lexicon(alternatives),
        backend=backend,
    )
    return Model(scorer, read_options)
