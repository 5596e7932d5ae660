"""Generic CSV / JSONL / Parquet corpora with a column mapping, read through `datasets`.

This is how users retrain on their own labelled data. Columns (all but `text` optional):

- `text`: the sentence;
- `framing`: a label; values listed in `framing_positive` (case-insensitive) mean editorial, those in
  `framing_negative` neutral, numbers in [0, 1] are used as they are (soft labels); a one-element
  list (`["BIASED"]`, as annotation tools export) is its element; anything else is an error naming
  the row, unless the dataset's `labels:` maps it;
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
from .annotations import FRAMING_MEANINGS, LabelMap
from .defaults import FRAMING_NEGATIVE, FRAMING_POSITIVE
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


def _framing(value: Any, positive: set[str], negative: set[str], labels, where: str) -> float | None:
    """A framing cell: a number in [0, 1], a boolean, or a label name, possibly inside the one-element
    list that annotation tools export (`["BIASED"]`). Unknown names are errors, never "neutral"."""
    value = _maybe_json(value)
    if isinstance(value, list):
        names = {str(v) for v in value}
        if len(names) > 1:
            raise DataError(f"{where}: expected one framing label per row, found {sorted(names)}")
        value = value[0] if value else None
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        if not 0.0 <= float(value) <= 1.0:
            raise DataError(f"{where}: expected a framing value in [0, 1], found {value}; map your labels to 0/1")
        return float(value)
    key = str(value).strip().lower()
    if key in labels.names:
        meaning = labels.meaning(key, where)
        if meaning not in FRAMING_MEANINGS and meaning != "ignore":
            raise DataError(f"{where}: expected a sentence label for the framing column, found {value!r} ({meaning})")
        return FRAMING_MEANINGS.get(meaning)
    if key in positive:
        return 1.0
    if key in negative:
        return 0.0
    raise DataError(
        f"{where}: expected a framing label from {sorted(positive)} (editorial) or {sorted(negative)} (neutral), "
        f"found {value!r}; list it in the dataset's framing_positive / framing_negative, or map it under `labels:`"
    )


def _category(name: str, labels, where: str) -> str | None:
    """A span's category: a loaded-term category, or a label `labels:` maps to one (None: ignore)."""
    meaning = labels.meaning(name, where) if name.strip().lower() in labels.names else name
    if meaning == "ignore":
        return None
    if meaning not in LOADED_CATEGORIES:
        raise DataError(
            f"{where}: expected a loaded-term category from {list(LOADED_CATEGORIES)}, found {name!r}; "
            "map it under the dataset's `labels:` (to loaded_language, name_calling or ignore)"
        )
    return meaning


def _spans(text: str, cell: Any, labels, where: str) -> list[Span]:
    cell = _maybe_json(cell)
    if cell is None:
        return []
    if isinstance(cell, str):
        cell = [w for w in cell.split(",") if w.strip()]
    spans, words = [], []
    for item in cell:
        if isinstance(item, str):
            words.append(item)
            continue
        try:
            if isinstance(item, dict):
                start, end, category = int(item["start"]), int(item["end"]), item.get("category", LOADED_CATEGORIES[0])
            else:
                start, end, *rest = item
                start, end, category = int(start), int(end), rest[0] if rest else LOADED_CATEGORIES[0]
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"{where}: expected loaded terms as words, {{start, end, category}} objects or [start, end, category] "
                f"triples, found {item!r}"
            ) from None
        if not 0 <= start < end <= len(text):
            raise DataError(f"{where}: expected a span inside the text (0..{len(text)}), found [{start}, {end}]")
        category = _category(str(category), labels, where)
        if category is not None:
            spans.append(Span(start, end, category))
    spans.extend(align_words(text, words)[0])
    return merge_spans(spans)


def _targets(text: str, cell: Any, where: str) -> list[TargetLabel]:
    cell = _maybe_json(cell) or []
    out = []
    for item in cell:
        if not isinstance(item, dict) or not ({"start", "end"} <= set(item) or "mention" in item):
            raise DataError(
                f"{where}: expected targets as {{start, end, label}} or {{mention, label}} objects, found {item!r}"
            )
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


def parse_pairs(options: list[str], flag: str, shape: str, example: str) -> dict[str, str]:
    """`a=b,c=d` options (repeatable) as a mapping; a malformed pair is an error naming `flag`."""
    mapping: dict[str, str] = {}
    for option in options:
        for pair in option.split(","):
            key, sep, value = (x.strip() for x in pair.partition("="))
            if not sep or not key or not value:
                raise DataError(f"expected {flag} {shape} pairs such as {example}, found {pair!r}")
            mapping[key] = value
    return mapping


def parse_columns(options: list[str]) -> dict[str, str]:
    """`text=sentence,framing=label` (repeatable) as a column mapping, checked against FIELDS."""
    mapping = parse_pairs(options, "--columns", "FIELD=COLUMN", "text=sentence,framing=label")
    for field_name in mapping:
        if field_name not in known_fields():
            raise DataError(f"expected --columns fields from {known_fields()}, found {field_name!r}")
    return mapping


def load_table(
    path: Path,
    columns: dict[str, str] | None = None,
    framing_positive: list[str] | None = None,
    framing_negative: list[str] | None = None,
    labels: dict[str, str | None] | None = None,
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
    negative = {p.lower() for p in (framing_negative or FRAMING_NEGATIVE)}
    label_map = LabelMap.from_config(labels or {}, path)
    source = source or path.stem
    examples = []
    for i, row in enumerate(table):
        text = row[mapping["text"]]
        if not text or not str(text).strip():
            continue
        text = str(text)
        where = f"{path}: row {i + 1}"  # 1-based: the first data row

        def get(field: str, row: dict = row) -> Any:
            return row.get(mapping[field]) if mapping[field] in present else None

        framing = (
            _framing(get("framing"), positive, negative, label_map, where) if mapping["framing"] in present else None
        )
        spans = _spans(text, get("loaded_terms"), label_map, where) if mapping["loaded_terms"] in present else None
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
