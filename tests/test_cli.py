from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, tiny_config
from typer.testing import CliRunner

from stance.cli import app
from stance.records import speaks_for_outlet

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
    result = runner.invoke(
        app, ["train", str(tiny_config(tmp_path, tiny_base)), "training.epoch=3", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert "training.epoch" in result.output


def test_resume_continues_to_the_same_step_count(tmp_path, tiny_base):
    import subprocess
    import sys
    import time

    config = tiny_config(tmp_path, tiny_base, epochs=40, patience=1000)
    out = tmp_path / "run"
    # A real process, killed hard once it has written a checkpoint.
    proc = subprocess.Popen(
        [sys.executable, "-m", "stance.cli", "train", str(config), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not (out / "checkpoint" / "trainer_state.json").exists():
        time.sleep(0.2)
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    state = json.loads((out / "checkpoint" / "trainer_state.json").read_text())["state"]
    assert state["step"] > 0
    result = runner.invoke(app, ["train", str(config), "-o", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    starts = [r for r in log if r.get("event") == "start"]
    assert starts[-1]["resumed_at_step"] >= state["step"] > 0
    end = [r for r in log if r.get("event") == "end"][-1]
    assert end["step"] == starts[-1]["total_steps"]


def test_evaluate_prints_and_writes_metrics(trained, tmp_path):
    out = tmp_path / "m.json"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(trained / "model"),
            "babe:babe",
            "ptc:ptc@validation",
            "newsmtsc:newsmtsc/train.jsonl",
            "--data-root",
            str(FIXTURES),
            "-o",
            str(out),
        ],
    )
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
        json.dumps(
            {"id": "j1", "text": "Trump praised Biden.", "targets": ["Biden", {"text": "Trump", "start": 0, "end": 5}]}
        )
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        [
            "score",
            str(docs),
            "-m",
            str(trained / "model"),
            "-o",
            str(out),
            "--target",
            "United States=US,Washington",
            "--threshold",
            "0.4",
        ],
    )
    assert result.exit_code == 0, result.output
    records = read_records(out)
    sentences = [r for r in records if r["record"] == "sentence"]
    assert [(r["doc_id"], r["sentence_index"]) for r in sentences] == [
        ("b", 0),
        ("b", 1),
        ("j1", 0),
        ("a", 0),
        ("a", 1),
    ]
    assert [r["record"] for r in records].count("summary") == 3
    for r in sentences:
        assert {
            "doc_id",
            "path",
            "sentence_index",
            "start",
            "end",
            "text",
            "framing",
            "loaded_terms",
            "stance",
            "voice",
        } <= set(r)
        assert 0.0 <= r["framing"]["score"] <= 1.0
        # The outlet's slant: an editorial sentence, or its own loaded words around reported speech.
        assert r["framing"]["flag"] == (r["framing"]["score"] >= 0.4 and speaks_for_outlet(r))
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
    assert (
        runner.invoke(
            app,
            [
                "score",
                str(tmp_path / "a.txt"),
                "-m",
                str(trained / "model"),
                "--format",
                "xml",
                "-o",
                str(tmp_path / "o"),
            ],
        ).exit_code
        == 2
    )
    assert (
        runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(trained / "model"), "--resume"]).exit_code == 2
    )


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


# ---------------------------------------------------------------------------- a newcomer's first hour


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--device", "gpu"], "expected --device auto, cpu, cuda, cuda:N or mps, found 'gpu'"),
        (["-o", "{tmp}/nodir/sub/out.jsonl"], "mkdir -p"),
        (["-o", "{tmp}", "--force"], "found the folder"),
        (["-o", "{tmp}/out.csv", "--format", "jsonl"], "expected -o to end in .jsonl for --format jsonl"),
        (["-o", "{tmp}/out.txt"], "expected -o to end in .jsonl, .csv, .parquet or .json"),
        (["{tmp}/no-such-article.txt"], "no such path"),
        (["--precision", "int4"], "expected --precision"),
        (["--backend", "tensorflow"], "expected --backend to be one of auto, onnx, torch"),
        (["--workers", "-1"], "expected --workers and --gpus-per-actor >= 0"),
        (["--gpus-per-actor", "1"], "expected --engine ray with --gpus-per-actor"),
    ],
)
def test_usage_errors_exit_2_in_one_line_before_the_model_loads(tmp_path, extra, expected):
    (tmp_path / "a.txt").write_text("The council met.")
    # The model path does not exist: an error about it would mean the model was being loaded.
    args = ["score", str(tmp_path / "a.txt"), "-m", str(tmp_path / "no-model")]
    result = runner.invoke(app, args + [a.format(tmp=tmp_path) for a in extra])
    assert result.exit_code == 2
    line = one_line_error(result)
    assert expected in line and "stance model directory" not in line


def test_cuda_without_a_gpu_is_a_usage_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    (tmp_path / "a.txt").write_text("The council met.")
    result = runner.invoke(
        app, ["score", str(tmp_path / "a.txt"), "-m", str(tmp_path / "no-model"), "--device", "cuda"]
    )
    assert result.exit_code == 2 and "expected a CUDA GPU" in one_line_error(result)


def test_help_texts_render_without_placeholders():
    for command in ([], ["score"], ["show"], ["evaluate"], ["train"]):
        result = runner.invoke(app, command + ["--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
        assert result.exit_code == 0, result.output
        for placeholder in ("<bool>", "<list", "<str>", "<path>", "{paths}", "{"):
            assert placeholder not in result.output, (command, placeholder, result.output)
    text = " ".join(runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "Name: [alias, ...]" in text and "PATH..." in text


def test_version_option():
    from stance import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"stance {__version__}"


def test_evaluate_maps_columns_and_prints_per_class_metrics(trained, tmp_path):
    table = tmp_path / "mine.csv"
    table.write_text(
        "sentence,label\nThe radical regime lied again.,biased\nThe council met on Monday.,neutral\n"
        "Shameful thugs attacked.,biased\nThe budget rose.,neutral\n"
    )
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(trained / "model"),
            f"table:{table}",
            "--device",
            "cpu",
            "--columns",
            "text=sentence,framing=label",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for expected in (
        "framing: macro-F1",
        "precision",
        "recall",
        "support",
        "editorial",
        "neutral",
        "framing: confusion matrix",
        "gold \\ predicted",
        "framing_macro_f1",
    ):
        assert expected in result.output, expected
    bad = runner.invoke(app, ["evaluate", str(trained / "model"), f"table:{table}", "--columns", "text"])
    assert bad.exit_code == 2 and "FIELD=COLUMN" in bad.output
    unmapped = runner.invoke(app, ["evaluate", str(trained / "model"), f"table:{table}"])
    assert unmapped.exit_code == 2 and "--columns text=" in unmapped.output


def test_resumed_run_summarises_the_whole_corpus(trained, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in "abc":
        (docs / f"{name}.txt").write_text(f"The council of {name} met. The radical regime lied.")
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    first = runner.invoke(app, ["score", str(docs), "-m", str(trained / "model"), "-o", str(out)])
    assert first.exit_code == 0, first.output
    # As if killed after the first document: its records are in the journal, the rest is not.
    records = out.read_text().splitlines()
    cut = next(i for i, line in enumerate(records) if json.loads(line)["record"] == "summary") + 1
    (tmp_path / "out.jsonl.partial").write_text("\n".join(records[:cut]) + "\n")
    out.unlink()
    resumed = runner.invoke(
        app,
        ["score", str(docs), "-m", str(trained / "model"), "-o", str(out), "--resume", "--summary-json", str(summary)],
        env={"COLUMNS": "200"},
    )
    assert resumed.exit_code == 0, resumed.output
    numbers = json.loads(summary.read_text())
    assert numbers["documents"] == 3 and numbers["sentences"] == 6 and numbers["resumed_documents"] == 1
    assert "documents scored │ 3" in " ".join(resumed.output.split())
    assert read_records(out) == [json.loads(line) for line in records]


def test_skipped_files_are_counted_and_listed(trained, tmp_path):
    (tmp_path / "a.txt").write_text("The council met.")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "README").write_text("no suffix")
    summary = tmp_path / "summary.json"
    result = runner.invoke(
        app,
        [
            "score",
            str(tmp_path),
            "-m",
            str(trained / "model"),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--summary-json",
            str(summary),
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "files skipped │ 2" in " ".join(result.output.split())
    assert "skipped" in result.output and "notes.docx" in result.output and "README" in result.output
    numbers = json.loads(summary.read_text())
    assert numbers["skipped_files"] == 2 and sorted(Path(p).name for p in numbers["skipped"]) == [
        "README",
        "notes.docx",
    ]


def test_quiet_prints_only_errors_and_summary_json_has_the_figures(trained, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The council met. The radical regime lied.")
    good = runner.invoke(
        app,
        [
            "score",
            str(docs),
            "-m",
            str(trained / "model"),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--quiet",
            "--summary-json",
            str(tmp_path / "s.json"),
        ],
    )
    assert good.exit_code == 0 and good.output == ""
    numbers = json.loads((tmp_path / "s.json").read_text())
    for key in ("documents", "sentences", "failed", "skipped_files", "share_flagged", "timings"):
        assert key in numbers, key
    assert numbers["documents"] == 1 and numbers["sentences"] == 2 and numbers["timings"]["total_s"] > 0
    (docs / "empty.txt").write_text("")
    bad = runner.invoke(
        app, ["score", str(docs), "-m", str(trained / "model"), "-o", str(tmp_path / "o2.jsonl"), "--quiet"]
    )
    assert bad.exit_code == 1
    assert [line for line in bad.output.splitlines() if line.strip()] == [
        f"failed {docs / 'empty.txt'}: expected article text, found an empty document"
    ]


def test_progress_bar_has_a_total(trained, tmp_path):
    (tmp_path / "a.jsonl").write_text(
        "".join(json.dumps({"id": str(i), "text": "The council met."}) + "\n" for i in range(5))
    )
    (tmp_path / "b.txt").write_text("The mayor spoke.")
    result = runner.invoke(
        app,
        ["score", str(tmp_path), "-m", str(trained / "model"), "-o", str(tmp_path / "o.jsonl"), "--progress"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "6/6 documents" in result.output and "ETA" in result.output


def test_user_target_names_are_kept(trained, tmp_path):
    (tmp_path / "a.txt").write_text("Washington rejected the plan.")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(
        app, ["score", str(tmp_path / "a.txt"), "-m", str(trained / "model"), "-o", str(out), "--target", "White House"]
    )
    assert result.exit_code == 0, result.output
    (sentence,) = [r for r in read_records(out) if r["record"] == "sentence"]
    assert [(s["target"], s["mention"]) for s in sentence["stance"]] == [("White House", "Washington")]


def test_show_asks_which_document(trained, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The council met.")
    (docs / "b.txt").write_text("The radical regime attacked.")

    def show(*args):
        return runner.invoke(app, ["show", *map(str, args), "-m", str(trained / "model")])

    several = show(docs)
    assert several.exit_code == 2 and "--doc" in one_line_error(several) and "a, b" in several.output
    options = ["--doc", "b", "--device", "cpu", "--precision", "fp32"]
    chosen = show(docs, *options, "--aliases", tmp_path / "none.yaml")
    assert chosen.exit_code == 2 and "none.yaml" in chosen.output  # --aliases is read
    (tmp_path / "aliases.yaml").write_text("Regime: [regime]\n")
    chosen = show(docs, *options, "--aliases", tmp_path / "aliases.yaml", "-t", "Regime")
    assert chosen.exit_code == 0, chosen.output
    assert "The radical regime attacked." in chosen.output and "The council met." not in chosen.output
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"uid": "x1", "body": "One."}) + "\n" + json.dumps({"uid": "x2", "body": "Two."}) + "\n")
    fields = ["--id-field", "uid", "--text-field", "body"]
    ask = show(feed, *fields)
    assert ask.exit_code == 2 and "x1, x2" in ask.output
    picked = show(feed, *fields, "--doc", "x2")
    assert picked.exit_code == 0 and "Two." in picked.output and "One." not in picked.output
    missing = show(feed, *fields, "--doc", "x9")
    assert missing.exit_code == 2 and "x9" in missing.output


def test_ctrl_c_stops_cleanly_and_prints_the_resume_command(trained, tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": "The council met. The radical regime lied again."}) + "\n"
            for i in range(20000)
        )
    )
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    args = ["score", str(feed), "-m", str(trained / "model"), "-o", str(out), "--no-progress", "--batch-size", "8"]
    # A shell that starts CI in the background makes its children ignore SIGINT; a user's terminal does not.
    proc = subprocess.Popen(
        [sys.executable, "-m", "stance", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while time.time() < deadline and (not partial.exists() or partial.stat().st_size == 0):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and not out.exists()
    command = next(line for line in err.splitlines() if line.startswith("continue with: "))[len("continue with: ") :]
    assert command.startswith("stance score ") and command.endswith("--resume")
    import shlex

    resumed = subprocess.run(
        [sys.executable, "-m", "stance", *shlex.split(command)[1:]], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    summaries = [r["doc_id"] for r in read_records(out) if r["record"] == "summary"]
    assert summaries == [f"d{i}" for i in range(20000)]


def test_evaluate_at_validation_gives_exactly_the_sentences_training_validated_on(trained):
    from stance.data import fingerprint
    from stance.evaluation import load_eval_examples

    model_dir = trained / "model"
    config = json.loads((model_dir / "config.json").read_text())
    expected = json.loads((model_dir / "metrics.json").read_text())["examples"]["validation_by_dataset"]
    assert expected  # the fixture config validates on several corpora
    for key, print_ in expected.items():
        examples = load_eval_examples(f"{key}@validation", FIXTURES, "all", config)
        assert fingerprint(examples) == print_, key
    # A dataset whose `split: train` gave validation nothing: @validation is empty, not a fresh split.
    assert load_eval_examples("mbic:mbic@validation", FIXTURES, "all", config) == []
    with pytest.raises(Exception, match="trained with"):
        load_eval_examples("babe:elsewhere@validation", FIXTURES, "all", config)


def test_default_names_the_shipped_model_and_a_missing_path_is_named(tmp_path):
    from stance.defaults import model_path, shipped_model_dir

    assert model_path("default") == shipped_model_dir() and model_path("runs/x/model") == Path("runs/x/model")
    missing = tmp_path / "runs" / "x" / "model"
    result = runner.invoke(app, ["compare", "default", str(missing), "babe:babe@validation"])
    assert result.exit_code == 2
    assert f"found nothing at {missing}" in result.output and "score records (" not in result.output.split("found")[1]
    result = runner.invoke(app, ["compare", f"{missing}.jsonl@left", "default"])
    assert result.exit_code == 2 and f"found nothing at {missing}.jsonl;" in result.output
