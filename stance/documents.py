"""Reading the documents to score: .txt files, folders (recursively) and JSONL records.

Reading never raises for a bad file: it yields a `Document` whose `error` says
what went wrong, so a batch run reports it and goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

TEXT_SUFFIXES = {".txt", ".text"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
MAX_BYTES = 20_000_000  # a 20 MB "article" is a mistake (a dump, a binary), not news


@dataclass
class Document:
    doc_id: str
    path: str
    text: str = ""
    targets: list[Any] = field(default_factory=list)  # strings or {"text", "start", "end"} objects
    error: str | None = None


def decode_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then cp1252, which also covers latin-1's printable range."""
    if b"\x00" in data[:8192]:
        raise ValueError("expected text, found binary data (NUL bytes); pass only text, .jsonl or folders of them")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("could not decode the file as UTF-8, cp1252 or latin-1")  # unreachable: latin-1 decodes anything


def read_text_file(path: Path) -> Document:
    doc = Document(doc_id=path.stem, path=str(path))
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ValueError(f"expected an article under {MAX_BYTES // 1_000_000} MB, found {size / 1e6:.0f} MB; split it")
        doc.text = decode_bytes(path.read_bytes())
        if not doc.text.strip():
            raise ValueError("expected article text, found an empty file")
    except (OSError, ValueError) as exc:
        doc.error = str(exc)
    return doc


def _jsonl_document(line: str, path: Path, line_no: int) -> Document:
    where = f"{path}:{line_no}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Document(doc_id=f"{path.stem}:{line_no}", path=where, error=f"expected a JSON object, found invalid JSON ({exc})")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return Document(
            doc_id=f"{path.stem}:{line_no}", path=where,
            error='expected a JSON object with a string "text" field, e.g. {"id": "a1", "text": "..."}',
        )
    targets = record.get("targets") or []
    if not isinstance(targets, list):
        return Document(doc_id=str(record.get("id", f"{path.stem}:{line_no}")), path=where,
                        error=f'expected "targets" to be a list, found {type(targets).__name__}')
    doc_id = str(record["id"]) if record.get("id") is not None else f"{path.stem}:{line_no}"
    return Document(doc_id=doc_id, path=where, text=record["text"], targets=targets)


def read_jsonl_file(path: Path) -> Iterator[Document]:
    try:
        data = path.read_bytes()
        text = decode_bytes(data)
    except (OSError, ValueError) as exc:
        yield Document(doc_id=path.stem, path=str(path), error=str(exc))
        return
    for line_no, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield _jsonl_document(line, path, line_no)


def expand_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders expanded recursively to their text and JSONL files, in sorted order."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES)
        else:
            files.append(path)
    return sorted(set(files), key=lambda p: str(p))


def read_documents(inputs: Iterable[str | Path]) -> Iterator[Document]:
    for path in expand_paths(inputs):
        if not path.exists():
            yield Document(doc_id=path.stem, path=str(path), error="no such file")
        elif path.suffix.lower() in JSONL_SUFFIXES:
            yield from read_jsonl_file(path)
        else:
            yield read_text_file(path)
