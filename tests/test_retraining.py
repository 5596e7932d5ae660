"""Retraining on your own corpus: annotation-tool adapters both ways, init-config, continuing from a
trained model, small-data safeguards, runs that keep their settings, and `stance compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES
from typer.testing import CliRunner

from stance.annotations import label_studio_tasks, read_doccano, read_label_studio
from stance.cli import app
from stance.config import load_config
from stance.data import load_dataset_examples
from stance.errors import DataError

runner = CliRunner()

SENTENCES = [
    ("Gone are the glorious days of this once great nation.", "BIASED"),
    ("The trend is expected to reverse next month.", "NEUTRAL"),
    ("The corrupt regime slammed the brave protesters as thugs.", "BIASED"),
    ("The central bank left rates unchanged on Tuesday.", "NEUTRAL"),
    ("Those shameful liars will say anything to win votes.", "BIASED"),
    ("The senate voted on the budget bill on Monday.", "NEUTRAL"),
]


def doccano_file(path: Path, rows: int = 30, spans: bool = False) -> Path:
    with path.open("w") as fh:
        for i in range(rows):
            text, label = SENTENCES[i % len(SENTENCES)]
            text = f"{text} ({i})"  # distinct sentences: de-duplication keeps them all
            row = {"id": i, "text": text, "label": [label]}
            if spans:
                start = text.find("corrupt")
                row["label"] = [[start, start + len("corrupt"), "LOADED"]] if start >= 0 else []
            fh.write(json.dumps(row) + "\n")
    return path


def config_for(tmp_path: Path, base: Path, data: dict, **training) -> Path:
    config = {
        "data": {"root": str(tmp_path), "validation_fraction": 0.2, "datasets": [data]},
        "model": {"base_model": str(base), "max_length": 32},
        "training": {"epochs": 2, "batch_size": 4, "eval_every": 0, "checkpoint_every": 5, "log_every": 1} | training,
    }
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


MINE = {"adapter": "doccano", "path": "mine.jsonl", "labels": {"BIASED": "editorial", "NEUTRAL": "neutral"}}


def mine_config(tmp_path: Path, base: Path, **training) -> Path:
    """A 30-row doccano export and a config training on it (BIASED / NEUTRAL framing labels)."""
    doccano_file(tmp_path / "mine.jsonl")
    return config_for(tmp_path, base, MINE, **training)


# ---------------------------------------------------------------------------- reading labels


def test_doccano_classification_labels_map_through_the_config(tmp_path):
    path = doccano_file(tmp_path / "d.jsonl", rows=6)
    examples = read_doccano(path, {"BIASED": "editorial", "NEUTRAL": "neutral"})
    assert [ex.framing for ex in examples] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert all(ex.spans is None for ex in examples)  # no span labels: the loaded-term head is not labelled


def test_an_unknown_label_names_the_file_the_row_and_the_known_labels(tmp_path):
    path = doccano_file(tmp_path / "d.jsonl", rows=6)
    with pytest.raises(DataError, match=r"d\.jsonl: line 1: expected a label from .*'editorial'.*found 'BIASED'"):
        read_doccano(path, {"NEUTRAL": "neutral"})


def test_an_unanswered_question_in_the_config_is_an_error(tmp_path):
    path = doccano_file(tmp_path / "d.jsonl", rows=6)
    with pytest.raises(DataError, match=r"open question \(\?\?\?\)"):
        read_doccano(path, {"BIASED": "???", "NEUTRAL": "neutral"})


def test_doccano_sequence_labels_become_loaded_term_spans(tmp_path):
    path = doccano_file(tmp_path / "d.jsonl", rows=6, spans=True)
    examples = read_doccano(path, {"LOADED": "loaded_language"})
    with_span = [ex for ex in examples if ex.spans]
    assert [ex.text[s.start : s.end] for ex in with_span for s in ex.spans] == ["corrupt"]
    assert all(ex.spans == [] for ex in examples if ex not in with_span)  # labelled, nothing loaded
    with pytest.raises(DataError, match=r"line 3: expected a label from"):
        read_doccano(path)  # LOADED is not mapped


def test_a_span_outside_the_text_is_an_error_naming_the_row(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"text": "Short.", "label": [[0, 40, "loaded_language"]]}) + "\n")
    with pytest.raises(DataError, match=r"line 1: expected a span inside the text"):
        read_doccano(path)


def test_table_labels_in_lists_are_read_and_unknown_ones_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    rows = [{"text": "A biased one.", "label": ["BIASED"]}, {"text": "A plain one.", "label": ["unbiased"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = {"adapter": "table", "path": str(path), "columns": {"framing": "label"}}
    from stance.config import DatasetConfig

    examples = load_dataset_examples(DatasetConfig(**spec), tmp_path)
    assert [ex.framing for ex in examples] == [1.0, 0.0]
    path.write_text(json.dumps({"text": "What is this?", "label": ["MAYBE"]}) + "\n")
    with pytest.raises(DataError, match=r"t\.jsonl: row 1: expected a framing label from .* found 'MAYBE'"):
        load_dataset_examples(DatasetConfig(**spec), tmp_path)
    examples = load_dataset_examples(DatasetConfig(**spec, labels={"MAYBE": "ignore"}), tmp_path)
    assert examples[0].framing is None


def test_a_table_span_category_of_another_name_needs_a_mapping(tmp_path):
    from stance.config import DatasetConfig

    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"text": "The corrupt regime.", "loaded_terms": [[4, 11, "insult"]]}) + "\n")
    spec = {"adapter": "table", "path": str(path)}
    with pytest.raises(DataError, match=r"row 1: expected a loaded-term category .* found 'insult'"):
        load_dataset_examples(DatasetConfig(**spec), tmp_path)
    examples = load_dataset_examples(DatasetConfig(**spec, labels={"insult": "name_calling"}), tmp_path)
    assert [(s.start, s.end, s.category) for s in examples[0].spans] == [(4, 11, "name_calling")]


def test_label_studio_reads_the_newest_kept_annotation_and_skips_unlabelled_tasks(tmp_path):
    def choice(label, when, cancelled=False):
        result = [{"type": "choices", "from_name": "framing", "to_name": "text", "value": {"choices": [label]}}]
        return {"result": result, "updated_at": when, "was_cancelled": cancelled}

    tasks = [
        {
            "id": 1,
            "data": {"text": "One."},
            "annotations": [choice("neutral", "2026-01-01"), choice("editorial", "2026-02-01")],
        },
        {"id": 2, "data": {"text": "Two."}, "annotations": [choice("editorial", "2026-03-01", cancelled=True)]},
        {"id": 3, "data": {"text": "Three."}, "predictions": [{"result": []}]},
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks))
    examples = read_label_studio(path)
    assert [(ex.text, ex.framing) for ex in examples] == [("One.", 1.0)]


# ---------------------------------------------------------------------------- writing pre-annotations


def _sentence(text, score, terms=(), doc="d1", index=0):
    return {
        "record": "sentence",
        "doc_id": doc,
        "path": "a.txt",
        "sentence_index": index,
        "start": 100,
        "end": 100 + len(text),
        "text": text,
        "voice": {"label": "editorial"},
        "framing": {"score": score, "flag": score >= 0.5},
        "loaded_terms": [
            {"start": 100 + text.find(w), "end": 100 + text.find(w) + len(w), "text": w, "score": 0.8, "category": c}
            for w, c in terms
        ],
    }


def test_tasks_put_the_least_certain_sentences_first():
    records = [_sentence("Sure.", 0.97), _sentence("Unsure.", 0.52, index=1), _sentence("Fairly.", 0.2, index=2)]
    assert [t["data"]["text"] for t in label_studio_tasks(records)] == ["Unsure.", "Fairly.", "Sure."]


def test_export_edit_import_gives_the_edited_labels(tmp_path):
    records = [
        _sentence("The corrupt regime fell.", 0.7, [("corrupt", "loaded_language")]),
        _sentence("Rates were unchanged.", 0.4, index=1),
    ]
    tasks = label_studio_tasks(records)
    # The annotator accepts the first task's guesses, and on the second one flips the framing
    # label and marks a word the model missed.
    for task in tasks:
        task["annotations"] = [{"result": json.loads(json.dumps(task["predictions"][0]["result"]))}]
    second = next(t for t in tasks if t["data"]["text"] == "Rates were unchanged.")
    second["annotations"][0]["result"][0]["value"]["choices"] = ["editorial"]
    second["annotations"][0]["result"].append(
        {"type": "labels", "from_name": "loaded_terms", "to_name": "text",
         "value": {"start": 0, "end": 5, "text": "Rates", "labels": ["name_calling"]}}
    )  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    examples = {ex.text: ex for ex in read_label_studio(path)}
    first = examples["The corrupt regime fell."]
    assert first.framing == 1.0 and [(s.start, s.end, s.category) for s in first.spans] == [(4, 11, "loaded_language")]
    edited = examples["Rates were unchanged."]
    assert edited.framing == 1.0 and [(s.start, s.end, s.category) for s in edited.spans] == [(0, 5, "name_calling")]
    assert first.group == "d1"  # an article's sentences stay in one split


def test_score_writes_label_studio_tasks(trained, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("The corrupt regime attacked the brave people. The bank said rates rose.")
    out = tmp_path / "tasks.json"
    result = runner.invoke(app, ["score", str(article), "-m", str(trained / "model"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    tasks = json.loads(out.read_text())
    assert len(tasks) == 2 and all(t["predictions"][0]["result"] for t in tasks)
    assert tasks[0]["predictions"][0]["model_version"].startswith("model@stance-")
    assert {t["data"]["text"] for t in tasks} == {
        "The corrupt regime attacked the brave people.",
        "The bank said rates rose.",
    }


# ---------------------------------------------------------------------------- init-config


def test_init_config_guesses_the_mapping_and_marks_what_it_cannot(tmp_path, tiny_base):
    data = doccano_file(tmp_path / "mine.jsonl")
    out = tmp_path / "mine.yaml"
    result = runner.invoke(app, ["init-config", str(out), "--data", str(data), "--framing-positive", "BIASED"])
    assert result.exit_code == 0, result.output
    assert "doccano, 30 labelled sentences" in result.output and "BIASED (15)" in result.output
    config = load_config(out)
    assert config.data.datasets[0].labels == {"BIASED": "editorial", "NEUTRAL": "neutral"}
    assert [ex.framing for ex in load_dataset_examples(config.data.datasets[0], tmp_path)][:2] == [1.0, 0.0]
    # Without --framing-positive, neither name says what it means: both are left as questions.
    unsure = tmp_path / "unsure.yaml"
    (tmp_path / "odd.jsonl").write_text(
        "".join(json.dumps({"text": f"S {i}.", "label": ["YES" if i % 2 else "MEH"]}) + "\n" for i in range(10))
    )
    result = runner.invoke(app, ["init-config", str(unsure), "--data", str(tmp_path / "odd.jsonl")])
    assert result.exit_code == 0 and "answer 2 question(s)" in result.output
    raw = yaml.safe_load(unsure.read_text())
    raw["model"]["base_model"] = str(tiny_base)
    unsure.write_text(yaml.safe_dump(raw))
    result = runner.invoke(app, ["train", str(unsure), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2 and "open question" in result.output


# ---------------------------------------------------------------------------- training safeguards


def test_a_tiny_corpus_trains_a_fixed_budget_with_no_temperature_and_only_its_head(tmp_path, tiny_base):
    config = mine_config(tmp_path, tiny_base)
    result = runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "fixed budget" in result.output and "validation:" in result.output
    model = tmp_path / "run" / "model"
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["framing_temperature"] == 1.0
    assert any("temperature not fitted" in n for n in metrics["notes"])
    assert list(json.loads((model / "config.json").read_text())["heads"]) == ["framing"]
    log = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    end = next(r for r in log if r.get("event") == "end")
    assert end["best_step"] == end["step"]  # the last model is kept, not the first evaluation's
    card = (model / "README.md").read_text()
    assert "mine.jsonl` (doccano): user-supplied data" in card and "BABE" not in card and "fixed budget" in card


def test_train_refuses_a_used_folder_without_force(trained, tmp_path, tiny_base):
    config = mine_config(tmp_path, tiny_base, epochs=1)
    out = tmp_path / "run"
    out.mkdir()
    (out / "train_log.jsonl").write_text('{"old": true}\n')
    result = runner.invoke(app, ["train", str(config), "-o", str(out)])
    assert result.exit_code == 2 and "pass --force" in result.output
    result = runner.invoke(app, ["train", str(config), "-o", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert '"old"' not in (out / "train_log.jsonl").read_text()


def test_resume_uses_the_runs_own_settings_and_refuses_a_change(tmp_path, tiny_base):
    config = mine_config(tmp_path, tiny_base, epochs=1)
    out = tmp_path / "run"
    assert runner.invoke(app, ["train", str(config), "-o", str(out), "model.max_length=24"]).exit_code == 0
    saved = (out / "config.yaml").read_text()
    result = runner.invoke(app, ["train", "--resume", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "config.yaml").read_text() == saved
    result = runner.invoke(app, ["train", str(config), "-o", str(out), "--resume"])  # max_length 32 != 24
    assert result.exit_code == 2 and "model.max_length: 24 -> 32" in result.output
    result = runner.invoke(app, ["train", "--resume", "-o", str(out), "training.epochs=3"])
    assert result.exit_code == 2 and "training.epochs: 1 -> 3" in result.output


def test_a_stance_model_as_base_model_points_to_init_from(tmp_path, trained):
    config = mine_config(tmp_path, trained / "model")
    result = runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2 and "model.init_from" in result.output


def test_continuing_from_a_trained_model_keeps_the_heads_the_data_does_not_label(tmp_path, trained, tiny_base):
    from stance.modeling import load_model

    config = mine_config(tmp_path, tiny_base)
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(config), "-o", str(out), f"model.init_from={trained / 'model'}"])
    assert result.exit_code == 0, result.output
    before, _, _ = load_model(trained / "model")
    after, _, config_json = load_model(out / "model")
    assert [h.name for h in after.head_specs] == [h.name for h in before.head_specs]
    assert config_json["training"]["adapted"]["retrained"] == ["framing"]
    for name in config_json["training"]["adapted"]["inherited"]:
        for (k, a), (_, b) in zip(before.heads[name].state_dict().items(), after.heads[name].state_dict().items()):
            assert (a.half().float() - b).abs().max() < 1e-3, (name, k)  # kept (up to the float16 export)
    assert float(after.loaded_threshold) == pytest.approx(float(before.loaded_threshold))
    card = (out / "model" / "README.md").read_text()
    assert "Adapted from another model" in card and "loaded_terms" in card
    article = tmp_path / "a.txt"
    article.write_text("The corrupt regime attacked Iraq. The president said rates rose.")
    scored = runner.invoke(app, ["score", str(article), "-m", str(out / "model"), "-t", "Iraq"])
    sentence = json.loads(scored.stdout.splitlines()[0])
    assert "loaded_terms" in sentence and sentence["stance"][0]["target"] == "Iraq"


# ---------------------------------------------------------------------------- compare


def test_compare_gives_paired_deltas_with_intervals_and_disagreements(trained, tmp_path):
    data = f"checkthat:{FIXTURES / 'checkthat'}"
    out = tmp_path / "compare.json"
    result = runner.invoke(
        app,
        ["compare", str(trained / "model-best"), str(trained / "model"), data, "--resamples", "50", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    part = report["data"][data]
    figures = part["heads"]["framing"]["framing_macro_f1"]
    assert figures["low"] <= figures["high"]
    assert figures["delta"] == pytest.approx(figures["b"] - figures["a"])
    assert part["disagreements"] and "where they disagree most" in result.output


def test_compare_of_a_model_with_itself_is_exactly_zero(trained):
    data = f"checkthat:{FIXTURES / 'checkthat'}"
    result = runner.invoke(app, ["compare", str(trained / "model"), str(trained / "model"), data, "--resamples", "20"])
    assert result.exit_code == 0, result.output
    assert "+0.0000  [+0.0000, +0.0000]  no clear difference" in result.output


def test_init_config_reads_label_studio_exports_and_tables(tmp_path):
    from stance.init_config import inspect

    tasks = [
        {"data": {"text": f"Sentence {i}."}, "annotations": [{"result": [
            {"type": "choices", "value": {"choices": ["Opinion" if i % 3 else "Fact"]}},
            {"type": "labels", "value": {"start": 0, "end": 8, "labels": ["Loaded"]}},
        ]}]}
        for i in range(9)
    ] + [{"data": {"text": "Not labelled yet."}, "predictions": []}]  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    found = inspect(path)
    assert found.adapter == "label-studio" and found.rows == 9 and found.unlabelled == 1
    assert found.sentence_labels == {"Opinion": 6, "Fact": 3} and found.span_labels == {"Loaded": 9}
    out = tmp_path / "ls.yaml"
    result = runner.invoke(app, ["init-config", str(out), "--data", str(path), "--framing-positive", "Opinion"])
    assert result.exit_code == 0, result.output
    labels = load_config(out).data.datasets[0].labels
    assert labels == {"Opinion": "editorial", "Fact": "neutral", "Loaded": "loaded_language"}
    table = tmp_path / "mine.csv"
    table.write_text("sentence,bias\nOne.,yes\nTwo.,no\n")
    found = inspect(table)
    assert found.adapter == "table" and found.columns == {"text": "sentence", "framing": "bias"}
    assert found.sentence_labels == {"yes": 1, "no": 1}


def test_bootstrap_counts_add_up_to_the_full_figures(trained):
    """The intervals sum per-group counts: over all groups, that must give exactly the headline figures."""
    from stance.comparison import _groups, _headline_of, _parts, score_with
    from stance.config import DatasetConfig
    from stance.heads import HEADS
    from stance.modeling import load_model

    model, tokenizer, config = load_model(trained / "model")
    examples = []
    for adapter, path in (("ptc", "ptc"), ("checkthat", "checkthat"), ("newsmtsc", "newsmtsc/train.jsonl")):
        examples += load_dataset_examples(DatasetConfig(adapter=adapter, path=path), FIXTURES)
    scored = score_with(model, tokenizer, examples, int(config["max_length"]))
    checked = 0
    for head in model.head_specs:
        whole = scored.headline(head.name, list(range(len(examples))))
        parts = [
            _parts(head.metrics([scored.encoded[i] for i in g], [scored.outputs[head.name][i] for i in g],
                                {"loaded_threshold": float(model.loaded_threshold)}))
            for g in _groups(examples)
        ]  # fmt: skip
        parts = [p for p in parts if p is not None]
        if not parts:
            continue
        summed = {k: sum(p[k] for p in parts) for k in parts[0]}
        assert _headline_of(HEADS[head.name], summed) == pytest.approx(whole), head.name
        checked += 1
    assert checked >= 3  # framing, loaded terms and stance


def test_a_frozen_encoder_leaves_the_inherited_heads_outputs_unchanged(tmp_path, trained, tiny_base):
    """model.freeze_encoder: only the heads train, so a head without new labels answers exactly as before."""
    from stance.comparison import score_with
    from stance.config import DatasetConfig
    from stance.modeling import load_model

    config = mine_config(tmp_path, tiny_base)
    out = tmp_path / "run"
    overrides = [f"model.init_from={trained / 'model'}", "model.freeze_encoder=true"]
    result = runner.invoke(app, ["train", str(config), "-o", str(out), *overrides])
    assert result.exit_code == 0, result.output
    examples = load_dataset_examples(DatasetConfig(adapter="newsmtsc", path="newsmtsc/train.jsonl"), FIXTURES)
    before = score_with(*load_model(trained / "model")[:2], examples, 48)
    after = score_with(*load_model(out / "model")[:2], examples, 48)
    flat = lambda s: [p for sentence in s.outputs["stance"] for mention in sentence for p in mention]  # noqa: E731
    assert flat(before) and flat(before) == pytest.approx(flat(after), abs=1e-4)
    assert before.outputs["framing"] != after.outputs["framing"]  # the retrained head did move
