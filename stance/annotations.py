"""Annotation tools, both ways: doccano and Label Studio exports in, Label Studio pre-annotations out.

Reading. Users label sentences in doccano or Label Studio with label names of their own choosing
("BIASED", "Loaded", "insult"...). A dataset's `labels:` map says what each name means for the heads:

    editorial / neutral              a sentence label: the framing head's target (1 / 0)
    loaded_language / name_calling   a span label: a loaded term of that category
    ignore                           a label the heads do not use

Names equal to a meaning need no entry. Every label in the file is checked: one that is neither
mapped nor a meaning is an error naming the file, the row and the labels that are known, never a
silent "neutral". A file with any span label is span-labelled throughout: a row without spans then
means "nothing loaded here".

Writing. `stance score --format label-studio` writes one Label Studio task per sentence with the
model's guesses as `predictions`, least certain first, so that correcting them is the fastest way to
label. Importing the corrected export (adapter `label-studio`) gives back exactly the edited labels.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError
from .examples import Example, Span, normalize_text
from .labels import LOADED_CATEGORIES

FRAMING_MEANINGS = {"editorial": 1.0, "neutral": 0.0}
MEANINGS = (*FRAMING_MEANINGS, *LOADED_CATEGORIES, "ignore")
QUESTION = "???"  # what `stance init-config` writes for a label it cannot guess
# The label names Label Studio tasks are written with (and so read back with, by default).
LS_FRAMING, LS_SPANS, LS_TEXT = "framing", "loaded_terms", "text"


@dataclass
class RawRow:
    """One annotated sentence as the tool exported it, before its label names are interpreted."""

    text: str
    classes: list[str]
    spans: list[tuple[int, int, str]]
    group: str | None
    where: str


@dataclass
class LabelMap:
    """A dataset's `labels:` map, checked: label name (case-insensitive) -> meaning."""

    names: dict[str, str] = field(default_factory=dict)
    path: str = ""

    @classmethod
    def from_config(cls, labels: dict[str, str], path: Path | str) -> LabelMap:
        names = {}
        for name, meaning in labels.items():
            meaning = QUESTION if meaning is None else str(meaning).strip().lower()
            if meaning not in MEANINGS and meaning != QUESTION:
                raise DataError(
                    f"{path}: expected the label {name!r} to mean one of {', '.join(MEANINGS)} under `labels:`, "
                    f"found {meaning!r}; fix the dataset's `labels:` entry"
                )
            names[str(name).strip().lower()] = meaning
        return cls(names, str(path))

    def meaning(self, label: str, where: str) -> str:
        key = str(label).strip().lower()
        meaning = self.names.get(key, key if key in MEANINGS else None)
        if meaning == QUESTION:
            raise DataError(
                f"{where}: the config leaves the meaning of the label {label!r} an open question ({QUESTION}); "
                f"answer it under the dataset's `labels:` with one of {', '.join(MEANINGS)}"
            )
        if meaning is None:
            known = sorted(set(self.names) | set(MEANINGS))
            raise DataError(
                f"{where}: expected a label from {known}, found {label!r}; map it under the dataset's "
                f"`labels:` (`{label}: editorial`, `neutral`, `loaded_language`, `name_calling` or `ignore`)"
            )
        return meaning


# ---------------------------------------------------------------------------- reading


def _check_span(text: str, start: Any, end: Any, where: str) -> tuple[int, int]:
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise DataError(f"{where}: expected integer span offsets, found start={start!r} end={end!r}") from None
    if not 0 <= start < end <= len(text):
        raise DataError(
            f"{where}: expected a span inside the text (0 <= start < end <= {len(text)}), found [{start}, {end}]; "
            "was the text edited after labelling?"
        )
    return start, end


def _doccano_labels(row: dict, text: str, where: str) -> tuple[list[str], list[tuple[int, int, str]]]:
    """doccano exports: `label` (or `labels`) holds class names or [start, end, TAG] triples;
    newer versions put spans under `entities` as {start_offset, end_offset, label}."""
    classes, spans = [], []
    labels = row.get("label", row.get("labels", []))
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list):
        raise DataError(f"{where}: expected `label` to be a list of labels or spans, found {labels!r}")
    for item in labels:
        if isinstance(item, str):
            classes.append(item)
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            spans.append((*_check_span(text, item[0], item[1], where), str(item[2])))
        else:
            raise DataError(f"{where}: expected a label name or a [start, end, label] span, found {item!r}")
    for ent in row.get("entities") or []:
        if not isinstance(ent, dict) or "label" not in ent:
            raise DataError(f"{where}: expected entities as {{start_offset, end_offset, label}}, found {ent!r}")
        spans.append((*_check_span(text, ent.get("start_offset"), ent.get("end_offset"), where), str(ent["label"])))
    return classes, spans


def read_doccano_rows(path: Path, text_key: str = "text") -> list[RawRow]:
    rows = []
    with Path(path).open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}: line {i}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{where}: expected one JSON object per line (doccano JSONL), found bad JSON ({exc})"
                ) from None
            if not isinstance(row, dict) or not isinstance(row.get(text_key), str):
                raise DataError(f"{where}: expected an object with a {text_key!r} string, found {str(row)[:80]!r}")
            text = row[text_key]
            classes, spans = _doccano_labels(row, text, where)
            rows.append(RawRow(text, classes, spans, _group(row), where))
    return rows


def _group(obj: dict) -> str | None:
    value = obj.get("group", (obj.get("meta") or {}).get("group") if isinstance(obj.get("meta"), dict) else None)
    return None if value is None else str(value)


def _ls_annotation(task: dict, where: str) -> dict | None:
    """The task's newest annotation that was not cancelled; None for an unlabelled task (its
    `predictions` are the model's guesses, not labels)."""
    done = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not done:
        return None
    return max(done, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), done.index(a)))


def read_label_studio_rows(path: Path, text_key: str = "text") -> list[RawRow]:
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: expected a Label Studio JSON export (a list of tasks), found bad JSON ({exc})"
        ) from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise DataError(f"{path}: expected a Label Studio JSON export (a list of tasks), found {type(tasks).__name__}")
    rows = []
    for i, task in enumerate(tasks):
        where = f"{path}: task {i} (id {task.get('id', '?') if isinstance(task, dict) else '?'})"
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get(text_key), str):
            raise DataError(f"{where}: expected data.{text_key} to hold the sentence, found {str(task)[:80]!r}")
        annotation = _ls_annotation(task, where)
        if annotation is None:
            continue
        text, classes, spans = data[text_key], [], []
        for result in annotation.get("result") or []:
            value = result.get("value") or {}
            if result.get("type") == "choices":
                classes += list(value.get("choices") or [])
            elif result.get("type") == "labels":
                for label in value.get("labels") or []:
                    spans.append((*_check_span(text, value.get("start"), value.get("end"), where), str(label)))
        rows.append(RawRow(text, classes, spans, _group(data), where))
    return rows


def to_examples(rows: list[RawRow], labels: LabelMap, source: str) -> list[Example]:
    """Interpret every row's label names through `labels`; unknown names are errors."""
    span_labelled = any(row.spans for row in rows) or any(m in LOADED_CATEGORIES for m in labels.names.values())
    examples = []
    for row in rows:
        framing = {FRAMING_MEANINGS[m] for m in (labels.meaning(c, row.where) for c in row.classes) if m != "ignore"}
        if any(m in LOADED_CATEGORIES for m in (labels.meaning(c, row.where) for c in row.classes)):
            raise DataError(f"{row.where}: expected a loaded-term label on a span, found it on the whole sentence")
        if len(framing) > 1:
            raise DataError(f"{row.where}: expected one framing label, found both editorial and neutral labels")
        spans = []
        for start, end, tag in row.spans:
            meaning = labels.meaning(tag, row.where)
            if meaning in FRAMING_MEANINGS:
                raise DataError(f"{row.where}: expected {tag!r} ({meaning}) on a whole sentence, found it on a span")
            if meaning != "ignore":
                spans.append(Span(start, end, meaning))
        examples.append(
            Example(
                text=row.text,
                source=source,
                group=row.group or normalize_text(row.text),
                framing=framing.pop() if framing else None,
                spans=sorted(spans, key=lambda s: (s.start, s.end)) if span_labelled else None,
            )
        )
    return examples


def read_doccano(path: Path, labels: dict[str, str] | None = None, text_key: str = "text", **_: object):
    return to_examples(read_doccano_rows(path, text_key), LabelMap.from_config(labels or {}, path), Path(path).stem)


def read_label_studio(path: Path, labels: dict[str, str] | None = None, text_key: str = "text", **_: object):
    rows = read_label_studio_rows(path, text_key)
    return to_examples(rows, LabelMap.from_config(labels or {}, path), Path(path).stem)


READERS = {"doccano": read_doccano_rows, "label-studio": read_label_studio_rows}


def sniff(path: Path) -> str | None:
    """doccano, label-studio, or None (a plain table) by looking at the file's first record."""
    path = Path(path)
    if path.suffix.lower() not in (".json", ".jsonl"):
        return None
    with path.open(encoding="utf-8") as fh:
        head = fh.read(1 << 16).lstrip()
    if head.startswith("["):
        return "label-studio" if '"annotations"' in head or '"data"' in head else None
    first = head.splitlines()[0] if head else ""
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return None
    if isinstance(row, dict) and ("data" in row and ("annotations" in row or "predictions" in row)):
        return "label-studio"
    if isinstance(row, dict) and any(k in row for k in ("label", "labels", "entities")):
        return "doccano"
    return None


def label_counts(rows: Iterable[RawRow]) -> tuple[Counter, Counter]:
    """How often each sentence label and each span label occurs (for `stance init-config`)."""
    classes, spans = Counter(), Counter()
    for row in rows:
        classes.update(row.classes)
        spans.update(tag for _, _, tag in row.spans)
    return classes, spans


# ---------------------------------------------------------------------------- writing


def _uncertainty(record: dict) -> float:
    """1 at P(editorial) = 0.5, 0 at 0 or 1: how much a human look is worth."""
    score = (record.get("framing") or {}).get("score")
    return 0.0 if score is None else 1.0 - 2.0 * abs(score - 0.5)


def label_studio_task(record: dict, model_version: str) -> dict:
    """One sentence record as a Label Studio task whose `predictions` are the model's labels."""
    text, offset = record["text"], record["start"]
    result = []
    if record.get("framing") is not None:
        score = record["framing"]["score"]
        result.append(
            {
                "from_name": LS_FRAMING,
                "to_name": LS_TEXT,
                "type": "choices",
                "value": {"choices": ["editorial" if score >= 0.5 else "neutral"]},
                "score": round(max(score, 1.0 - score), 4),
            }
        )
    for i, term in enumerate(record.get("loaded_terms") or []):
        start, end = term["start"] - offset, term["end"] - offset
        result.append(
            {
                "id": f"t{i}",
                "from_name": LS_SPANS,
                "to_name": LS_TEXT,
                "type": "labels",
                "value": {"start": start, "end": end, "text": text[start:end], "labels": [term["category"]]},
                "score": term["score"],
            }
        )
    return {
        "data": {
            LS_TEXT: text,
            "group": record["doc_id"],  # keeps an article's sentences in one split when read back
            "doc_id": record["doc_id"],
            "path": record["path"],
            "sentence_index": record["sentence_index"],
            "voice": record["voice"]["label"],
        },
        "predictions": [
            {"model_version": model_version, "score": round(1 - _uncertainty(record), 4), "result": result}
        ],
    }


def label_studio_tasks(records: Iterable[dict], model_version: str = "stance") -> list[dict]:
    """Sentence records as tasks, least certain framing first (ties in reading order)."""
    sentences = [r for r in records if r.get("record") == "sentence"]
    order = sorted(range(len(sentences)), key=lambda i: (-_uncertainty(sentences[i]), i))
    return [label_studio_task(sentences[i], model_version) for i in order]


def write_label_studio(records: Iterable[dict], path: Path, model_version: str = "stance") -> None:
    tasks = label_studio_tasks(records, model_version)
    Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# The labelling interface the written tasks fit: paste it into the Label Studio project's
# Settings > Labeling Interface.
LABEL_STUDIO_CONFIG = f"""<View>
  <Labels name="{LS_SPANS}" toName="{LS_TEXT}">
    <Label value="loaded_language" background="#f4a261"/>
    <Label value="name_calling" background="#e76f51"/>
  </Labels>
  <Text name="{LS_TEXT}" value="${LS_TEXT}"/>
  <Choices name="{LS_FRAMING}" toName="{LS_TEXT}" choice="single" showInline="true">
    <Choice value="editorial"/>
    <Choice value="neutral"/>
  </Choices>
</View>
"""
