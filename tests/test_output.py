from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.cli import app
from stance.errors import InputError
from stance.output import Journal

runner = CliRunner()


def test_journal_recovers_complete_documents_and_cuts_a_torn_tail(tmp_path):
    out = tmp_path / "o.jsonl"
    partial = tmp_path / "o.jsonl.partial"
    lines = [
        {"record": "sentence", "doc_id": "a", "path": "a.txt"},
        {"record": "summary", "doc_id": "a", "path": "a.txt"},
        {"record": "error", "doc_id": "b", "path": "b.txt", "error": "x"},
        {"record": "sentence", "doc_id": "c", "path": "c.txt"},
    ]
    partial.write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"record": "sen')
    journal = Journal(out, "jsonl", resume=True)
    assert journal.done == {("a.txt", "a"), ("b.txt", "b")}
    journal.close()
    assert [json.loads(x)["doc_id"] for x in partial.read_text().splitlines()] == ["a", "a", "b"]


def test_journal_refuses_to_clobber(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("")
    with pytest.raises(InputError, match="--force"):
        Journal(out, "jsonl")
    (tmp_path / "p.jsonl.partial").write_text("")
    with pytest.raises(InputError, match="--resume"):
        Journal(tmp_path / "p.jsonl", "jsonl")


def records_by_doc(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out.setdefault(r["doc_id"], []).append(r)
    return out


def test_resume_after_kill_9_loses_and_duplicates_nothing(tmp_path):
    model = tmp_path / "model"
    # A tiny trained-format model, made through the real training command.
    from conftest import build_tiny_base, tiny_config

    base = build_tiny_base(tmp_path / "base")
    result = runner.invoke(app, ["train", str(tiny_config(tmp_path, base, max_steps=2)), "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    os.replace(tmp_path / "run" / "model", model)

    docs = tmp_path / "docs"
    docs.mkdir()
    n_docs = 400
    for i in range(n_docs):
        (docs / f"doc{i:04d}.txt").write_text(
            f"Article {i}. "
            + " ".join(f"The president said the budget rose by {i} percent on Monday." for _ in range(12))
        )
    out = tmp_path / "out.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "stance.cli",
        "score",
        str(docs),
        "-m",
        str(model),
        "-o",
        str(out),
        "--batch-size",
        "1",
        "--auto-targets",
        "0",
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial = out.with_name(out.name + ".partial")
    deadline = time.time() + 120
    while time.time() < deadline and (not partial.exists() or partial.read_text().count('"summary"') < 40):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists(), "the run finished before it could be killed; make it longer"
    done_before = partial.read_text().count('"record": "summary"')
    assert 0 < done_before < n_docs

    resumed = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not partial.exists()
    by_doc = records_by_doc(out)
    assert sorted(by_doc) == [f"doc{i:04d}" for i in range(n_docs)]
    for doc_id, records in by_doc.items():
        assert [r["record"] for r in records].count("summary") == 1, doc_id
        indices = [r["sentence_index"] for r in records if r["record"] == "sentence"]
        assert indices == list(range(len(indices))) and len(indices) == 13, doc_id
    # Documents stay in sorted path order across the resume.
    order = [json.loads(line)["doc_id"] for line in out.read_text().splitlines()]
    assert order == sorted(order)
