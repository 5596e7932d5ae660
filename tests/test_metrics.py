from __future__ import annotations

import pytest

from stance.calibration import fit_temperature
from stance.metrics import classification_report, expected_calibration_error, span_f1, word_f1


def test_span_f1_exact_and_overlap():
    gold = [[(0, 5, "a"), (10, 20, "a")]]
    pred = [[(0, 5, "a"), (12, 15, "b"), (30, 35, "a")]]
    result = span_f1(gold, pred)
    assert result["exact"]["precision"] == pytest.approx(1 / 3)
    assert result["exact"]["recall"] == pytest.approx(1 / 2)
    assert result["overlap"]["precision"] == pytest.approx(2 / 3)
    assert result["overlap"]["recall"] == pytest.approx(1.0)
    by_cat = span_f1(gold, pred, match_category=True)
    assert by_cat["overlap"]["recall"] == pytest.approx(1 / 2)


def test_word_f1():
    assert word_f1([[True, False, True]], [[True, True, False]])["f1"] == pytest.approx(0.5)


def test_classification_report_has_confusion_matrix():
    report = classification_report([0, 1, 2, 2], [0, 2, 2, 2], ["against", "neutral", "favor"])
    assert report["confusion_matrix"]["rows_gold_cols_pred"] == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    assert report["per_class"]["favor"]["precision"] == pytest.approx(2 / 3)


def test_ece_of_perfectly_calibrated_and_overconfident_scores():
    assert expected_calibration_error([0.0, 1.0], [0, 1]) == pytest.approx(0.0)
    assert expected_calibration_error([0.95] * 10, [1] * 5 + [0] * 5) == pytest.approx(0.45)


def test_temperature_softens_overconfident_logits():
    logits = [8.0, -8.0] * 20 + [8.0, -8.0]
    gold = [1.0, 0.0] * 15 + [0.0, 1.0] * 5 + [1.0, 0.0]
    assert fit_temperature(logits, gold) > 2.0
