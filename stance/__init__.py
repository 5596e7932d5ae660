"""stance: sentence-level media framing, loaded-term and stance scoring for news."""

from __future__ import annotations

import os

__version__ = "0.2.0"

# oneDNN keeps a compiled kernel (with reordered weights) for every input shape it has seen;
# sentence batches come in many lengths, so its default cache of 1,024 entries grows RSS by
# hundreds of MB over a long run. 16 entries bound it at no measured speed cost. Set before
# torch initialises oneDNN; a value the user chose wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
