"""stance: sentence-level media framing, loaded-term and stance scoring for news.

import stance
model = stance.load()
doc = model.score_text("The regime crushed the protest.", targets=["regime"])
"""

from __future__ import annotations

import os

__version__ = "0.8.0"

# Both of torch's CPU kernel caches keep an entry (compiled kernel, reordered weights, scratch
# buffers) for every input shape they see, and sentence batches come in hundreds of shapes:
# - oneDNN's primitive cache (default 1,024 entries);
# - ideep's LRU cache of matmul primitives, which the bf16 path goes through (default 1,024).
# Uncapped, they grew peak RSS on a 10,000-article run to 1.38 GB; capped, 0.61 GB, and memory
# stops growing with the corpus. 64 ideep entries keep the speed (16 cost 13% on that run).
# Set before torch initialises oneDNN; a value the user chose wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
os.environ.setdefault("LRU_CACHE_CAPACITY", "64")


def __getattr__(name: str):
    # `import stance` stays cheap (no torch): the API loads on first use.
    if name in ("load", "Model", "ScoredDocument"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")


__all__ = ["__version__", "load", "Model", "ScoredDocument"]
