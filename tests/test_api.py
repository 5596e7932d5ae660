"""The Python API: `stance.load()`, `score_text`, `score_documents`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import stance
from stance.cli import app
from stance.documents import Document


@pytest.fixture(scope="module")
def model(trained):
    return stance.load(trained / "model", device="cpu")


def test_import_stance_is_cheap_and_exposes_the_api():
    import subprocess
    import sys

    code = "import sys, stance; print('torch' in sys.modules, callable(stance.load))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_score_text(model):
    doc = model.score_text("The regime crushed the protest. Officials said it was calm.", targets=["regime"])
    assert [s["sentence_index"] for s in doc.sentences] == [0, 1]
    assert doc.error is None and doc.summary["sentences"] == 2
    assert [(s["target"], s["mention"]) for s in doc.sentences[0]["stance"]] == [("regime", "regime")]
    assert [r["record"] for r in doc] == ["sentence", "sentence", "summary"]
    titled = model.score_text("The council met.", title="Budget Day", doc_id="t1")
    assert titled.sentences[0]["text"] == "Budget Day" and titled.sentences[0]["doc_id"] == "t1"
    with pytest.raises(TypeError, match="expected the article text as a str"):
        model.score_text(["not", "text"])


def test_score_documents_gives_the_records_stance_score_writes(model, trained, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The council met. The radical regime lied.")
    (folder / "b.txt").write_text("")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app, ["score", str(folder), "-m", str(trained / "model"), "-o", str(out), "--device", "cpu"]
    )
    assert result.exit_code == 1  # b.txt is empty
    cli_records = [json.loads(line) for line in out.read_text().splitlines()]
    api_records = list(model.score_documents([folder]))
    assert api_records == cli_records
    mixed = list(
        model.score_documents(
            [
                {"id": "d1", "text": "The mayor spoke."},
                str(folder / "a.txt"),
                Document(doc_id="d3", path="mem", text="Prices rose."),
            ],
            targets=["mayor"],
        )
    )
    assert [r["doc_id"] for r in mixed if r["record"] == "summary"] == ["d1", "a", "d3"]
    assert mixed[0]["stance"][0]["target"] == "mayor"
    with pytest.raises(FileNotFoundError, match="score_text"):
        list(model.score_documents(["The regime lied."]))


def test_scorer_score_on_a_string_says_what_to_do(model):
    with pytest.raises(TypeError, match="score_text"):
        list(model.scorer.score("The regime crushed the protest."))


def test_load_checks_the_device_first(tmp_path):
    with pytest.raises(ValueError, match="expected --device"):
        stance.load(tmp_path / "no-model", device="gpu")


def test_progress_is_reported_after_every_model_batch(model):
    from stance.documents import Document

    scorer = model.scorer
    calls = []
    docs = [Document(f"d{i}", f"d{i}.txt", "The council met. The mayor spoke. Prices rose.") for i in range(4)]
    old = scorer.batch_size
    scorer.batch_size = 2
    try:
        done = list(scorer.score_documents(docs, on_progress=lambda fraction, n: calls.append((round(fraction, 3), n))))
    finally:
        scorer.batch_size = old
    assert len(done) == 4
    # 12 sentences in batches of 2: the bar moves six times before the chunk's documents come out.
    assert [f for f, _ in calls] == [0.167, 0.333, 0.5, 0.667, 0.833, 1.0] and {n for _, n in calls} == {4}
