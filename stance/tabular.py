"""Generic CSV / JSONL / Parquet corpora with a column mapping, read through `datasets`.

This is how users retrain on their own labelled data. Columns (all but `text` optional):

- `text`: the sentence;
- `framing`: a label; values listed in `framing_positive` (case-insensitive) mean editorial,
  numbers in [0, 1] are used as they are (soft labels), anything else means neutral;
- `loaded_terms`: a list of `{start, end, category}` objects, `[start, end, category]` triples,
  or plain words (matched back into the text like BABE's biased words);
- `targets`: a list of `{start, end, label}` or `{mention, label}` objects, label against/neutral/favor;
- `group`: rows sharing a group stay in the same split (e.g. an article id).

Cells may hold the list itself (JSONL, Parquet) or its JSON text (CSV).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .alignment import align_words, merge_spans
from .defaults import FRAMING_POSITIVE
from .errors import DataError
from .examples import Example, Span, TargetLabel, normalize_text
from .labels import LOADED_CATEGORIES, STANCE_LABELS

FIELDS = ("text", "framing", "loaded_terms", "targets", "group")


def known_fields() -> list[str]:
    """FIELDS, plus the name of every other registered sentence-level head (its column holds a label)."""
    from .heads import HEADS

    return list(FIELDS) + [n for n, h in HEADS.items() if n not in FIELDS and h.level == "sentence"]


BUILDERS = {".csv": "csv", ".tsv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def _load_table(path: Path) -> Any:
    from datasets import disable_progress_bars, load_dataset

    disable_progress_bars()  # a bar per small table is noise in the terminal

    builder = BUILDERS.get(path.suffix.lower())
    if builder is None:
        raise DataError(
            f"expected a .csv, .tsv, .jsonl, .json or .parquet file, found {path.name!r}; convert it to one of these"
        )
    kwargs = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
    return load_dataset(builder, data_files=str(path), split="train", **kwargs)


def _maybe_json(cell: Any) -> Any:
    if isinstance(cell, str) and cell.strip()[:1] in ("[", "{"):
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return cell
    return cell


def _framing(value: Any, positive: set[str]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        if not 0.0 <= float(value) <= 1.0:
            raise DataError(f"expected a framing value in [0, 1], found {value}; map your labels to 0/1")
        return float(value)
    return 1.0 if str(value).strip().lower() in positive else 0.0


def _spans(text: str, cell: Any) -> list[Span]:
    cell = _maybe_json(cell)
    if cell is None:
        return []
    if isinstance(cell, str):
        cell = [w for w in cell.split(",") if w.strip()]
    spans, words = [], []
    for item in cell:
        if isinstance(item, str):
            words.append(item)
        elif isinstance(item, dict):
            spans.append(Span(int(item["start"]), int(item["end"]), item.get("category", LOADED_CATEGORIES[0])))
        else:
            start, end, *rest = item
            spans.append(Span(int(start), int(end), rest[0] if rest else LOADED_CATEGORIES[0]))
    spans.extend(align_words(text, words)[0])
    return merge_spans(spans)


def _targets(text: str, cell: Any, where: str) -> list[TargetLabel]:
    cell = _maybe_json(cell) or []
    out = []
    for item in cell:
        label = str(item.get("label", "")).lower()
        if label not in STANCE_LABELS:
            raise DataError(f"{where}: expected a target label in {STANCE_LABELS}, found {label!r}")
        if "start" in item:
            start, end = int(item["start"]), int(item["end"])
        else:
            start = text.find(item["mention"])
            if start < 0:
                raise DataError(f"{where}: target mention {item['mention']!r} does not occur in the text")
            end = start + len(item["mention"])
        out.append(TargetLabel(start, end, label))
    return out


def parse_columns(options: list[str]) -> dict[str, str]:
    """`text=sentence,framing=label` (repeatable) as a column mapping, checked against FIELDS."""
    mapping: dict[str, str] = {}
    for option in options:
        for pair in option.split(","):
            field_name, sep, column = (x.strip() for x in pair.partition("="))
            if not sep or not field_name or not column:
                raise DataError(
                    f"expected --columns FIELD=COLUMN pairs such as text=sentence,framing=label, found {pair!r}"
                )
            if field_name not in known_fields():
                raise DataError(f"expected --columns fields from {known_fields()}, found {field_name!r}")
            mapping[field_name] = column
    return mapping


def load_table(
    path: Path,
    columns: dict[str, str] | None = None,
    framing_positive: list[str] | None = None,
    source: str | None = None,
    **_: object,
) -> list[Example]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"expected a data file at {path}, found nothing; check the dataset path")
    mapping = {f: f for f in FIELDS} | (columns or {})
    unknown = set(mapping) - set(known_fields())
    if unknown:
        raise DataError(f"expected column mapping keys from {known_fields()}, found {sorted(unknown)}")
    other_heads = [f for f in mapping if f not in FIELDS]
    table = _load_table(path)
    present = set(table.column_names)
    if mapping["text"] not in present:
        raise DataError(
            f"{path}: expected a text column named {mapping['text']!r}, found only the columns {sorted(present)}. "
            "Map your columns: `columns: {text: <your column>, framing: <label column>}` in a training config, "
            "or `--columns text=<your column>,framing=<label column>` on `stance evaluate`"
        )
    positive = {p.lower() for p in (framing_positive or FRAMING_POSITIVE)}
    source = source or path.stem
    examples = []
    for i, row in enumerate(table):
        text = row[mapping["text"]]
        if not text or not str(text).strip():
            continue
        text = str(text)
        where = f"{path}: row {i}"

        def get(field: str, row: dict = row) -> Any:
            return row.get(mapping[field]) if mapping[field] in present else None

        framing = _framing(get("framing"), positive) if mapping["framing"] in present else None
        spans = _spans(text, get("loaded_terms")) if mapping["loaded_terms"] in present else None
        targets = _targets(text, get("targets"), where) if mapping["targets"] in present else None
        group = get("group")
        examples.append(
            Example(
                text=text,
                source=source,
                group=str(group) if group is not None else normalize_text(text),
                framing=framing,
                spans=spans,
                targets=targets,
                labels=_head_labels(other_heads, get, where),
            )
        )
    return examples


def _head_labels(names: list[str], get, where: str) -> dict[str, Any]:
    """Labels of other sentence-level heads, checked against each head's label set."""
    from .heads import HEADS

    labels = {}
    for name in names:
        value = get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            HEADS[name].to_ids(value)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{where}: {exc}") from None
        labels[name] = value
    return labels
