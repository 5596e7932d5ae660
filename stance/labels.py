"""Label inventories of the built-in heads (declared in heads.py).

These lists are part of the saved model: `modeling.load_model` compares the
lists stored in a model's config.json with the heads' and refuses to load on any
difference, so label ids can never drift between training and scoring.
"""

from __future__ import annotations

FRAMING_LABELS = ["neutral", "editorial"]

# Loaded-term categories follow PTC: loaded language vs. labelling / name-calling.
LOADED_CATEGORIES = ["loaded_language", "name_calling"]
LOADED_TAGS = ["O"] + [f"{p}-{c}" for c in LOADED_CATEGORIES for p in ("B", "I")]

STANCE_LABELS = ["against", "neutral", "favor"]


IGNORE_INDEX = -100

TAG_TO_ID = {t: i for i, t in enumerate(LOADED_TAGS)}
