"""A head is one declaration: a fifth, toy head declared here alone trains, saves, loads and scores."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from stance import heads
from stance.cli import app

runner = CliRunner()


@pytest.fixture()
def subjectivity():
    head = heads.register(heads.SentenceHead("subjectivity", labels=("objective", "subjective")))
    yield head
    heads.unregister("subjectivity")


def write_table(path):
    rows = [
        ("The council met on Monday.", "objective", "neutral"),
        ("I think this is a disgrace.", "subjective", "biased"),
        ("The budget rose by two percent.", "objective", "neutral"),
        ("What a shameful and cowardly decision.", "subjective", "biased"),
        ("Police said the road reopened.", "objective", "neutral"),
        ("Frankly, the regime is terrible.", "subjective", "biased"),
    ] * 3
    path.write_text("sentence,subj,label\n" + "".join(f'"{t}",{s},{f}\n' for t, s, f in rows))


def test_a_toy_head_declared_in_a_test_trains_saves_loads_and_scores(subjectivity, tiny_base, tmp_path):
    table = tmp_path / "mine.csv"
    write_table(table)
    config = {
        "data": {
            "root": str(tmp_path),
            "validation_fraction": 0.3,
            "datasets": [
                {
                    "adapter": "table",
                    "path": str(table),
                    "columns": {"text": "sentence", "subjectivity": "subj", "framing": "label"},
                },
            ],
        },
        "model": {"base_model": str(tiny_base), "max_length": 32},
        "training": {"epochs": 3, "batch_size": 4, "patience": 10, "loss_weights": {"subjectivity": 2.0}},
    }
    (tmp_path / "toy.yaml").write_text(yaml.safe_dump(config))
    trained = runner.invoke(app, ["train", str(tmp_path / "toy.yaml"), "-o", str(tmp_path / "run")])
    assert trained.exit_code == 0, trained.output
    model_dir = tmp_path / "run" / "model"
    saved = json.loads((model_dir / "config.json").read_text())
    assert list(saved["heads"]) == ["framing", "subjectivity"]  # only heads the data labels
    assert saved["heads"]["subjectivity"] == {"labels": ["objective", "subjective"], "level": "sentence"}
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert any(k.endswith("/subjectivity_macro_f1") for k in metrics["validation"]["headline"])
    assert "subjectivity" in (model_dir / "README.md").read_text()

    (tmp_path / "a.txt").write_text("The council met. What a shameful decision.")
    out = tmp_path / "out.jsonl"
    scored = runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(model_dir), "-o", str(out)])
    assert scored.exit_code == 0, scored.output
    sentences = [json.loads(x) for x in out.read_text().splitlines() if '"sentence"' in x]
    for record in sentences:
        assert set(record["subjectivity"]["scores"]) == {"objective", "subjective"}
        assert record["subjectivity"]["label"] in ("objective", "subjective")
        assert "framing" in record and "loaded_terms" not in record and "stance" not in record  # absent heads
    as_csv = tmp_path / "out.csv"
    assert (
        runner.invoke(app, ["score", str(tmp_path / "a.txt"), "-m", str(model_dir), "-o", str(as_csv)]).exit_code == 0
    )
    import csv

    rows = list(csv.DictReader(as_csv.open()))
    assert json.loads(rows[0]["subjectivity"])["label"] in ("objective", "subjective")
    evaluated = runner.invoke(
        app,
        ["evaluate", str(model_dir), f"table:{table}", "--columns", "text=sentence,subjectivity=subj"],
        env={"COLUMNS": "200"},
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "subjectivity_macro_f1" in evaluated.output
    shown = runner.invoke(app, ["show", str(tmp_path / "a.txt"), "-m", str(model_dir)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "subjectivity:" in shown.output


def test_a_model_with_a_head_this_version_does_not_know_is_refused(subjectivity, trained, tmp_path):
    import shutil

    from stance.errors import ModelLoadError
    from stance.modeling import load_model

    copy = tmp_path / "m"
    shutil.copytree(trained / "model", copy)
    config = json.loads((copy / "config.json").read_text())
    config["heads"]["mystery"] = {"labels": ["a", "b"], "level": "sentence"}
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="'mystery' head this version does not know"):
        load_model(copy)


def test_a_model_lacking_a_known_head_loads_and_reports_it_absent(subjectivity, trained, tmp_path):
    """A model trained before a head existed keeps working."""
    from stance.scoring import Scorer

    scorer = Scorer(trained / "model", device="cpu")
    assert [h.name for h in scorer.model.head_specs] == ["framing", "loaded_terms", "stance"]
    from stance.documents import Document

    records = list(scorer.score([Document("d", "d.txt", "The council met.")]))
    assert "subjectivity" not in records[0] and "framing" in records[0]


def test_a_model_without_the_voice_head_falls_back_to_the_rules_with_a_warning(trained, caplog):
    from stance.documents import Document
    from stance.scoring import Scorer

    with caplog.at_level("WARNING", logger="stance"):
        scorer = Scorer(trained / "model", device="cpu")
    assert scorer.voice_head is None
    assert "no attribution head" in caplog.text and "rules" in caplog.text
    text = "Prices rose. Wages must rise this year, the union said."
    (_, union, _) = list(scorer.score([Document("d", "d.txt", text)]))
    assert union["voice"]["label"] == "attributed" and union["voice"]["source"] == "union"
    assert union["voice"]["score"] is None  # rules give no confidence
    assert text[union["voice"]["source_start"] : union["voice"]["source_end"]] == "union"


def test_the_attribution_head_trains_on_polnear_and_scores(tiny_base, tmp_path):
    from conftest import FIXTURES

    config = {
        "data": {
            "root": str(FIXTURES),
            "validation_fraction": 0.5,
            "datasets": [{"adapter": "polnear", "path": "polnear/train", "split": "train"}],
        },
        "model": {"base_model": str(tiny_base), "max_length": 32},
        "training": {"epochs": 2, "batch_size": 2, "patience": 10},
    }
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(config))
    trained = runner.invoke(app, ["train", str(tmp_path / "a.yaml"), "-o", str(tmp_path / "run")])
    assert trained.exit_code == 0, trained.output
    saved = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert list(saved["heads"]) == ["attribution"]
    evaluated = runner.invoke(
        app,
        ["evaluate", str(tmp_path / "run" / "model"), "polnear:polnear/train", "--data-root", str(FIXTURES)],
        env={"COLUMNS": "200"},
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "attribution_word_f1" in evaluated.output and "attribution_span_f1_overlap" in evaluated.output
    (tmp_path / "x.txt").write_text("The union said pay was too low.")
    out = tmp_path / "o.jsonl"
    assert (
        runner.invoke(
            app, ["score", str(tmp_path / "x.txt"), "-m", str(tmp_path / "run" / "model"), "-o", str(out)]
        ).exit_code
        == 0
    )
    (sentence,) = [json.loads(x) for x in out.read_text().splitlines() if '"sentence"' in x]
    for span in sentence["attribution"]:
        assert span["category"] in ("source", "cue", "content") and 0 <= span["start"] < span["end"] <= 31
    # Voice comes from the head: a label with a score, and the source (if any) at its offsets.
    voice = sentence["voice"]
    assert voice["label"] in ("editorial", "quoted", "attributed") and 0.0 <= voice["score"] <= 1.0
    if voice["source"] is not None:
        assert "The union said pay was too low."[voice["source_start"] : voice["source_end"]] == voice["source"]
