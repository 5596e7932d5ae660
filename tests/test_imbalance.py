"""Retraining on rare labels (issue 23): class weights from the label counts, a flag threshold that
belongs to the model, warnings instead of silent failure, and a verdict against the starting model."""

from __future__ import annotations

import json
import math

import pytest
import torch
from test_retraining import SENTENCES, config_for
from typer.testing import CliRunner

from stance.calibration import fit_flag_threshold
from stance.cli import app
from stance.heads import HEADS, SentenceHead, every_class_present
from stance.metrics import classification_report
from stance.scoring import Scorer

runner = CliRunner()


def test_the_flag_threshold_follows_rare_positives_and_stays_at_one_half_on_balanced_data():
    # Editorial sentences score 0.2-0.35 (a calibrated probability on a corpus where they are rare).
    probs = [0.2, 0.3, 0.35, 0.25] + [0.02 * (i % 5) for i in range(40)]
    gold = [1, 1, 1, 1] + [0] * 40
    assert fit_flag_threshold(probs, gold) <= 0.2  # a fixed 0.5 would flag none of them
    balanced = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
    assert fit_flag_threshold(balanced, [1, 1, 1, 1, 0, 0, 0, 0]) == 0.5  # ties go to the nearest to 0.5


def test_class_weights_balance_the_counts_and_are_undone_before_calibration():
    framing = HEADS["framing"]
    assert framing.class_weights([1.0, 0.0, 0.0, 0.0]) == [3.0]
    assert framing.class_weights([0.5, 0.5]) == [1.0]  # soft labels count by their value
    assert framing.class_weights([0.0, 0.0]) is None  # nothing to balance without both classes
    module = framing.build(4, 0.0)
    before = float(module.bias.detach())
    framing.undo_class_weights(module, [3.0])
    assert float(module.bias.detach()) == pytest.approx(before - math.log(3.0))  # the weighted optimum's shift
    head = SentenceHead("subjectivity", ("objective", "subjective", "mixed"))
    assert head.class_weights([0, 0, 0, 1, 2, 2]) == pytest.approx([6 / 9, 2.0, 1.0])
    loss = head.loss(torch.zeros(2, 3), {"ids": torch.tensor([0, 1]), "class_weight": torch.tensor([1.0, 3.0, 1.0])})
    assert float(loss) == pytest.approx(math.log(3.0))  # uniform logits: the weighted mean is log(3) still


def test_macro_f1_with_an_absent_class_is_not_reported():
    report = classification_report([0, 0, 0], [0, 0, 1], ["neutral", "editorial"])
    assert not every_class_present(report)
    report["ece"] = 0.1
    assert "framing_macro_f1" not in HEADS["framing"].headline(report)


def rare_doccano(path, rows: int = 80, every: int = 10):
    """A doccano export where one sentence in `every` is biased, grouped by article of 4 sentences."""
    biased = [t for t, label in SENTENCES if label == "BIASED"]
    neutral = [t for t, label in SENTENCES if label == "NEUTRAL"]
    with path.open("w") as fh:
        for i in range(rows):
            label = "BIASED" if i % every == 0 else "NEUTRAL"
            text = (biased if label == "BIASED" else neutral)[i % 3] + f" ({i})"
            fh.write(json.dumps({"id": i, "text": text, "label": [label], "meta": {"group": f"a{i // 4}"}}) + "\n")
    return path


RARE = {"adapter": "doccano", "path": "rare.jsonl", "labels": {"BIASED": "editorial", "NEUTRAL": "neutral"}}


def test_training_on_rare_labels_weighs_them_warns_and_fits_a_threshold_the_scorer_uses(tmp_path, tiny_base):
    rare_doccano(tmp_path / "rare.jsonl")
    config = config_for(tmp_path, tiny_base, RARE)
    result = runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    # 8 of 80 biased; the training part keeps about that share: editorial weighs about 9 times as much.
    assert "class weights for framing" in result.output and "editorial x" in result.output
    log = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    weight = next(r for r in log if r.get("event") == "start")["class_weights"]["framing"][0]
    assert 5.0 < weight < 15.0
    # Validation holds fewer than 10 editorial sentences: said, with counts and what to do.
    assert "editorial sentences: framing figures from fewer than 10" in result.output.replace("\n", " ")
    assert "stance cv CONFIG --folds 5" in result.output
    # Every evaluation shows each class's precision and recall.
    assert "framing (rare) at threshold 0.50: neutral P" in result.output
    model = tmp_path / "run" / "model"
    saved = json.loads((model / "config.json").read_text())["heads"]["framing"]["threshold"]
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["framing_threshold"] == saved and "Flag threshold" in (model / "README.md").read_text()
    assert Scorer(model, backend="onnx").threshold == saved
    assert Scorer(model, backend="onnx", threshold=0.3).threshold == 0.3  # --threshold still wins


def test_continuing_from_a_model_scores_it_first_and_ends_with_a_verdict(tmp_path, trained, tiny_base):
    rare_doccano(tmp_path / "rare.jsonl", rows=120, every=4)
    config = config_for(tmp_path, tiny_base, RARE)
    result = runner.invoke(
        app, ["train", str(config), "-o", str(tmp_path / "run"), f"model.init_from={trained / 'model'}"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("the model you start from") < out.index("step ")  # scored before the first step
    assert "against the model it started from" in out and "framing_macro_f1" in out.split("against the model")[1]
    verdict = next(line for line in out.splitlines() if line.startswith("verdict:"))
    assert verdict in out.strip().splitlines()[-2:]  # the run's last words
    assert any(word in verdict for word in ("better than", "WORSE than", "not clearly better"))
    log = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert any(r.get("event") == "against_init" and "framing_macro_f1" in r["deltas"] for r in log)


def test_a_validation_split_without_editorial_sentences_says_so_instead_of_a_macro_f1(tmp_path, tiny_base):
    rare_doccano(tmp_path / "rare.jsonl", rows=40, every=40)  # one biased sentence, in the first article
    config = config_for(tmp_path, tiny_base, RARE)
    result = runner.invoke(app, ["train", str(config), "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "holds 0 editorial" in result.output.replace("\n", " ")
    assert "framing macro-F1 on rare: not shown, no editorial sentences in its validation split" in result.output
    assert "rare/framing_macro_f1" not in result.output  # no 0.5000 that means nothing
