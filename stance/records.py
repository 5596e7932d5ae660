"""The records `stance score` writes: a public contract, typed here and nowhere else.

Every record is a plain dict (JSON-ready, fast to build) with the keys of one of the TypedDicts
below; `record` says which. Fields may be added; a rename or removal needs a changelog entry in
the README, whose schema tables `tests/test_records.py` checks against these types. Everything
that builds, reads, flattens or writes records goes through this module.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal, NotRequired, TypedDict

SENTENCE, SUMMARY, ERROR = "sentence", "summary", "error"
CLOSING = (SUMMARY, ERROR)  # the record that ends a document: its summary, or why it failed
EDITORIAL, QUOTED, ATTRIBUTED = "editorial", "quoted", "attributed"
VOICES = (EDITORIAL, QUOTED, ATTRIBUTED)


class VoiceField(TypedDict):
    label: Literal["editorial", "quoted", "attributed"]
    source: str | None  # the speaker as this sentence names it ("he", "Real estate tycoon Donald Trump")
    score: float | None
    source_start: int | None
    source_end: int | None
    speaker: str | None  # the same speaker's fullest name in the article ("Donald Trump"): one per person


class FramingField(TypedDict):
    score: float
    flag: bool


class LoadedTerm(TypedDict):
    start: int
    end: int
    text: str
    score: float
    category: str
    voice: VoiceField
    # Only where the alternatives lexicon has the term: neutral wordings, and the entry that matched.
    alternatives: NotRequired[list[str]]
    alternatives_entry: NotRequired[str]


class StanceEntry(TypedDict):
    target: str
    mention: str
    start: int
    end: int
    label: str
    scores: dict[str, float]
    voice: VoiceField  # whose view: the outlet's, or the speaker's whose words hold the mention


class SentenceRecord(TypedDict):
    record: Literal["sentence"]
    doc_id: str
    path: str
    sentence_index: int
    start: int
    end: int
    text: str
    voice: VoiceField
    framing: FramingField
    paragraph: int  # 0-based paragraph of the document (blank lines separate paragraphs; a title is 0)
    loaded_terms: list[LoadedTerm]
    stance: list[StanceEntry]


class SummaryRecord(TypedDict):
    record: Literal["summary"]
    doc_id: str
    path: str
    title: str | None  # the article's title (a text file's first line before a blank line, HTML, JSON)
    sentences: int
    framing_index: dict[str, Any]
    loaded_terms: dict[str, Any]
    stance: list[dict[str, Any]]


class ErrorRecord(TypedDict):
    record: Literal["error"]
    doc_id: str
    path: str
    error: str


def voice_field(
    label: str,
    source: str | None,
    score: float | None = None,
    source_start: int | None = None,
    source_end: int | None = None,
    speaker: str | None = None,
) -> VoiceField:
    return {
        "label": label,  # type: ignore[typeddict-item]
        "source": source,
        "score": score,
        "source_start": source_start,
        "source_end": source_end,
        "speaker": speaker,
    }


def speaks_for_outlet(record: dict) -> bool:
    """Does the sentence carry the outlet's own voice: an editorial sentence, or reported speech with
    loaded words of the outlet's own outside what the speaker said ("Critics *slammed* the *radical*
    bill, saying ...")? These sentences are the ones `framing.flag` and the outlet's framing figures
    (summaries, report, compare) read; a source never excuses the outlet's words."""
    if record["voice"]["label"] == EDITORIAL:
        return True
    return any((t.get("voice") or {}).get("label") == EDITORIAL for t in record.get("loaded_terms") or ())


def speaker_of(voice: dict) -> str | None:
    """Who speaks, one name per person and article (records before 0.8 have no `speaker`)."""
    return voice["speaker"] if "speaker" in voice else voice.get("source")


def sentence_record(
    doc_id: str,
    path: str,
    index: int,
    start: int,
    end: int,
    text: str,
    voice: VoiceField,
    heads: dict[str, Any],
    paragraph: int = 0,
) -> SentenceRecord:
    """A sentence's record; `heads` holds each head's field (framing, loaded_terms, stance, ...) in order."""
    return {
        "record": SENTENCE,
        "doc_id": doc_id,
        "path": path,
        "sentence_index": index,
        "start": start,
        "end": end,
        "text": text,
        "voice": voice,
        **heads,
        "paragraph": paragraph,
    }  # type: ignore[typeddict-item]


def error_record(doc_id: str, path: str, error: str) -> ErrorRecord:
    return {"record": ERROR, "doc_id": doc_id, "path": path, "error": error}


def is_closing(record: dict) -> bool:
    """Does this record end its document (a summary or an error)?"""
    return record.get("record") in CLOSING


def sentences_of(records: Iterable[dict]) -> list[SentenceRecord]:
    return [r for r in records if r.get("record") == SENTENCE]  # type: ignore[misc]


def summary_of(records: Iterable[dict]) -> SummaryRecord | None:
    return next((r for r in records if r.get("record") == SUMMARY), None)  # type: ignore[return-value]


def error_of(records: Iterable[dict]) -> str | None:
    return next((r["error"] for r in records if r.get("record") == ERROR), None)


def count_errors(records: Iterable[dict]) -> int:
    return sum(r.get("record") == ERROR for r in records)


# ---------------------------------------------------------------------------- writing


def to_jsonl(records: Iterable[dict]) -> str:
    """Records as JSON Lines: the one place records are serialised."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# The flat (CSV / Parquet) form: `voice` and `framing` become prefixed columns, other nested fields JSON text.
FLAT_COLUMNS = [
    "record", "doc_id", "path", "sentence_index", "start", "end", "text", "voice_label", "voice_source",
    "framing_score", "framing_flag", "loaded_terms", "stance", "sentences", "framing_index", "error",
    "voice_score", "voice_source_start", "voice_source_end", "voice_speaker", "paragraph", "title",
]  # fmt: skip
INT_COLUMNS = {"sentence_index", "start", "end", "sentences", "voice_source_start", "voice_source_end", "paragraph"}
FLOAT_COLUMNS = {"framing_score", "voice_score"}
BOOL_COLUMNS = {"framing_flag"}
PREFIXED = ("voice", "framing")


def flat_columns(fields: Iterable[str] = ()) -> list[str]:
    """FLAT_COLUMNS plus a JSON-text column for each other field a model's heads write."""
    return FLAT_COLUMNS + [f for f in fields if f not in FLAT_COLUMNS and f not in PREFIXED]


# The flat columns that `flatten` splits out of `voice` and `framing` (not, say, `framing_index`).
PREFIXED_COLUMNS = {f"voice_{k}" for k in VoiceField.__annotations__} | {
    f"framing_{k}" for k in FramingField.__annotations__
}
TEXT_COLUMNS = {"record", "doc_id", "path", "text", "error", "voice_label", "voice_source", "voice_speaker", "title"}


def unflatten(row: dict) -> dict:
    """A Parquet (or CSV) row back into a record, `flatten`'s inverse; empty cells are left out and
    every column that is not a scalar holds JSON text."""
    record: dict = {}
    for key, value in row.items():
        if value is None:
            continue
        if key in PREFIXED_COLUMNS:
            prefix, _, sub = key.partition("_")
            record.setdefault(prefix, {})[sub] = value
        elif isinstance(value, str) and key not in TEXT_COLUMNS:
            record[key] = json.loads(value)
        else:
            record[key] = value
    return record


def flatten(record: dict, columns: list[str] = FLAT_COLUMNS) -> dict:
    row: dict = {}
    for key, value in record.items():
        if key in PREFIXED and isinstance(value, dict):
            for sub, v in value.items():
                row[f"{key}_{sub}"] = v
        elif isinstance(value, (dict, list)):
            row[key] = json.dumps(value, ensure_ascii=False)
        else:
            row[key] = value
    return {c: row.get(c) for c in columns}
