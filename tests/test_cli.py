from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, tiny_config
from stance.cli import app

runner = CliRunner()


def test_train_writes_a_complete_model(trained):
    model = trained / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "metrics.json", "README.md"):
        assert (model / name).exists(), name
    config = json.loads((model / "config.json").read_text())
    assert config["weights"]["dtype"] == "float16"
    metrics = json.loads((model / "metrics.json").read_text())
    assert "babe/framing_macro_f1" in metrics["validation"]["headline"]
    log = [json.loads(line) for line in (trained / "train_log.jsonl").read_text().splitlines()]
    assert any("eval" in r for r in log) and any("loss/framing" in r for r in log)
    assert "Intended use" in (model / "README.md").read_text()


def test_train_rejects_unknown_override(tmp_path, tiny_base):
    result = runner.invoke(app, ["train", str(tiny_config(tmp_path, tiny_base)), "training.epoch=3", "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "training.epoch" in result.output


def test_resume_continues_to_the_same_step_count(tmp_path, tiny_base):
    import subprocess
    import sys
    import time

    config = tiny_config(tmp_path, tiny_base, epochs=40, patience=1000)
    out = tmp_path / "run"
    # A real process, killed hard once it has written a checkpoint.
    proc = subprocess.Popen([sys.executable, "-m", "stance.cli", "train", str(config), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "checkpoint" / "trainer_state.json").exists():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    state = json.loads((out / "checkpoint" / "trainer_state.json").read_text())["state"]
    assert 0 < state["step"]
    result = runner.invoke(app, ["train", str(config), "-o", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    starts = [r for r in log if r.get("event") == "start"]
    assert starts[-1]["resumed_at_step"] >= state["step"] > 0
    end = [r for r in log if r.get("event") == "end"][-1]
    assert end["step"] == starts[-1]["total_steps"]


def test_evaluate_prints_and_writes_metrics(trained, tmp_path):
    out = tmp_path / "m.json"
    result = runner.invoke(app, ["evaluate", str(trained / "model"), "babe:babe", "ptc:ptc@validation",
                                 "newsmtsc:newsmtsc/train.jsonl", "--data-root", str(FIXTURES), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "framing_macro_f1" in result.output and "stance_macro_f1" in result.output
    report = json.loads(out.read_text())
    babe = report["results"]["babe:babe"]
    assert set(babe) == {"framing", "loaded_terms"}
    assert "confusion_matrix" in babe["framing"] and "ece" in babe["framing"]
    assert set(babe["loaded_terms"]["span"]) == {"exact", "overlap"}


def test_evaluate_bad_spec(trained):
    result = runner.invoke(app, ["evaluate", str(trained / "model"), "babe"])
    assert result.exit_code == 2
    assert "ADAPTER:PATH" in result.output


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_score_text_folder_and_jsonl(trained, tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "b.txt").write_text("The president said the budget rose. The radical regime lied!\n")
    (docs / "sub" / "a.txt").write_text("Iraq and the US met. Washington agreed.")
    (docs / "c.jsonl").write_text(
        json.dumps({"id": "j1", "text": "Trump praised Biden.", "targets": ["Biden", {"text": "Trump", "start": 0, "end": 5}]})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(docs), "-m", str(trained / "model"), "-o", str(out),
                                 "--target", "United States=US,Washington", "--threshold", "0.4"])
    assert result.exit_code == 0, result.output
    records = read_records(out)
    sentences = [r for r in records if r["record"] == "sentence"]
    assert [(r["doc_id"], r["sentence_index"]) for r in sentences] == [("b", 0), ("b", 1), ("j1", 0), ("a", 0), ("a", 1)]
    assert [r["record"] for r in records].count("summary") == 3
    for r in sentences:
        assert {"doc_id", "path", "sentence_index", "start", "end", "text", "framing", "loaded_terms", "stance", "voice"} <= set(r)
        assert 0.0 <= r["framing"]["score"] <= 1.0
        assert r["framing"]["flag"] == (r["framing"]["score"] >= 0.4 and r["voice"]["label"] == "editorial")
    a0 = sentences[3]
    assert [(s["target"], s["mention"]) for s in a0["stance"]] == [("United States", "US")]
    assert set(a0["stance"][0]["scores"]) == {"against", "neutral", "favor"}
    assert [s["target"] for s in sentences[4]["stance"]] == ["United States"]
    j1 = sentences[2]
    assert sorted(s["target"] for s in j1["stance"]) == ["Biden", "Trump"]  # the user's names are kept
    text = (docs / "sub" / "a.txt").read_text()
    assert text[a0["start"] : a0["end"]] == a0["text"]
    assert text[a0["stance"][0]["start"] : a0["stance"][0]["end"]] == "US"
    assert "corpus summary" in result.output


def test_score_bad_files_give_error_records_and_exit_1(trained, tmp_path):
    (tmp_path / "good.txt").write_text("The council met on Monday.")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "bad.jsonl").write_text('{"id": "x", "text": "fine."}\n{not json\n')
    with (tmp_path / "huge.txt").open("wb") as fh:
        fh.truncate(50_000_000)  # 50 MB
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(tmp_path), "-m", str(trained / "model"), "-o", str(out)])
    assert result.exit_code == 1
    records = read_records(out)
    errors = {r["path"].split("/")[-1]: r["error"] for r in records if r["record"] == "error"}
    assert set(errors) == {"bad.jsonl:2", "bin.txt", "empty.txt", "huge.txt"}
    assert "binary" in errors["bin.txt"] and "empty" in errors["empty.txt"] and "MB" in errors["huge.txt"]
    assert sum(r["record"] == "sentence" for r in records) == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_score_tabular_formats(trained, tmp_path, fmt):
    import pandas as pd

    (tmp_path / "a.txt").write_text("The council met. The mayor said it was fine.")
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(trained / "model"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert list(frame["record"]) == ["sentence", "sentence", "summary"]
    assert {"framing_score", "framing_flag", "voice_label", "loaded_terms", "stance"} <= set(frame.columns)
    assert list(frame["voice_label"][:2]) == ["editorial", "attributed"]


def test_score_stdin(trained):
    result = runner.invoke(app, ["score", "-", "-m", str(trained / "model")], input="The council met on Monday.")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout.splitlines()[0])
    assert first["doc_id"] == "stdin" and first["text"] == "The council met on Monday."


def test_show_renders_an_article(trained, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text('Title\n\nThe regime attacked. "They are thugs," said the leader.')
    result = runner.invoke(app, ["show", str(path), "-m", str(trained / "model"), "-t", "regime"])
    assert result.exit_code == 0, result.output
    assert "The regime attacked." in result.output and "stance per target" in result.output
    assert "regime:" in result.output


def test_score_usage_errors_exit_2(trained, tmp_path):
    (tmp_path / "a.txt").write_text("Hello.")
    assert runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(trained / "model"), "--format", "xml",
                               "-o", str(tmp_path / "o")]).exit_code == 2
    assert runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(trained / "model"), "--resume"]).exit_code == 2


def test_score_refuses_to_overwrite(trained, tmp_path):
    (tmp_path / "a.txt").write_text("Hello.")
    out = tmp_path / "out.jsonl"
    out.write_text("")
    result = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(trained / "model"), "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output


def test_score_missing_model_is_a_clear_error(tmp_path):
    (tmp_path / "a.txt").write_text("Hello.")
    result = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(tmp_path / "nomodel")])
    assert result.exit_code == 2 and "expected a stance model directory" in result.output


def test_an_unexpected_failure_in_one_document_does_not_end_the_run(trained, tmp_path, monkeypatch):
    import stance.scoring

    real = stance.scoring.split_sentences

    def flaky(text):
        if "poison" in text:
            raise RecursionError("boom")
        return real(text)

    monkeypatch.setattr(stance.scoring, "split_sentences", flaky)
    (tmp_path / "a.txt").write_text("The council met.")
    (tmp_path / "b.txt").write_text("A poison pill.")
    (tmp_path / "c.txt").write_text("The mayor spoke.")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(tmp_path), "-m", str(trained / "model"), "-o", str(out)])
    assert result.exit_code == 1
    records = read_records(out)
    assert [r["doc_id"] for r in records if r["record"] == "summary"] == ["a", "c"]
    (error,) = [r for r in records if r["record"] == "error"]
    assert error["doc_id"] == "b" and "RecursionError" in error["error"]
