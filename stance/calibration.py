"""Calibration from predictions: the framing logit's temperature and a decision threshold.

A leaf module: it takes numbers and a scoring function, and imports nothing else of stance."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.nn import functional as F

TEMPERATURE_RANGE = (0.05, 20.0)  # a fit at either end means the validation data could not place it


def fit_temperature(logits: Sequence[float], gold: Sequence[float], steps: int = 200) -> float:
    """Minimise the validation negative log-likelihood over a single temperature T > 0 (Guo et al. 2017)."""
    if len(logits) < 2:
        return 1.0
    x = torch.tensor(list(logits), dtype=torch.float64)
    y = torch.tensor(list(gold), dtype=torch.float64)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=steps)

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp().clamp(*TEMPERATURE_RANGE))


THRESHOLD_GRID = [round(0.1 + 0.05 * i, 2) for i in range(13)]  # 0.10 .. 0.70


def fit_threshold(score: Callable[[float], float], grid: Sequence[float] = THRESHOLD_GRID) -> float:
    """The threshold on `grid` that maximises `score(threshold)` (the first one on ties)."""
    return max(grid, key=score)


FLAG_GRID = [round(0.05 * i, 2) for i in range(1, 20)]  # 0.05 .. 0.95


FLAG_TOLERANCE = 0.02  # macro-F1 a threshold may give up to stay nearer 0.5 (see fit_flag_threshold)


def binary_macro_f1(probs: Sequence[float], gold: Sequence[int], threshold: float) -> float:
    """Macro-F1 of the two classes when P(positive) >= `threshold` answers positive (`gold`: 0/1)."""
    f1 = []
    for positive in (1, 0):
        tp = sum(1 for p, g in zip(probs, gold) if (p >= threshold) == bool(positive) and g == positive)
        predicted = sum(1 for p in probs if (p >= threshold) == bool(positive))
        actual = sum(1 for g in gold if g == positive)
        f1.append(2 * tp / (predicted + actual) if predicted + actual else 0.0)
    return sum(f1) / 2


def fit_flag_threshold(
    probs: Sequence[float], gold: Sequence[int], grid: Sequence[float] = FLAG_GRID, tolerance: float = FLAG_TOLERANCE
) -> float:
    """The threshold on P(positive) nearest 0.5 whose macro-F1 over `gold` (0/1), the figure the project
    reports for framing, is within `tolerance` of the best on `grid`. On a corpus where 5% of sentences
    are positive, a calibrated probability rarely reaches 0.5, so a fixed 0.5 flags almost nothing and
    the fit moves far; on a balanced one 0.5 is already near the best, and a threshold chased to the
    last hundredth of a few hundred sentences does worse on others (scripts/flag_threshold_cv.py)."""
    scores = {t: binary_macro_f1(probs, gold, t) for t in grid}
    best = max(scores.values())
    return min((t for t, f in scores.items() if f >= best - tolerance), key=lambda t: (abs(t - 0.5), t))
