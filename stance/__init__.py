"""stance: sentence-level media framing, loaded-term and stance scoring for news."""

from __future__ import annotations

__version__ = "0.2.0"
