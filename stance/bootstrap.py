"""The percentile interval both bootstraps report (`stance compare` on models and on score records)."""

from __future__ import annotations

from collections.abc import Iterable


def interval(draws: Iterable[float], level: float = 0.95) -> tuple[float, float]:
    """(low, high) percentile interval of bootstrap draws; (nan, nan) without any."""
    values = sorted(draws)
    if not values:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2
    return values[int(tail * (len(values) - 1))], values[int((1.0 - tail) * (len(values) - 1))]
