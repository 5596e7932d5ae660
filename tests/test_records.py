"""The record schema in code (stance/records.py) and in the README agree."""

from __future__ import annotations

import re
from typing import get_type_hints

from conftest import REPO

from stance import records


def schema_tables() -> tuple[list[dict[str, str]], str]:
    """The README's record-schema tables, each as first-column field name -> the row's text."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Record schema")
    section = text[start : text.index("\n## ", start + 5)]
    tables: list[dict[str, str]] = []
    for block in section.split("\n\n"):
        rows = {}
        for line in block.splitlines():
            if line.startswith("| `"):
                first, rest = line[1:].split("|", 1)
                for name in re.findall(r"`([^`]+)`", first):
                    rows[name] = rest
        if rows:
            tables.append(rows)
    return tables, section


def schema_rows() -> tuple[dict[str, str], str]:
    tables, section = schema_tables()
    return {name: row for table in tables for name, row in table.items()}, section


def top(name: str) -> str:
    return re.split(r"[.\[]", name)[0]


def test_every_record_field_is_documented_and_every_documented_field_exists():
    rows, section = schema_rows()
    documented = {top(n) for n in rows}
    assert "`record`" in section
    for kind in (records.SentenceRecord, records.SummaryRecord, records.ErrorRecord):
        for field in get_type_hints(kind):
            if field == "record":
                continue
            assert field in documented or f"`{field}`" in section, (kind.__name__, field)
    known = set().union(
        *(get_type_hints(k) for k in (records.SentenceRecord, records.SummaryRecord, records.ErrorRecord))
    )
    assert documented <= known, documented - known


def test_nested_fields_are_documented_in_their_rows():
    (rows, summary_rows), _ = schema_tables()
    assert {"sentences", "framing_index", "stance[]"} <= set(summary_rows)
    voice = {f"voice.{field}" for field in get_type_hints(records.VoiceField)}
    assert voice <= set(rows) and {"framing.score", "framing.flag"} <= set(rows)
    assert set(get_type_hints(records.VoiceField)) == {
        "label",
        "source",
        "score",
        "source_start",
        "source_end",
        "speaker",
    }
    assert set(get_type_hints(records.FramingField)) == {"score", "flag"}
    for row_name, kind in (("loaded_terms[]", records.LoadedTerm), ("stance[]", records.StanceEntry)):
        row = rows[row_name]
        for field in get_type_hints(kind):
            assert f"`{field}`" in row or f"`{field}`/" in row or f"/`{field}`" in row, (row_name, field)


def test_flat_columns_cover_every_scalar_field():
    flat = records.flatten(
        {
            "record": "sentence",
            "doc_id": "d",
            "path": "p",
            "voice": {"label": "quoted", "source": "X"},
            "framing": {"score": 0.5, "flag": False},
            "stance": [],
        }
    )
    assert flat["voice_label"] == "quoted" and flat["framing_flag"] is False and flat["stance"] == "[]"
    assert list(flat) == records.FLAT_COLUMNS


def test_scoring_imports_nothing_from_training():
    import subprocess
    import sys

    code = (
        "import sys, stance.scoring, stance.calibration; "
        "print(sorted(m for m in sys.modules if m.startswith(('stance.', 'pydantic', 'transformers', 'datasets'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for module in (
        "stance.config",
        "stance.training",
        "stance.data",
        "stance.examples",
        "stance.evaluation",
        "pydantic",
        "transformers",
        "datasets",
    ):
        assert f"'{module}'" not in loaded, module
