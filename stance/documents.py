"""Reading the documents to score: text, Markdown, HTML, JSON, JSONL and Parquet files, folders and stdin.

Reading never raises for a bad file: it yields a `Document` whose `error` says what
went wrong, so a batch run reports it and goes on. A document's `text` is what the
record offsets point into; when the source has a separate title it is placed first,
followed by a blank line, so the title is scored as sentence 0.
"""

from __future__ import annotations

import codecs
import fnmatch
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
PARQUET_SUFFIXES = {".parquet"}
ALL_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | PARQUET_SUFFIXES
MAX_BYTES = 20_000_000  # one 20 MB "article" is a mistake (a dump, a binary), not news
STDIN = "-"


@dataclass
class Document:
    doc_id: str
    path: str
    text: str = ""
    targets: list[Any] = field(default_factory=list)  # strings or {"text", "start", "end"} objects
    error: str | None = None
    title: str | None = None  # shown instead of the id (`stance show`, the report); also sentence 0


@dataclass(frozen=True)
class ReadOptions:
    """Where the fields of JSON / JSONL records are, and which files a folder contributes."""

    id_field: str = "id"
    text_field: str = "text"
    title_field: str = "title"
    targets_field: str = "targets"
    glob: str | None = None  # e.g. "*.html"; folders only
    # Files never read from folders: the run's own output and journal, when they sit among the inputs.
    exclude: frozenset[str] = frozenset()


def decode_bytes(data: bytes) -> str:
    """Detect the encoding: BOMs first, then strict UTF-8, cp1252, charset detection, and latin-1 last."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise ValueError(
            "expected text, found binary data (NUL bytes); pass text, HTML, JSON(L) files or folders of them"
        )
    for encoding in ("utf-8", "cp1252"):  # cp1252 is by far the commonest legacy encoding of English news
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None:
            return data.decode(best.encoding)
    except (ImportError, LookupError, UnicodeDecodeError):
        pass
    return data.decode("latin-1")  # decodes any byte string


# A first line followed by a blank line: a plain-text article's title ("# " of Markdown dropped).
_TITLE_LINE = re.compile(r"\A\ufeff?[ \t]*(?:#+[ \t]+)?(?P<title>[^\n]{1,300}?)[ \t]*\r?\n[ \t]*\r?\n")


def title_of(text: str) -> str | None:
    """The title of a plain-text article: its first line, when a blank line follows it."""
    m = _TITLE_LINE.match(text)
    return m.group("title") if m and m.group("title").strip() else None


def with_title(title: str | None, body: str) -> str:
    title = (title or "").strip()
    if not title or body.lstrip().startswith(title):
        return body
    return f"{title}\n\n{body}"


def html_to_text(html: str) -> tuple[str | None, str]:
    """Main text of a news page, without navigation, boilerplate or scripts (trafilatura)."""
    import trafilatura

    body = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True) or ""
    meta = trafilatura.extract_metadata(html)
    return (meta.title if meta is not None else None), body


def _read_bytes(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(
            f"expected an article under {MAX_BYTES // 1_000_000} MB, found {size / 1e6:.0f} MB; "
            "split it, or put many articles in a .jsonl file (read line by line)"
        )
    return path.read_bytes()


def _finish(doc: Document) -> Document:
    if not doc.error and not doc.text.strip():
        doc.error = "expected article text, found an empty document"
    return doc


def read_single_file(path: Path, options: ReadOptions) -> Iterator[Document]:
    """A .txt/.md/.html file is one document; a .json file holds one record or a list of them."""
    try:
        text = decode_bytes(_read_bytes(path))
    except (OSError, ValueError) as exc:
        yield Document(doc_id=path.stem, path=str(path), error=str(exc))
        return
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        try:
            title, body = html_to_text(text)
        except Exception as exc:  # one page the extractor chokes on must not end a folder's run
            yield Document(
                doc_id=path.stem,
                path=str(path),
                error=f"expected HTML the extractor can read, found it failing ({type(exc).__name__}: {exc})",
            )
            return
        text = with_title(title, body)
        yield _finish(Document(doc_id=path.stem, path=str(path), text=text, title=title_of(text)))
    elif suffix in JSON_SUFFIXES:
        yield from _json_documents(text, path, options)
    else:
        yield _finish(Document(doc_id=path.stem, path=str(path), text=text, title=title_of(text)))


def _json_documents(text: str, path: Path, options: ReadOptions) -> Iterator[Document]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Document(doc_id=path.stem, path=str(path), error=f"expected JSON, found invalid JSON ({exc})")
        return
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        where = str(path) if len(records) == 1 and not isinstance(data, list) else f"{path}:{i}"
        yield record_document(
            record, where, default_id=path.stem if where == str(path) else f"{path.stem}:{i}", options=options
        )


def record_document(record: Any, where: str, default_id: str, options: ReadOptions) -> Document:
    if not isinstance(record, dict) or not isinstance(record.get(options.text_field), str):
        return Document(
            doc_id=default_id,
            path=where,
            error=f'expected a JSON object with a string "{options.text_field}" field, found '
            f"{type(record).__name__ if not isinstance(record, dict) else sorted(record)}; "
            "use --text-field to name the field that holds the article text",
        )
    doc_id = str(record[options.id_field]) if record.get(options.id_field) is not None else default_id
    targets = record.get(options.targets_field) or []
    if not isinstance(targets, list):
        return Document(
            doc_id=doc_id,
            path=where,
            error=f'expected "{options.targets_field}" to be a list, found {type(targets).__name__}',
        )
    title = record.get(options.title_field) if isinstance(record.get(options.title_field), str) else None
    text = with_title(title, record[options.text_field])
    if title and text != record[options.text_field]:
        # Target offsets refer to the record's text; shift them past the prepended title.
        shift = len(text) - len(record[options.text_field])
        targets = [_shift_target(t, shift) for t in targets]
    return _finish(Document(doc_id=doc_id, path=where, text=text, targets=targets, title=title_of(text)))


def _shift_target(target: Any, shift: int) -> Any:
    if isinstance(target, dict) and "start" in target and "end" in target:
        return target | {"start": int(target["start"]) + shift, "end": int(target["end"]) + shift}
    return target


def _jsonl_lines(lines: Iterable[bytes], path: Path, options: ReadOptions) -> Iterator[Document]:
    for line_no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            record = json.loads(decode_bytes(raw))
        except (json.JSONDecodeError, ValueError) as exc:
            yield Document(
                doc_id=f"{path.stem}:{line_no}", path=where, error=f"expected a JSON object, found invalid JSON ({exc})"
            )
            continue
        yield record_document(record, where, default_id=f"{path.stem}:{line_no}", options=options)


def read_jsonl_file(path: Path, options: ReadOptions) -> Iterator[Document]:
    """Streamed line by line: a JSONL file may hold millions of articles."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield Document(doc_id=path.stem, path=str(path), error=str(exc))
        return
    with fh:
        yield from _jsonl_lines(fh, path, options)


def read_parquet_file(path: Path, options: ReadOptions) -> Iterator[Document]:
    """Records of {id, text, title, targets} columns, streamed a batch at a time."""
    try:
        import pyarrow.parquet as pq

        table = pq.ParquetFile(str(path))
        batches = table.iter_batches(batch_size=1024)
    except Exception as exc:  # any unreadable file becomes an error record
        yield Document(
            doc_id=path.stem, path=str(path), error=f"expected a Parquet file, found an unreadable one ({exc})"
        )
        return
    row = 0
    for batch in batches:
        for record in batch.to_pylist():
            yield record_document(record, f"{path}:{row}", default_id=f"{path.stem}:{row}", options=options)
            row += 1


def read_stdin(options: ReadOptions) -> Iterator[Document]:
    """JSONL when the first non-blank character is '{', else one plain-text document."""
    data = sys.stdin.buffer.read()
    if data.lstrip()[:1] == b"{":
        yield from _jsonl_lines(data.splitlines(), Path("stdin"), options)
    else:
        try:
            yield _finish(Document(doc_id="stdin", path=STDIN, text=decode_bytes(data)))
        except ValueError as exc:
            yield Document(doc_id="stdin", path=STDIN, error=str(exc))


def expand_paths(
    inputs: Iterable[str | Path],
    glob: str | None = None,
    skipped: list[Path] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> list[Path]:
    """Files as given; folders expanded recursively to readable files (matching `glob`), sorted.

    Files in folders that have no readable suffix are appended to `skipped`, so a run can say
    what it left out. With `glob`, the pattern is the user's own filter and nothing is reported.
    """
    files: set[Path] = set()
    left_out: set[Path] = set()
    excluded_names = {Path(e).name for e in exclude}  # resolve only files that could be excluded
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            for p in path.rglob("*"):
                if not p.is_file() or (p.name in excluded_names and str(p.resolve()) in exclude):
                    continue
                if glob is not None:
                    if fnmatch.fnmatch(p.name, glob) or fnmatch.fnmatch(str(p.relative_to(path)), glob):
                        files.add(p)
                elif p.suffix.lower() in ALL_SUFFIXES:
                    files.add(p)
                else:
                    left_out.add(p)
        else:
            files.add(path)
    if skipped is not None:
        skipped.extend(sorted(left_out, key=str))
    return sorted(files, key=str)


def missing_inputs(inputs: Iterable[str | Path]) -> list[str]:
    """Inputs that are neither stdin nor an existing file or folder."""
    return [str(i) for i in inputs if str(i) != STDIN and not Path(i).exists()]


def count_documents(inputs: Iterable[str | Path], options: ReadOptions | None = None) -> int | None:
    """How many documents the inputs hold, for a progress bar's total; None when it cannot be
    known without reading everything (stdin). JSONL lines are counted, not parsed."""
    options = options or ReadOptions()
    inputs = list(inputs)
    if STDIN in [str(i) for i in inputs]:
        return None
    total = 0
    for path in expand_paths(inputs, options.glob, exclude=options.exclude):
        suffix = path.suffix.lower()
        try:
            if suffix in JSONL_SUFFIXES:
                total += _count_jsonl_records(path)
            elif suffix in PARQUET_SUFFIXES:
                import pyarrow.parquet as pq

                total += pq.ParquetFile(str(path)).metadata.num_rows
            else:
                total += 1  # a JSON list counts as one until read: the bar's total is then a floor
        except Exception:
            total += 1
    return total


def _count_jsonl_records(path: Path) -> int:
    """Non-blank lines: each is one document (or one error record) when read."""
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def read_documents(
    inputs: Iterable[str | Path], options: ReadOptions | None = None, skipped: list[Path] | None = None
) -> Iterator[Document]:
    """Documents of every input in order; folders' unreadable files go to `skipped`."""
    options = options or ReadOptions()
    inputs = list(inputs)
    if STDIN in [str(i) for i in inputs]:
        yield from read_stdin(options)
        inputs = [i for i in inputs if str(i) != STDIN]
    for path in expand_paths(inputs, options.glob, skipped, options.exclude):
        if not path.exists():
            yield Document(doc_id=path.stem, path=str(path), error="expected a file or folder, found no such path")
        elif path.suffix.lower() in JSONL_SUFFIXES:
            yield from read_jsonl_file(path, options)
        elif path.suffix.lower() in PARQUET_SUFFIXES:
            yield from read_parquet_file(path, options)
        else:
            yield from read_single_file(path, options)
