"""Metrics per head: classification reports (scikit-learn), span F1 and calibration error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support


def classification_report(gold: Sequence[int], pred: Sequence[int], labels: list[str]) -> dict:
    ids = list(range(len(labels)))
    if len(gold) == 0:
        return {"n": 0}
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=ids, zero_division=0)
    return {
        "n": len(gold),
        "macro_f1": float(f1_score(gold, pred, labels=ids, average="macro", zero_division=0)),
        "accuracy": float(np.mean(np.asarray(gold) == np.asarray(pred))),
        "per_class": {
            name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, name in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "rows_gold_cols_pred": confusion_matrix(gold, pred, labels=ids).tolist(),
        },
    }


def expected_calibration_error(probs: Sequence[float], gold: Sequence[int], bins: int = 10) -> float:
    """ECE of P(editorial) with equal-width bins: the mean |accuracy - confidence| weighted by bin size."""
    probs, gold = np.asarray(probs, dtype=float), np.asarray(gold, dtype=float)
    if len(probs) == 0:
        return float("nan")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probs, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(gold[mask].mean() - probs[mask].mean())
    return float(ece)


def _f1(tp_p: int, n_pred: int, tp_g: int, n_gold: int) -> dict:
    precision = tp_p / n_pred if n_pred else 0.0
    recall = tp_g / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_pred": n_pred, "n_gold": n_gold}


Spans = Sequence[tuple[int, int, str]]


def span_f1(gold: Sequence[Spans], pred: Sequence[Spans], match_category: bool = False) -> dict:
    """Exact and overlap span F1 over sentences.

    Overlap: a predicted span is correct if it overlaps any gold span, and a gold span
    is found if any predicted span overlaps it (the lenient measure of the PTC literature).
    """

    def same(a, b) -> bool:
        return not match_category or a[2] == b[2]

    exact_p = exact_g = over_p = over_g = n_pred = n_gold = 0
    for g, p in zip(gold, pred):
        n_pred += len(p)
        n_gold += len(g)
        gold_set = {(s, e, c if match_category else "") for s, e, c in g}
        pred_set = {(s, e, c if match_category else "") for s, e, c in p}
        exact_p += len(pred_set & gold_set)
        over_p += sum(
            any(ps < ge and gs < pe and same(x, y) for y in g for gs, ge in [y[:2]]) for x in p for ps, pe in [x[:2]]
        )
        over_g += sum(
            any(ps < ge and gs < pe and same(x, y) for x in p for ps, pe in [x[:2]]) for y in g for gs, ge in [y[:2]]
        )
    exact_g = exact_p
    return {"exact": _f1(exact_p, n_pred, exact_g, n_gold), "overlap": _f1(over_p, n_pred, over_g, n_gold)}


def word_f1(gold: Sequence[Sequence[bool]], pred: Sequence[Sequence[bool]]) -> dict:
    """Binary F1 over words: is this word part of a loaded term?"""
    g = np.concatenate([np.asarray(x, dtype=bool) for x in gold]) if gold else np.zeros(0, bool)
    p = np.concatenate([np.asarray(x, dtype=bool) for x in pred]) if pred else np.zeros(0, bool)
    tp = int((g & p).sum())
    return _f1(tp, int(p.sum()), tp, int(g.sum()))
