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
