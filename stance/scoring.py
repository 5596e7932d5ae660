"""Scoring documents: segment, find target mentions, run the model in length-sorted batches, build records.

Records are built through records.py, whose types are the public schema (see the README); each head
fills its own field (heads.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .alternatives import Lexicon, load_lexicon
from .defaults import MAX_BATCH_TOKENS, MODEL_ENV, default_model_dir, model_path
from .documents import Document
from .errors import InputError, ModelLoadError
from .features import Encoded, mention_tokens, tokenize
from .heads import Context
from .inference import SentencePrediction, predict
from .model_files import framing_threshold, read_model_config
from .options import ModelOptions
from .records import ErrorRecord, error_record, sentence_record, speaks_for_outlet
from .runtime import Runtime, prefetch
from .segmentation import Sentence, paragraph_numbers, split_sentences
from .summary import article_summary
from .targets import (
    AliasTable,
    Mention,
    Target,
    auto_targets,
    find_document_mentions,
    load_alias_file,
    merge_targets,
    parse_document_target,
)
from .tokenizer import scoring_tokenizer
from .voice import Attribution, SpeechRegions, Voice, assign_voices, speech_only, tagger_voices

log = logging.getLogger("stance")


def default_model_path() -> Path:
    path = default_model_dir()
    if not (path / "config.json").exists():
        raise ModelLoadError(
            f"expected the default model at {path}, found no config.json there; pass --model DIR, "
            f"set ${MODEL_ENV}, or reinstall stance-news (its wheel ships the default model)"
        )
    return path


def document_error(doc: Document, error: str) -> ErrorRecord:
    return error_record(doc.doc_id, doc.path, error)


@dataclass
class _Item:
    """One sentence awaiting the model."""

    doc: int
    index: int
    paragraph: int
    sentence: Sentence
    mentions: list[Mention]
    # From the rules; with the attribution head, replaced by the head's once the model has run.
    voice: Voice
    speech: SpeechRegions
    reading: Attribution | None = None  # the attribution head's, once the model has run


@dataclass
class _Chunk:
    """Documents prepared for the model: segmented, voiced, targeted and tokenized."""

    docs: list[Document]
    items: list[_Item]
    encoded: list[Encoded]
    errors: dict[int, str]


class Scorer:
    def __init__(
        self,
        model_dir: str | Path | None = None,
        threshold: float | None = None,
        batch_size: int = 64,
        aliases: AliasTable | None = None,
        auto_targets: int = 5,
        device: str = "auto",
        precision: str = "auto",
        chunk_sentences: int = 1024,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        alternatives: Lexicon | None = None,
        backend: str = "auto",
        workers: int = 0,
        threads: int | None = None,
        engine=None,
    ):
        """`workers` > 0 prepares documents and builds records in that many processes around this
        one model (workers.py); `threads` caps the model's CPU threads (default: every core);
        `engine` replaces the model (a worker's text-only scorer passes one without `run`)."""
        self.model_dir = model_path(model_dir) if model_dir else default_model_path()
        self.config = read_model_config(self.model_dir)
        if engine is None:
            self.runtime = Runtime.choose(device, precision, backend, self.config)
            self.model, self.tokenizer = self.runtime.load(self.model_dir, self.config, threads)
        else:
            self.runtime, self.model, self.tokenizer = None, engine, scoring_tokenizer(self.model_dir, self.config)
        self.workers = workers
        self.aliases = aliases or AliasTable()
        self.lexicon = alternatives  # neutral alternatives for loaded terms; None: none attached
        self.auto_targets = auto_targets  # how many targets to pick when a document has none
        self.max_length = int(self.config["max_length"])
        # The model's own flag threshold (fitted on its validation split), unless the user sets one.
        self.threshold = framing_threshold(self.config) if threshold is None else float(threshold)
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.chunk_sentences = chunk_sentences
        self.loaded_threshold = float(self.model.loaded_threshold)
        # Voice comes from the attribution head where the model has one, else from the rules.
        self.voice_head = next((h for h in self.model.head_specs if h.name == "attribution"), None)
        if self.voice_head is None and engine is None:
            log.warning(
                "warning: this model has no attribution head, so voice (editorial / quoted / attributed) comes "
                "from quotation marks and speech-verb rules, which miss about 4 in 10 reported-speech sentences; "
                "retrain it with a polnear dataset (see configs/default.yaml) to learn voice"
            )

    @property
    def model_version(self) -> str:
        """How exports (Label Studio pre-annotations) name the model: its folder and stance version."""
        return f"{self.model_dir.resolve().name}@stance-{self.config.get('versions', {}).get('stance', '?')}"

    @classmethod
    def from_options(cls, options: ModelOptions) -> Scorer:
        return cls(
            options.model_dir,
            threshold=options.threshold,
            batch_size=options.batch_size,
            aliases=load_alias_file(options.aliases),
            auto_targets=options.auto_targets,
            device=options.device,
            precision=options.precision,
            max_batch_tokens=options.max_batch_tokens,
            alternatives=load_lexicon(options.alternatives),
            backend=options.backend,
            workers=options.workers,
            threads=options.threads,
        )

    def score(self, documents: Iterable[Document], targets: list[Target] | None = None) -> Iterator[dict]:
        """Records in document order, sentences in text order, each article closed by its summary."""
        for _, records in self.score_documents(documents, targets):
            yield from records

    def score_documents(
        self,
        documents: Iterable[Document],
        targets: list[Target] | None = None,
        on_progress: Callable[[float, int], None] | None = None,
    ) -> Iterator[tuple[Document, list[dict]]]:
        """(document, its records) in input order.

        `on_progress(fraction, documents)` is told, after each model batch, what fraction of the
        current chunk's sentences is done and how many documents the chunk holds: a progress bar
        moves while a chunk runs, not only when its documents come out.

        A background thread reads, segments, tokenizes and applies the voice rules to the next chunk
        while the model runs on the current one, so text processing stays off the model's critical
        path. (Building records in yet another thread was tried and measured slower on 2 cores: it
        competes with the model's thread for the GIL.) Sentences of a chunk (about `chunk_sentences`,
        across documents) share length-sorted batches. At most three chunks are in memory: memory
        is bounded by the chunk size, not by the corpus.
        """
        if isinstance(documents, (str, bytes, Document)):
            raise TypeError(
                f"expected an iterable of Document objects, found a single {type(documents).__name__}; "
                "wrap it in a list, or use stance.load().score_text(text) for plain text"
            )
        # Run-wide targets go through the alias table once, not once per document.
        resolved = merge_targets(self.aliases.resolve(t) for t in targets or [])
        if self.workers > 0:
            from .workers import score_in_workers

            yield from score_in_workers(self, documents, resolved, on_progress)
            return
        for chunk in prefetch(self._chunks(documents, resolved), depth=2):
            yield from self._records(chunk, self._predict(chunk, on_progress))

    def _chunks(self, documents: Iterable[Document], global_targets: list[Target]) -> Iterator[_Chunk]:
        docs: list[Document] = []
        items: list[_Item] = []
        errors: dict[int, str] = {}
        for doc in documents:
            d = len(docs)
            docs.append(doc)
            if doc.error:
                errors[d] = doc.error
            else:
                try:
                    items.extend(self._items(d, doc, global_targets))
                except InputError as exc:
                    errors[d] = str(exc)
                except Exception as exc:  # one document must never end a batch run
                    errors[d] = f"could not prepare this document ({type(exc).__name__}: {exc}); please report it"
            if len(items) >= self.chunk_sentences:
                yield _Chunk(docs, items, self._encode(items), errors)
                docs, items, errors = [], [], {}
        if docs:
            yield _Chunk(docs, items, self._encode(items), errors)

    def _items(self, d: int, doc: Document, global_targets: list[Target]) -> list[_Item]:
        targets = self._targets_for(doc, global_targets)
        sentences = split_sentences(doc.text)
        mentions = find_document_mentions(targets, doc.text, [(s.start, s.end) for s in sentences])
        # The rules' voice; with the attribution head, the start that _voice_from_head refines.
        voices, speech = assign_voices(doc.text, sentences)
        paragraphs = paragraph_numbers(doc.text, sentences)
        return [
            _Item(d, i, paragraph, sent, found, voice, speech)
            for i, (sent, voice, found, paragraph) in enumerate(zip(sentences, voices, mentions, paragraphs))
        ]

    def _predict(
        self, chunk: _Chunk, on_progress: Callable[[float, int], None] | None = None
    ) -> list[SentencePrediction]:
        on_batch = None
        if on_progress is not None and chunk.encoded:
            done = 0

            def on_batch(n: int) -> None:
                nonlocal done
                done += n
                on_progress(done / len(chunk.encoded), len(chunk.docs))

        if not chunk.encoded:
            return []
        return predict(
            self.model,
            chunk.encoded,
            self.tokenizer.pad_token_id,
            self.batch_size,
            None,
            self.max_batch_tokens,
            on_batch,
        )

    def _records(self, chunk: _Chunk, preds: list[SentencePrediction]) -> Iterator[tuple[Document, list[dict]]]:
        rows: dict[int, list[tuple[_Item, Encoded, SentencePrediction]]] = {}
        for row in zip(chunk.items, chunk.encoded, preds):
            rows.setdefault(row[0].doc, []).append(row)
        by_doc: dict[int, list[dict]] = {}
        for d, doc_rows in rows.items():
            doc = chunk.docs[d]
            if self.voice_head is not None:
                self._voice_from_head(doc, doc_rows)
            by_doc[d] = [self._record(doc, item, enc, pred) for item, enc, pred in doc_rows]
        for d, doc in enumerate(chunk.docs):
            if d in chunk.errors or not by_doc.get(d):
                yield doc, [document_error(doc, chunk.errors.get(d, "expected at least one sentence, found none"))]
            else:
                yield doc, by_doc[d] + [article_summary(by_doc[d], title=doc.title)]

    def _voice_from_head(self, doc: Document, rows: list[tuple[_Item, Encoded, SentencePrediction]]) -> None:
        """Each sentence's voice from the attribution head's reading of the whole document: a sentence's
        speaker may be named in its neighbour, and a pronoun refers back to an earlier name."""
        head = self.voice_head
        readings = [
            speech_only(head.reading(pred.outputs[head.name], enc, item.sentence), item.sentence)
            for item, enc, pred in rows
        ]
        rules = ([item.voice for item, _, _ in rows], rows[0][0].speech)
        voices, speech = tagger_voices(doc.text, [item.sentence for item, _, _ in rows], readings, rules=rules)
        for (item, _, _), voice, reading in zip(rows, voices, readings):
            item.voice, item.speech, item.reading = voice, speech, reading

    def _targets_for(self, doc: Document, global_targets: list[Target]) -> list[Target]:
        """`global_targets` are already resolved; the document's own targets are resolved here."""
        own = [self.aliases.resolve(parse_document_target(t, doc.text)) for t in doc.targets]
        targets = merge_targets(global_targets + own) if own else global_targets
        if not targets and self.auto_targets:
            targets = auto_targets(doc.text, self.aliases, top_k=self.auto_targets)
        return targets

    def _encode(self, items: list[_Item]) -> list[Encoded]:
        encoded = tokenize(self.tokenizer, [it.sentence.text for it in items], self.max_length)
        for item, enc in zip(items, encoded):
            base = item.sentence.start
            kept = []
            for mention in item.mentions:
                tokens = sorted({t for s, e in mention.all_spans for t in mention_tokens(enc, s - base, e - base)})
                if tokens:  # a mention past the truncation point cannot be scored
                    enc.mentions.append(tokens)
                    kept.append(mention)
            item.mentions = kept
        return encoded

    def _record(self, doc: Document, item: _Item, enc: Encoded, pred: SentencePrediction) -> dict:
        sent = item.sentence
        ctx = Context(
            sent, item.voice, item.speech, item.mentions, enc, self.threshold, self.loaded_threshold, item.reading
        )
        # Each head the model has fills its own field; a head it lacks is absent from the record.
        heads = {h.record_field: h.record(pred.outputs[h.name], ctx) for h in self.model.head_specs}
        if self.lexicon is not None and heads.get("loaded_terms"):
            self.lexicon.annotate(heads["loaded_terms"])
        record = sentence_record(
            doc.doc_id,
            doc.path,
            item.index,
            sent.start,
            sent.end,
            sent.text,
            item.voice.as_field(),
            heads,
            item.paragraph,
        )
        if "framing" in record:
            # Flagged: above the threshold, and the outlet's own slant (an editorial sentence, or its
            # own loaded words around someone's reported speech). Framing inside quotes keeps its source.
            record["framing"]["flag"] = record["framing"]["flag"] and speaks_for_outlet(record)
        return record
