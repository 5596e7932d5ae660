"""Temperature scaling of the framing logit, so that `framing.score` is a calibrated probability."""

from __future__ import annotations

from typing import Sequence

import torch
from torch.nn import functional as F


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
    return float(log_t.detach().exp().clamp(0.05, 20.0))


THRESHOLD_GRID = [round(0.1 + 0.05 * i, 2) for i in range(13)]  # 0.10 .. 0.70


def fit_loaded_threshold(per_source: list[tuple[list, list]]) -> float:
    """The P(loaded) threshold that maximises word F1 + overlap span F1, averaged over corpora.

    `per_source` holds (encoded, predictions) of each validation corpus with loaded-term labels;
    the predictions are computed once and only re-decoded per threshold.
    """
    from .evaluation import loaded_term_metrics

    def score(threshold: float) -> float:
        values = []
        for encoded, preds in per_source:
            m = loaded_term_metrics(encoded, preds, threshold)
            if m.get("n"):
                values += [m["word"]["f1"], m["span"]["overlap"]["f1"]]
        return sum(values) / len(values) if values else 0.0

    return max(THRESHOLD_GRID, key=score) if per_source else 0.5
