"""Writing records: JSONL, CSV or Parquet, incrementally, atomically and resumably.

While a run is going, every finished document is appended to a JSONL journal
(`OUT.partial`) in a single write and flushed, so a kill (even `kill -9`) loses at
most the document being written. `--resume` truncates the journal after the last
complete document (one closed by its summary or error record) and skips the
documents already in it. Only when the run ends is the journal turned into OUT in
the requested format and moved into place with an atomic rename.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import InputError
from .records import BOOL_COLUMNS, FLAT_COLUMNS, FLOAT_COLUMNS, INT_COLUMNS, flatten, is_closing, to_jsonl

FORMATS = ("jsonl", "csv", "parquet", "label-studio")


def doc_key(path: object, doc_id: object) -> tuple[str, str]:
    """What identifies a document across runs: the journal and --resume must agree on it."""
    return (str(path), str(doc_id))


# .json is Label Studio's task list: one task per sentence with the model's labels as pre-annotations.
SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".json": "label-studio"}


def output_format(path: Path | None, requested: str | None) -> str:
    """The format to write: --format when given, else the -o suffix, else JSONL (stdout)."""
    if requested:
        if requested not in FORMATS:
            raise InputError(f"expected --format to be one of {', '.join(FORMATS)}, found {requested!r}")
        return requested
    return SUFFIX_FORMATS.get(path.suffix.lower(), "jsonl") if path else "jsonl"


def check_output(path: Path | None, requested: str | None, folder: bool = False) -> str:
    """Check an -o path before any work starts; returns the format. `folder`: -o names a folder of
    shards (the Ray engine), else a file."""
    fmt = output_format(path, requested)
    if path is None:
        return fmt
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(
            f"expected the folder {parent} for -o {path} to exist, found no such folder; "
            f"create it first (mkdir -p {parent})"
        )
    if folder:
        if path.exists() and not path.is_dir():
            raise InputError(f"expected -o to be a folder of shards for --engine ray, found a file at {path}")
        return fmt
    if path.is_dir():
        raise InputError(
            f"expected -o to name an output file, found the folder {path} (--force never replaces "
            f"a folder); name a file such as {path / ('scores.' + fmt)}"
        )
    suffix = path.suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise InputError(
            f"expected -o to end in .jsonl, .csv, .parquet or .json (Label Studio tasks), found {path.name!r}; "
            "rename the file so that tools reading it know its format"
        )
    if SUFFIX_FORMATS[suffix] != fmt:
        wanted = next(k for k, v in SUFFIX_FORMATS.items() if v == fmt)
        raise InputError(
            f"expected -o to end in {wanted} for --format {fmt}, found {path.name!r}; "
            f"rename it or drop --format (the suffix then decides)"
        )
    return fmt


def journal_path(output: Path) -> Path:
    return output.with_name(output.name + ".partial")


def check_journal(output: Path, resume: bool, force: bool) -> None:
    """Refuse to clobber a finished output or an unfinished run's journal without being told to."""
    if output.exists() and not force and not resume:
        raise InputError(f"expected a new output file, found {output} already there; pass --force to overwrite")
    if journal_path(output).exists() and not force and not resume:
        raise InputError(
            f"found an unfinished run's journal {journal_path(output)}; pass --resume to finish it "
            "or --force to start over"
        )


class Journal:
    """The append-only JSONL file a run writes to before it is finalised."""

    def __init__(
        self,
        output: Path,
        fmt: str,
        resume: bool = False,
        force: bool = False,
        on_recovered: Callable[[dict], None] | None = None,
        columns: list[str] = FLAT_COLUMNS,
        model_version: str = "stance",
    ) -> None:
        """`on_recovered` receives the closing record of every document kept from an earlier run,
        so a resumed run's summary covers the whole corpus. `model_version` names the model in
        Label Studio pre-annotations."""
        self.output, self.fmt, self.model_version = output, fmt, model_version
        self.on_recovered = on_recovered
        self.columns = columns  # of the CSV / Parquet form
        self.path = journal_path(output)
        self.done: set[tuple[str, str]] = set()
        check_journal(output, resume, force)
        if resume and self.path.exists():
            self.done = self._recover()
        else:
            self.path.unlink(missing_ok=True)
        self.fh = self.path.open("ab")

    def _recover(self) -> set[tuple[str, str]]:
        """Keys of complete documents; anything after the last complete document is cut off."""
        done: set[tuple[str, str]] = set()
        keep = 0
        with self.path.open("rb") as fh:
            offset = 0
            for line in fh:
                offset += len(line)
                if not line.endswith(b"\n"):
                    break  # a torn last write
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    break
                if is_closing(record):
                    done.add(doc_key(record.get("path"), record.get("doc_id")))
                    keep = offset
                    if self.on_recovered:
                        self.on_recovered(record)
        with self.path.open("r+b") as fh:
            fh.truncate(keep)
        return done

    def write_document(self, records: list[dict]) -> None:
        data = to_jsonl(records).encode("utf-8")
        self.fh.write(data)  # one write per document: a kill leaves whole documents or a torn tail
        self.fh.flush()

    def finish(self) -> Path:
        """Turn the journal into the final output and move it into place atomically."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        if self.fmt == "jsonl":
            os.replace(self.path, self.output)
            return self.output
        tmp = self.output.with_name(self.output.name + ".tmp")
        if self.fmt == "label-studio":
            from .annotations import write_label_studio

            write_label_studio(read_jsonl(self.path), tmp, self.model_version)
        else:
            (write_csv if self.fmt == "csv" else write_parquet)(read_jsonl(self.path), tmp, self.columns)
        os.replace(tmp, self.output)
        self.path.unlink()
        return self.output

    def close(self) -> None:
        if not self.fh.closed:
            self.fh.flush()
            self.fh.close()


def read_jsonl(path: Path) -> Iterator[dict]:
    with path.open("r", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def write_csv(records: Iterator[dict], path: Path, columns: list[str] = FLAT_COLUMNS) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow(flatten(record, columns))


def write_parquet(
    records: Iterator[dict], path: Path, columns: list[str] = FLAT_COLUMNS, batch_rows: int = 5000
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def kind(c: str):
        if c in INT_COLUMNS:
            return pa.int64()
        return pa.float64() if c in FLOAT_COLUMNS else pa.bool_() if c in BOOL_COLUMNS else pa.string()

    schema = pa.schema([(c, kind(c)) for c in columns])
    with pq.ParquetWriter(str(path), schema) as writer:
        batch: list[dict] = []
        for record in records:
            row = flatten(record, columns)
            batch.append(
                {c: (str(row[c]) if row.get(c) is not None and kind(c) == pa.string() else row.get(c)) for c in columns}
            )
            if len(batch) >= batch_rows:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
