"""Cross-validation: grouped, stratified folds that never leak, and `stance cv` end to end on a tiny BERT."""

from __future__ import annotations

import json
import random

import pytest
import yaml
from typer.testing import CliRunner

from stance.cli import app
from stance.config import TrainConfig
from stance.crossval import fold_config, paired_delta, summarize
from stance.data import assign_folds, split_corpora
from stance.examples import Example

runner = CliRunner()


def _examples(n_groups: int, per_group: int = 1, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for g in range(n_groups):
        label = float(rng.random() < 0.3)  # an unbalanced label, which stratification must spread evenly
        out += [Example(text=f"sentence {g}.{k}", source="t", group=f"g{g}", framing=label) for k in range(per_group)]
    return out


def test_folds_keep_groups_together_and_spread_each_label():
    examples = _examples(200, per_group=3)
    fold_of = assign_folds(examples, 5, seed=13)
    assert set(fold_of.values()) == set(range(5))
    positives = [sum(1 for g, f in fold_of.items() if f == k and g in _positive_groups(examples)) for k in range(5)]
    assert max(positives) - min(positives) <= 1  # dealt round-robin within the stratum
    sizes = [list(fold_of.values()).count(k) for k in range(5)]
    assert max(sizes) - min(sizes) <= 1
    assert assign_folds(examples, 5, seed=13) == fold_of  # deterministic
    assert assign_folds(examples, 5, seed=14) != fold_of


def _positive_groups(examples):
    return {ex.group for ex in examples if ex.framing >= 0.5}


def _table_config(tmp_path, base=None, groups: int = 40, **training) -> TrainConfig:
    rows = [{"text": ex.text + " is here", "label": int(ex.framing), "group": ex.group} for ex in _examples(groups)]
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    raw = {
        "data": {
            "root": str(tmp_path),
            "validation_fraction": 0.25,
            "datasets": [{"adapter": "table", "path": "mine.jsonl", "columns": {"framing": "label"}}],
        },
        "model": {"max_length": 24} | ({"base_model": str(base)} if base else {}),
        "training": {"epochs": 1, "batch_size": 4, "checkpoint_every": 1000, "log_every": 1000} | training,
    }
    (tmp_path / "cv.yaml").write_text(yaml.safe_dump(raw))
    return TrainConfig.model_validate(raw)


def test_each_fold_holds_out_its_part_and_never_trains_or_selects_on_it(tmp_path):
    config = _table_config(tmp_path)
    everything = {ex.text for c in split_corpora(config) for ex in c.train + c.validation}
    held_out = []
    for fold in range(4):
        (corpus,) = split_corpora(fold_config(config, 4, fold))
        outer = {ex.text for ex in corpus.outer}
        assert outer and not outer & {ex.text for ex in corpus.train + corpus.validation}
        assert corpus.validation  # selection still has an inner split, carved from the training part
        held_out.append(outer)
    assert set().union(*held_out) == everything and sum(map(len, held_out)) == len(everything)


def test_a_recipe_using_fewer_labels_holds_out_the_same_groups(tmp_path):
    """A framing-only teacher and a multi-task student must share folds, or the teacher has seen
    the student's held-out sentences."""
    config = _table_config(tmp_path)
    raw = config.model_dump()
    raw["data"]["datasets"][0]["heads"] = ["stance"]  # drops the framing labels the strata are made of
    fewer = TrainConfig.model_validate(raw)
    for fold in range(4):
        (a,) = split_corpora(fold_config(config, 4, fold))
        (b,) = split_corpora(fold_config(fewer, 4, fold))
        assert [ex.text for ex in a.outer] == [ex.text for ex in b.outer]
        assert all(ex.framing is None for ex in b.outer + b.train)


def test_a_fold_outside_the_range_is_rejected(tmp_path):
    config = _table_config(tmp_path)
    with pytest.raises(ValueError, match="fold"):
        fold_config(config, 3, 3)


def test_summary_and_paired_delta():
    results = [{"fold": i, "held_out": {"m": v}} for i, v in enumerate([0.5, 0.7, 0.6])]
    summary = {"finished_folds": [0, 1, 2], "metrics": summarize(results)}
    assert summary["metrics"]["m"]["mean"] == pytest.approx(0.6)
    assert summary["metrics"]["m"]["sd"] == pytest.approx(0.1)
    better = {
        "finished_folds": [0, 1],
        "metrics": summarize([{"fold": 0, "held_out": {"m": 0.6}}, {"fold": 1, "held_out": {"m": 0.7}}]),
    }
    mean, sd = paired_delta(better, summary, "m")
    assert mean == pytest.approx(0.05) and sd == pytest.approx(0.0707, abs=1e-3)


def _find_macro_f1(metrics: dict) -> float:
    """The framing macro-F1 wherever `stance evaluate -o` put it."""
    for key, value in metrics.items():
        if key == "framing" and isinstance(value, dict) and "macro_f1" in value:
            return value["macro_f1"]
        if isinstance(value, dict):
            found = _find_macro_f1(value)
            if found is not None:
                return found
    return None


def test_cv_command_runs_resumes_and_refuses_to_mix_recipes(tmp_path, tiny_base):
    _table_config(tmp_path, tiny_base)
    out = tmp_path / "cv"
    args = ["cv", str(tmp_path / "cv.yaml"), "-o", str(out), "--folds", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "cv.json").read_text())
    assert summary["finished_folds"] == [0, 1]
    metric = summary["metrics"]["table/framing_macro_f1"]
    assert len(metric["folds"]) == 2 and 0.0 <= metric["mean"] <= 1.0
    assert "table/framing_macro_f1" in result.output and "±" in result.output
    # Every choice was made inside the fold: the fold's model records the fold it held out.
    config = json.loads((out / "fold-0" / "model" / "config.json").read_text())
    assert config["training"]["folds"] == 2 and config["training"]["fold"] == 0
    # `evaluate FOLD_MODEL DATA@test` scores exactly that fold's held-out part.
    scored = runner.invoke(
        app,
        [
            "evaluate",
            str(out / "fold-0" / "model"),
            "table:mine.jsonl@test",
            "--data-root",
            str(tmp_path),
            "-o",
            str(tmp_path / "m.json"),
        ],
    )
    assert scored.exit_code == 0, scored.output
    held_out = json.loads((out / "fold-0" / "outer.json").read_text())["held_out"]
    framing = json.loads((tmp_path / "m.json").read_text())
    assert _find_macro_f1(framing) == pytest.approx(held_out["table/framing_macro_f1"])
    # A second call finds both folds finished and trains nothing.
    before = (out / "fold-0" / "outer.json").read_text()
    again = runner.invoke(app, args + ["--baseline", str(out / "cv.json")])
    assert again.exit_code == 0, again.output
    assert (out / "fold-0" / "outer.json").read_text() == before
    assert "Δ +0.0000" in again.output
    # The figures go into the card of a model trained with the recipe, once however often it is asked.
    import shutil

    shipped = tmp_path / "shipped"
    shutil.copytree(out / "fold-0" / "model", shipped)
    for _ in range(2):
        attached = runner.invoke(app, args + ["--model-card", str(shipped)])
        assert attached.exit_code == 0, attached.output
    card = (shipped / "README.md").read_text()
    assert card.count("## Cross-validated figures") == 1 and "table/framing_macro_f1 | " in card
    assert card.index("## Cross-validated figures") < card.index("## Size and precision")
    assert json.loads((shipped / "metrics.json").read_text())["cross_validation"]["folds"] == 2
    # Another recipe into the same folder would mix two recipes' folds.
    (out / "fold-1" / "outer.json").unlink()
    mixed = runner.invoke(app, args + ["training.learning_rate=0.001"])
    assert mixed.exit_code == 2
    assert "another config" in mixed.output


def test_fold_teachers_label_the_transfer_set_for_the_students_matching_fold(tmp_path, tiny_base):
    import subprocess
    import sys
    from pathlib import Path

    _table_config(tmp_path, tiny_base)
    teacher = tmp_path / "teacher"
    result = runner.invoke(app, ["cv", str(tmp_path / "cv.yaml"), "-o", str(teacher), "--folds", "2"])
    assert result.exit_code == 0, result.output
    script = Path(__file__).parents[1] / "scripts" / "distill.py"
    distill = [sys.executable, str(script), str(teacher), "-o", str(tmp_path / "distill")]
    subprocess.run(distill + ["--transfer", "table:mine.jsonl", "--data-root", str(tmp_path)], check=True)
    tables = [[json.loads(line) for line in (tmp_path / "distill" / f"fold-{i}.jsonl").open()] for i in range(2)]
    assert len(tables[0]) == len(tables[1]) == 40
    assert all(0.0 < row["framing"] < 1.0 for row in tables[0])
    assert [r["framing"] for r in tables[0]] != [r["framing"] for r in tables[1]]  # two different teachers
    # The student's recipe reads fold i's table in fold i.
    raw = _table_config(tmp_path, tiny_base).model_dump()
    raw["data"]["datasets"].append(
        {"adapter": "table", "path": str(tmp_path / "distill" / "fold-{fold}.jsonl"), "split": "train"}
    )
    raw["data"]["datasets"][0]["path"] = "other.jsonl"  # so the teacher's sentences are not de-duplicated away
    (tmp_path / "other.jsonl").write_text(json.dumps({"text": "An unrelated sentence.", "label": 1}) + "\n")
    student = TrainConfig.model_validate(raw)
    for fold in range(2):
        soft = split_corpora(fold_config(student, 2, fold))[1].train
        assert [ex.framing for ex in soft] == [row["framing"] for row in tables[fold]]


def test_selection_rules_weigh_corpora_heads_or_framing():
    from stance.evaluation import selection_score

    numbers = {
        "babe/framing_macro_f1": 0.8,
        "babe/framing_ece": 0.05,  # never a selection score
        "babe/loaded_word_f1": 0.4,
        "ptc/loaded_word_f1": 0.2,
        "ptc/loaded_span_f1_overlap": 0.2,
        "newsmtsc/stance_macro_f1": 0.6,
    }
    assert selection_score(numbers) == pytest.approx((0.8 + 0.4 + 0.2 + 0.2 + 0.6) / 5)
    assert selection_score(numbers, "heads") == pytest.approx((0.8 + (0.4 + 0.2 + 0.2) / 3 + 0.6) / 3)
    assert selection_score(numbers, "framing") == pytest.approx(0.8)
    no_framing = {k: v for k, v in numbers.items() if "framing" not in k}
    assert selection_score(no_framing, "framing") == pytest.approx(selection_score(no_framing))
    assert selection_score({}, "heads") == 0.0


def test_cv_scores_each_extra_selection_rule_on_the_same_held_out_fold(tmp_path, tiny_base):
    # 200 sentences: enough validation (25 per inner split) to select by, so the rules can disagree
    _table_config(tmp_path, tiny_base, groups=200, eval_every=4, patience=50, also_select=["framing", "scores"])
    out = tmp_path / "cv"
    result = runner.invoke(app, ["cv", str(tmp_path / "cv.yaml"), "-o", str(out), "--folds", "2", "--fold", "0"])
    assert result.exit_code == 0, result.output
    fold = out / "fold-0"
    outer = json.loads((fold / "outer.json").read_text())
    # "scores" is the run's own rule: OUT/model is its model, so only "framing" gets a second one.
    assert list(outer["held_out_by_selection"]) == ["framing"]
    assert (fold / "model-framing" / "config.json").exists() and not (fold / "model-scores").exists()
    steps = json.loads((fold / "model-framing" / "config.json").read_text())["training"]
    assert steps["selection"] == "framing" and steps["best_step"] > 0
    logged = [json.loads(line) for line in (fold / "train_log.jsonl").open() if '"also_scores"' in line]
    assert logged and all(set(r["also_scores"]) == {"framing"} for r in logged)
    # The rule's best step is the evaluation with the highest framing score it logged.
    best = max(logged, key=lambda r: r["also_scores"]["framing"])  # first of equals, as training keeps
    assert steps["best_step"] == best["step"]
    summary = json.loads((out / "cv.json").read_text())["metrics"]
    assert "selection=framing:table/framing_macro_f1" in summary
    # The card of a model trained with the recipe lists the recipe's own figures, not the other rules'.
    import shutil

    shipped = tmp_path / "shipped"
    shutil.copytree(fold / "model", shipped)
    args = [
        "cv",
        str(tmp_path / "cv.yaml"),
        "-o",
        str(out),
        "--folds",
        "2",
        "--fold",
        "0",
        "--model-card",
        str(shipped),
    ]
    attached = runner.invoke(app, args)
    assert attached.exit_code == 0, attached.output
    card = (shipped / "README.md").read_text()
    assert "table/framing_macro_f1 | " in card and "selection=" not in card
