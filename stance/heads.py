"""The model's heads, each declared once: labels, level, module, loss, decoding, metrics and record field.

A head is a `Head` object in the registry `HEADS`. The model, the batches, prediction, evaluation,
scoring, the model card and the terminal view loop over the registry (or over the heads a saved
model has), so adding a head means declaring it here, or calling `register()` from your own code:

    register(SentenceHead("subjectivity", labels=("objective", "subjective")))

Three levels cover the heads so far:
- `sentence`: one label per sentence, from the mean-pooled sentence vector (framing);
- `token`: a BIO tag per word, from each word's first sub-token (loaded terms);
- `mention`: one label per target mention, from the sentence and the mention's pooled tokens (stance).

Each head reads its labels from an Example (`label_of`: the built-in heads from their own fields, others
from `Example.labels[name]`; None means not labelled) and keeps them in `Encoded.labels[name]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .labels import FRAMING_LABELS, IGNORE_INDEX, LOADED_CATEGORIES, LOADED_TAGS, STANCE_LABELS, TAG_TO_ID

if TYPE_CHECKING:
    import torch
    from torch import nn

O_ID = TAG_TO_ID["O"]

# torch is imported inside the methods that train (build, logits, loss, collate), never at module
# level: scoring on ONNX Runtime builds records from these heads without loading torch at all.
# `outputs` turns a head's logits, as a numpy array from either engine, into plain Python values.


def every_class_present(metrics: dict) -> bool:
    """Does a classification report have gold sentences of every class (so its macro-F1 means something)?"""
    return bool(metrics.get("n")) and all(row["support"] for row in metrics.get("per_class", {}).values())


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


@dataclass
class Context:
    """What a head may use to build its record field for one scored sentence."""

    sentence: Any  # segmentation.Sentence
    voice: Any  # voice.Voice of the sentence
    speech: Any  # voice.SpeechRegions of the document: whose words each stretch is
    mentions: list[Any]  # targets.Mention per scored mention
    encoded: Any  # features.Encoded
    flag_threshold: float
    loaded_threshold: float
    reading: Any = None  # voice.Attribution: the attribution head's reading, made before the records


class Head:
    """A head's declaration. Subclasses fix the level; instances fix the name and labels."""

    level = "sentence"

    def __init__(self, name: str, labels: Sequence[str], description: str = "") -> None:
        self.name, self.labels, self.description = name, tuple(labels), description

    @property
    def record_field(self) -> str:
        return self.name

    def spec(self) -> dict:
        """What config.json stores of this head."""
        return {"labels": list(self.labels), "level": self.level}

    # -- the module and its loss
    def build(self, hidden: int, dropout: float) -> nn.Module:
        raise NotImplementedError

    def logits(self, module: nn.Module, hidden: torch.Tensor, sentence: torch.Tensor, mentions: dict):
        raise NotImplementedError

    def class_weights(self, values: Sequence[Any]) -> list[float] | None:
        """Loss weights that balance the classes of `values` (training labels): rare labels weigh more.
        None where the head has no classes to balance or the data misses one."""
        return None

    def undo_class_weights(self, module: nn.Module, weights: Sequence[float]) -> None:
        """Shift the trained logits back by what the weights added (log w: the weighted loss's optimum
        is the true logit plus log w), so probabilities stay calibrated and only learning was balanced."""

    def loss(self, logits: torch.Tensor, labels: dict[str, torch.Tensor]) -> torch.Tensor | None:
        raise NotImplementedError

    # -- labels: example -> encoded sentence -> batch tensors
    def label_of(self, example) -> Any:
        return example.labels.get(self.name)

    def encode_label(self, enc, example) -> None:
        value = self.label_of(example)
        if value is not None:
            enc.labels[self.name] = self.to_ids(value)

    def to_ids(self, value: Any) -> Any:
        return value

    def unlabel(self, example) -> None:
        """Drop this head's labels from an example (a dataset restricted to other heads)."""
        example.labels.pop(self.name, None)

    def collate(self, batch: Sequence, length: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    # -- prediction, records and metrics
    def outputs(self, logits: np.ndarray | None, batch: Sequence, model) -> list[Any]:
        """Per sentence of `batch`, in order, this head's output as plain Python values. `logits` is a
        float32 array; `model` is the engine (engines.py), which carries framing_temperature."""
        raise NotImplementedError

    def record(self, output: Any, ctx: Context) -> Any:
        raise NotImplementedError

    def metrics(self, encoded: Sequence, outputs: Sequence[Any], calibration: dict[str, float]) -> dict:
        """Metrics over the labelled sentences; `calibration` holds decision settings such as loaded_threshold."""
        raise NotImplementedError

    def headline(self, metrics: dict) -> dict[str, float]:
        """The few numbers reported per corpus (selection uses those ending in macro_f1, word_f1, span_f1_overlap)."""
        return {f"{self.name}_macro_f1": metrics["macro_f1"]} if every_class_present(metrics) else {}

    def describe(self, value: Any) -> str | None:
        """A short note for the terminal view, or None."""
        return None


# ---------------------------------------------------------------------------- sentence level


class SentenceHead(Head):
    """One of `labels` per sentence, softmax over the mean-pooled sentence vector. Labels are label
    names or indices."""

    level = "sentence"

    def build(self, hidden: int, dropout: float) -> nn.Module:
        from torch import nn

        return nn.Linear(hidden, len(self.labels))

    def logits(self, module, hidden, sentence, mentions):
        return module(sentence)

    def to_ids(self, value: Any) -> int:
        if isinstance(value, str):
            if value not in self.labels:
                raise ValueError(f"expected a {self.name} label in {list(self.labels)}, found {value!r}")
            return self.labels.index(value)
        return int(value)

    def collate(self, batch, length):
        import torch

        ids = [e.labels.get(self.name, IGNORE_INDEX) for e in batch]
        return {"ids": torch.tensor(ids, dtype=torch.long)}

    def class_weights(self, values):
        counts = [sum(1 for v in values if v == k) for k in range(len(self.labels))]
        if min(counts) == 0:
            return None
        return [sum(counts) / (len(counts) * n) for n in counts]  # each class weighs as much in total

    def undo_class_weights(self, module, weights):
        import torch

        with torch.no_grad():
            module.bias -= torch.log(torch.tensor(weights, dtype=module.bias.dtype, device=module.bias.device))

    def loss(self, logits, labels):
        from torch.nn import functional as F

        ids = labels["ids"].to(logits.device)
        if not (ids != IGNORE_INDEX).any():
            return None
        weight = labels.get("class_weight")
        weight = weight.to(logits.device).float() if weight is not None else None
        return F.cross_entropy(logits.float(), ids, weight=weight, ignore_index=IGNORE_INDEX)

    def outputs(self, logits, batch, model):
        return softmax(logits).tolist()

    def record(self, output, ctx):
        best = max(range(len(output)), key=output.__getitem__)
        return {"label": self.labels[best], "scores": {k: round(p, 4) for k, p in zip(self.labels, output)}}

    def metrics(self, encoded, outputs, calibration):
        from .metrics import classification_report

        rows = [(e.labels[self.name], o) for e, o in zip(encoded, outputs) if self.name in e.labels]
        gold = [g for g, _ in rows]
        pred = [max(range(len(o)), key=o.__getitem__) for _, o in rows]
        return classification_report(gold, pred, list(self.labels))

    def describe(self, value):
        return f"{self.name}: {value['label']} {value['scores'][value['label']]:.2f}"


class FramingHead(SentenceHead):
    """P(editorial) from one logit, trained with (soft) binary cross-entropy and temperature-scaled
    at the end of training; the record's flag needs the editorial voice too."""

    def __init__(self) -> None:
        super().__init__("framing", FRAMING_LABELS, "calibrated probability that the sentence is editorialised")

    def build(self, hidden, dropout):
        from torch import nn

        return nn.Linear(hidden, 1)

    def logits(self, module, hidden, sentence, mentions):
        return module(sentence).squeeze(-1)  # (B,)

    def label_of(self, example):
        return example.framing

    def unlabel(self, example):
        example.framing = None

    def to_ids(self, value):
        return float(value)

    def collate(self, batch, length):
        import torch

        target = torch.zeros(len(batch))
        mask = torch.zeros(len(batch))
        for i, enc in enumerate(batch):
            if self.name in enc.labels:
                target[i], mask[i] = enc.labels[self.name], 1.0
        return {"target": target, "mask": mask}

    def class_weights(self, values):
        # One weight, on the editorial class: the neutral mass over the editorial mass (soft labels count
        # by their value), so both classes weigh as much in total.
        editorial = sum(float(v) for v in values)
        neutral = len(values) - editorial
        return [neutral / editorial] if editorial > 0 and neutral > 0 else None

    def undo_class_weights(self, module, weights):
        import math

        import torch

        with torch.no_grad():
            module.bias -= math.log(weights[0])

    def loss(self, logits, labels):
        from torch.nn import functional as F

        mask = labels["mask"].to(logits.device)
        if mask.sum() <= 0:
            return None
        weight = labels.get("class_weight")
        pos_weight = weight.to(logits.device, logits.dtype) if weight is not None else None
        per = F.binary_cross_entropy_with_logits(
            logits, labels["target"].to(logits.device), reduction="none", pos_weight=pos_weight
        )
        return (per * mask).sum() / mask.sum()

    def outputs(self, logits, batch, model):
        # (logit, calibrated probability) per sentence.
        scores = 0.5 + 0.5 * np.tanh(logits / (2.0 * float(model.framing_temperature)))  # sigmoid, never overflows
        return list(zip(logits.tolist(), scores.tolist()))

    def record(self, output, ctx):
        # The score reaches the threshold; whether the slant is the outlet's (records.speaks_for_outlet)
        # needs the whole record, so the scorer completes the flag once the other heads have filled it.
        score = output[1]
        return {"score": round(score, 4), "flag": score >= ctx.flag_threshold}

    def metrics(self, encoded, outputs, calibration):
        from .metrics import classification_report, expected_calibration_error

        rows = [(e.labels[self.name], o[1]) for e, o in zip(encoded, outputs) if self.name in e.labels]
        gold = [int(f >= 0.5) for f, _ in rows]
        scores = [s for _, s in rows]
        threshold = calibration.get("framing_threshold", 0.5)  # where the model's flag is raised
        report = classification_report(gold, [int(s >= threshold) for s in scores], list(self.labels))
        report["ece"] = expected_calibration_error(scores, gold)
        report["threshold"] = threshold
        return report

    def headline(self, metrics):
        if not metrics.get("n"):
            return {}
        # Macro-F1 with a class absent from the gold labels means nothing (the absent class scores 0).
        macro = {"framing_macro_f1": metrics["macro_f1"]} if every_class_present(metrics) else {}
        return macro | {"framing_ece": metrics["ece"]}

    def describe(self, value):
        return None  # the terminal view shows framing in the margin


# ---------------------------------------------------------------------------- token level


class TokenTagHead(Head):
    """BIO tags per word over `categories`; labels are character spans with a category."""

    level = "token"

    def __init__(self, name: str, categories: Sequence[str], description: str = "") -> None:
        self.categories = tuple(categories)
        super().__init__(name, ["O"] + [f"{p}-{c}" for c in categories for p in ("B", "I")], description)
        self.tag_to_id = {t: i for i, t in enumerate(self.labels)}

    def build(self, hidden, dropout):
        from torch import nn

        return nn.Linear(hidden, len(self.labels))

    def logits(self, module, hidden, sentence, mentions):
        return module(hidden)  # (B, L, tags)

    # Terms made of function words alone are noise for loaded terms, not for every tagger ("he" is a source).
    content_words_only = False
    threshold_key: str | None = None  # the calibration entry holding this tagger's P(not O) threshold

    def encode_label(self, enc, example):
        from .features import word_tags_for_spans

        spans = self.label_of(example)
        if spans is not None:
            enc.labels[self.name] = word_tags_for_spans(enc.word_spans, spans, self.tag_to_id)

    def collate(self, batch, length):
        import torch

        tags = torch.full((len(batch), length), IGNORE_INDEX, dtype=torch.long)
        for i, enc in enumerate(batch):
            if self.name in enc.labels:
                for tok, tag in zip(enc.word_first_token, enc.labels[self.name]):
                    tags[i, tok] = tag
        return {"tags": tags}

    def loss(self, logits, labels):
        from torch.nn import functional as F

        tags = labels["tags"].to(logits.device)
        if not (tags != IGNORE_INDEX).any():
            return None
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tags.reshape(-1), ignore_index=IGNORE_INDEX)

    def outputs(self, logits, batch, model):
        # One gather and one softmax for the whole batch: per-sentence array ops cost more than the model.
        rows = np.fromiter((row for row, e in enumerate(batch) for _ in e.word_first_token), np.int64)
        cols = np.fromiter((t for e in batch for t in e.word_first_token), np.int64)
        probs = softmax(logits[rows, cols]).tolist()
        out, w = [], 0
        for e in batch:
            out.append(probs[w : w + len(e.word_first_token)])
            w += len(e.word_first_token)
        return out

    def decode(self, enc, probs, threshold: float = 0.5):
        from .inference import decode_spans

        return decode_spans(enc.word_spans, probs, threshold, enc.text, self.labels, self.content_words_only)

    def spans(self, enc, probs, threshold: float = 0.5) -> list[tuple[int, int, str]]:
        return [(s.start, s.end, s.category) for s in self.decode(enc, probs, threshold)]

    def headline(self, metrics):
        if not metrics.get("n"):
            return {}
        return {
            f"{self.name}_word_f1": metrics["word"]["f1"],
            f"{self.name}_span_f1_overlap": metrics["span"]["overlap"]["f1"],
            f"{self.name}_span_f1_exact": metrics["span"]["exact"]["f1"],
        }

    def entries(self, output, sent, enc, threshold: float = 0.5) -> list[tuple[dict, int, int]]:
        """(record entry, document start, document end) of each decoded span of the sentence `sent`."""
        out = []
        for s in self.decode(enc, output, threshold):
            start, end = sent.start + s.start, sent.start + s.end
            entry = {
                "start": start,
                "end": end,
                "text": sent.text[s.start : s.end],
                "score": round(s.score, 4),
                "category": s.category,
            }
            out.append((entry, start, end))
        return out

    def record(self, output, ctx):
        return [entry for entry, _, _ in self.entries(output, ctx.sentence, ctx.encoded)]

    def metrics(self, encoded, outputs, calibration):
        from .metrics import span_f1, word_f1

        threshold = calibration.get(self.threshold_key, 0.5) if self.threshold_key else 0.5
        rows = [(e, o) for e, o in zip(encoded, outputs) if self.name in e.labels]
        if not rows:
            return {"n": 0}
        one_hot = [
            [[1.0 if i == t else 0.0 for i in range(len(self.labels))] for t in e.labels[self.name]] for e, _ in rows
        ]
        # Gold spans are decoded from word-level gold tags, so both sides share word boundaries.
        gold_spans = [self.spans(e, g) for (e, _), g in zip(rows, one_hot)]
        pred_spans = [self.spans(e, o, threshold) for e, o in rows]
        gold_words = [[t != O_ID for t in e.labels[self.name]] for e, _ in rows]
        # Predicted words are the words inside the decoded spans: what the records hold, after span
        # edges are cleaned and function-word-only spans dropped.
        pred_words = [words_inside(e, spans) for (e, _), spans in zip(rows, pred_spans)]
        return {
            "n": len(rows),
            "threshold": threshold,
            "word": word_f1(gold_words, pred_words),
            "word_by_category": {c: self._category_word_f1(rows, pred_spans, c) for c in self.categories},
            "span": span_f1(gold_spans, pred_spans),
            "span_by_category": span_f1(gold_spans, pred_spans, match_category=True),
        }

    def _category_word_f1(self, rows, pred_spans, category: str) -> dict:
        """Word-level F1 of one category: gold tag B/I-category against the words of decoded spans of it."""
        from .metrics import word_f1

        ids = {self.labels.index(f"B-{category}"), self.labels.index(f"I-{category}")}
        gold = [[t in ids for t in e.labels[self.name]] for e, _ in rows]
        pred = [words_inside(e, [s for s in spans if s[2] == category]) for (e, _), spans in zip(rows, pred_spans)]
        return word_f1(gold, pred)


def words_inside(enc, spans) -> list[bool]:
    """Per word of `enc`: does it lie inside one of `spans` ((start, end, category) in sentence characters)?"""
    return [any(s <= ws and we <= e for s, e, _ in spans) for ws, we in enc.word_spans]


class LoadedTermsHead(TokenTagHead):
    """Loaded words and phrases (PTC's loaded language and name-calling), decoded to whole-word spans."""

    def __init__(self) -> None:
        super().__init__("loaded_terms", LOADED_CATEGORIES, "BIO tags of loaded language and name-calling / labelling")
        assert list(self.labels) == LOADED_TAGS

    content_words_only = True
    threshold_key = "loaded_threshold"

    def label_of(self, example):
        return example.spans

    def unlabel(self, example):
        example.spans = None

    def record(self, output, ctx):
        # Each term carries its own voice: a sentence can be half the outlet's words and half a quote.
        return [
            entry | {"voice": ctx.speech.voice_at(start, end, ctx.voice).as_field()}
            for entry, start, end in self.entries(output, ctx.sentence, ctx.encoded, ctx.loaded_threshold)
        ]

    def headline(self, metrics):
        if not metrics.get("n"):
            return {}
        return {
            "loaded_word_f1": metrics["word"]["f1"],
            "loaded_span_f1_overlap": metrics["span"]["overlap"]["f1"],
            "loaded_span_f1_exact": metrics["span"]["exact"]["f1"],
        }


# ---------------------------------------------------------------------------- mention level


class MentionHead(Head):
    """One of `labels` per target mention: [sentence; mention; sentence * mention] into a small MLP.
    Labels are (start, end, label) target objects; the mentions themselves are model inputs."""

    level = "mention"

    def build(self, hidden, dropout):
        from torch import nn

        return nn.Sequential(
            nn.Linear(3 * hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, len(self.labels))
        )

    def logits(self, module, hidden, sentence, mentions):
        import torch

        weights, rows = mentions.get("weights"), mentions.get("batch")
        if weights is None or weights.shape[0] == 0:
            return None
        mention = torch.einsum("tl,tlh->th", weights, hidden[rows])  # (T, H)
        context = sentence[rows]
        return module(torch.cat([context, mention, context * mention], -1))  # (T, labels)

    def label_of(self, example):
        """Label names aligned with `example.targets` (the mentions), or None."""
        return example.labels.get(self.name)

    def encode_label(self, enc, example):
        # The encoder keeps the mentions that survive truncation (`enc.mention_sources`: their indices
        # in example.targets); only those are labelled.
        values = self.label_of(example)
        if values is not None:
            enc.labels[self.name] = [self.labels.index(values[k]) for k in enc.mention_sources]

    def collate(self, batch, length):
        ids = []
        for enc in batch:
            labels = enc.labels.get(self.name)
            ids += labels if labels is not None else [IGNORE_INDEX] * len(enc.mentions)
        import torch

        return {"ids": torch.tensor(ids, dtype=torch.long)}

    def loss(self, logits, labels):
        from torch.nn import functional as F

        if logits is None:
            return None
        ids = labels["ids"].to(logits.device)
        if not (ids != IGNORE_INDEX).any():
            return None
        return F.cross_entropy(logits, ids, ignore_index=IGNORE_INDEX)

    def outputs(self, logits, batch, model):
        probs = softmax(logits).tolist() if logits is not None else []
        out, m = [], 0
        for e in batch:
            out.append(probs[m : m + len(e.mentions)])
            m += len(e.mentions)
        return out

    def metrics(self, encoded, outputs, calibration):
        from .metrics import classification_report

        gold, pred = [], []
        for e, o in zip(encoded, outputs):
            for label, probs in zip(e.labels.get(self.name) or [], o):
                gold.append(label)
                pred.append(max(range(len(probs)), key=probs.__getitem__))
        return classification_report(gold, pred, list(self.labels))


class StanceHead(MentionHead):
    """Against / neutral / favor toward each target mention."""

    def __init__(self) -> None:
        super().__init__("stance", STANCE_LABELS, "against / neutral / favor toward each target mention")

    def label_of(self, example):
        return [t.label for t in example.targets] if example.targets is not None else None

    def unlabel(self, example):
        example.targets = None  # the mentions go with their labels

    def record(self, output, ctx):
        return [
            {
                "target": m.target,
                "mention": m.text,
                "start": m.start,
                "end": m.end,
                "label": self.labels[max(range(len(probs)), key=probs.__getitem__)],
                "scores": {label: round(p, 4) for label, p in zip(self.labels, probs)},
                "voice": ctx.speech.voice_at(m.start, m.end, ctx.voice).as_field(),
            }
            for m, probs in zip(ctx.mentions, output)
        ]

    def headline(self, metrics):
        return {"stance_macro_f1": metrics["macro_f1"]} if metrics.get("n") else {}


# ---------------------------------------------------------------------------- the registry

HEADS: dict[str, Head] = {}


def register(head: Head) -> Head:
    """Declare a head: models trained from now on get it when their data labels it."""
    if head.name in HEADS:
        raise ValueError(f"expected a new head name, found {head.name!r} already registered")
    HEADS[head.name] = head
    return head


def unregister(name: str) -> None:
    HEADS.pop(name, None)


def heads_named(names) -> list[Head]:
    """Known heads among `names`, in registry order."""
    return [h for n, h in HEADS.items() if n in set(names)]


class AttributionHead(TokenTagHead):
    """Who speaks: BIO tags of attributions' source, cue and content spans (PolNeAR), for voice."""

    def __init__(self) -> None:
        super().__init__(
            "attribution", ("source", "cue", "content"), "reported speech: the source, cue and content of attributions"
        )

    def reading(self, output, enc, sentence):
        """The head's reading of one sentence for voice.py: its spans at document offsets, and the
        expected share of the sentence's characters inside attributions (each word weighted by its
        length). The record entries come with it, so the spans are decoded once."""
        from .voice import Attribution

        entries = _joined_neighbours(self.entries(output, sentence, enc), sentence)
        spans = [(start, end, entry["category"]) for entry, start, end in entries]
        lengths = [end - start for start, end in enc.word_spans]
        total = sum(lengths)
        share = sum(n * (1.0 - w[O_ID]) for n, w in zip(lengths, output)) / total if total else 0.0
        return Attribution(spans, share, [entry for entry, _, _ in entries])

    def record(self, output, ctx):
        return ctx.reading.entries if ctx.reading is not None else super().record(output, ctx)


def _joined_neighbours(entries: list[tuple[dict, int, int]], sentence) -> list[tuple[dict, int, int]]:
    """Neighbouring spans of one category with only spaces between them are one span: a second B-
    tag inside a source ("a" + "UN spokesperson") splits one name; two speakers have words between."""
    out: list[tuple[dict, int, int]] = []
    for entry, start, end in entries:
        if out:
            last, last_start, last_end = out[-1]
            gap = sentence.text[last_end - sentence.start : start - sentence.start]
            if last["category"] == entry["category"] and not gap.strip():
                chars = (last_end - last_start, end - start)
                score = (last["score"] * chars[0] + entry["score"] * chars[1]) / sum(chars)
                text = sentence.text[last_start - sentence.start : end - sentence.start]
                out[-1] = (last | {"end": end, "text": text, "score": round(score, 4)}, last_start, end)
                continue
        out.append((entry, start, end))
    return out


for _head in (FramingHead(), LoadedTermsHead(), StanceHead(), AttributionHead()):
    register(_head)
