"""Adapters: one function per corpus in ../shared/data, each returning `Example`s.

Each adapter reads the corpus in its published format (see the corpus's
PROVENANCE.md) and never copies it anywhere.
"""

from __future__ import annotations

import ast
import csv
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .alignment import align_words, cut_spans_into_sentence, merge_spans, strip_span
from .errors import DataError
from .examples import Example, Span, TaggedSpan, TargetLabel, normalize_text

csv.field_size_limit(1 << 28)  # MBIC repeats whole articles in one cell

BIAS_LABELS = {"Biased": 1.0, "Non-biased": 0.0}
PTC_CATEGORIES = {"Loaded_Language": "loaded_language", "Name_Calling,Labeling": "name_calling"}
NEWSMTSC_POLARITY = {2.0: "against", 4.0: "neutral", 6.0: "favor"}


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataError(
            f"expected {what} at {path}, found nothing there; point the dataset's `path` "
            f"(or data.root / $STANCE_DATA) at the corpus folder"
        )
    return path


def _read_semicolon_csv(path: Path) -> list[dict[str, str]]:
    with _require(path, "a ';'-separated CSV").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def _biased_words(cell: str) -> list[str]:
    cell = (cell or "").strip()
    if not cell:
        return []
    try:
        words = ast.literal_eval(cell)
    except (ValueError, SyntaxError):
        words = [w for w in cell.split(",")]
    return [str(w) for w in words if str(w).strip()]


def _vote_shares(raw_path: Path) -> dict[str, float]:
    """Share of annotators who called each sentence biased (soft framing target)."""
    votes: dict[str, list[float]] = defaultdict(list)
    if not raw_path.exists():
        return {}
    for row in _read_semicolon_csv(raw_path):
        value = row.get("Label_bias_0-1") or ""
        if value in ("0.0", "1.0"):
            votes[normalize_text(row["text"])].append(float(value))
    return {k: sum(v) / len(v) for k, v in votes.items()}


def _bias_sentences(path: Path, source: str, soft_path: Path | None) -> list[Example]:
    rows = _read_semicolon_csv(path)
    soft = _vote_shares(soft_path) if soft_path else {}
    examples = []
    for row in rows:
        text = row["text"].strip()
        if not text:
            continue
        hard = BIAS_LABELS.get(row.get("label_bias", ""))
        framing = hard
        if hard is not None and soft:
            share = soft.get(normalize_text(text))
            # The soft share refines the majority label, never flips it.
            if share is not None and (share >= 0.5) == (hard == 1.0):
                framing = share
        spans, _ = align_words(text, _biased_words(row.get("biased_words", "")))
        examples.append(
            Example(
                text=text,
                source=source,
                group=normalize_text(text),
                framing=framing,
                spans=spans,
            )
        )
    return examples


def load_babe(path: Path, soft_labels: bool = False, **_: object) -> list[Example]:
    """BABE SG2 (expert majority labels) with biased words; soft targets from raw_labels_SG2."""
    path = Path(path)
    file = path / "final_labels_SG2.csv" if path.is_dir() else path
    soft = (file.parent / "raw_labels_SG2.csv") if soft_labels else None
    return _bias_sentences(file, "babe", soft)


def load_mbic(path: Path, **_: object) -> list[Example]:
    """MBIC crowd labels. The same sentences as BABE SG1: list it after BABE so de-duplication drops them."""
    path = Path(path)
    file = path / "final_labels_MBIC.csv" if path.is_dir() else path
    return _bias_sentences(file, "mbic", None)


def _ptc_spans(label_file: Path) -> list[Span]:
    spans = []
    if not label_file.exists():
        return spans
    for line in label_file.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 4:
            continue
        _, technique, start, end = parts
        if technique in PTC_CATEGORIES:
            spans.append(Span(int(start), int(end), PTC_CATEGORIES[technique]))
    return spans


def ptc_article_sentences(text: str) -> list[tuple[int, int]]:
    """PTC articles hold one sentence per line: return (start, end) of each non-empty line."""
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            out.append((pos + lead, pos + len(line.rstrip())))
        pos += len(line) + 1
    return out


def load_ptc(path: Path, **_: object) -> list[Example]:
    """PTC training articles, cut into line-sentences, with Loaded_Language and Name_Calling spans."""
    path = Path(path)
    articles = sorted(_require(path / "train-articles", "PTC train-articles/").glob("article*.txt"))
    labels_dir = path / "train-labels-task2-technique-classification"
    examples = []
    for article in articles:
        article_id = article.stem.removeprefix("article")
        text = article.read_text(encoding="utf-8")
        spans = _ptc_spans(labels_dir / f"article{article_id}.task2-TC.labels")
        for start, end in ptc_article_sentences(text):
            sentence = text[start:end]
            local = [s for s in (strip_span(sentence, sp) for sp in cut_spans_into_sentence(spans, start, end)) if s]
            examples.append(
                Example(
                    text=sentence,
                    source="ptc",
                    group=f"ptc:{article_id}",
                    spans=merge_spans(local),
                )
            )
    return examples


def _newsmtsc_group(gid: str) -> str:
    # "allsides_1000_401_25_Reality Leigh Winner_0_6" -> article "allsides_1000_401"
    return "newsmtsc:" + "_".join(gid.split("_")[:3])


def load_newsmtsc(path: Path, **_: object) -> list[Example]:
    """NewsMTSC: sentiment toward each target mention, read as stance (neg/neu/pos -> against/neutral/favor)."""
    path = Path(path)
    file = path / "train.jsonl" if path.is_dir() else path
    examples = []
    with _require(file, "a NewsMTSC .jsonl file").open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{file}:{line_no}: expected a JSON object per line, found invalid JSON ({exc})"
                ) from None
            text = row["sentence_normalized"]
            targets = [
                TargetLabel(t["from"], t["to"], NEWSMTSC_POLARITY[float(t["polarity"])])
                for t in row["targets"]
                if float(t["polarity"]) in NEWSMTSC_POLARITY
            ]
            examples.append(
                Example(text=text, source="newsmtsc", group=_newsmtsc_group(row["primary_gid"]), targets=targets)
            )
    return examples


def load_checkthat(path: Path, **_: object) -> list[Example]:
    """CheckThat! English subjectivity: SUBJ read as editorial framing (a related, not identical, notion)."""
    path = Path(path)
    files = sorted(path.glob("*_en.tsv")) if path.is_dir() else [path]
    examples = []
    for file in files:
        with _require(file, "a CheckThat! .tsv file").open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                label = {"SUBJ": 1.0, "OBJ": 0.0}.get(row.get("label", ""))
                if label is None or not row.get("sentence", "").strip():
                    continue
                text = row["sentence"].strip()
                examples.append(Example(text=text, source="checkthat", group=normalize_text(text), framing=label))
    return examples


WIKI_NPOV_LABELS = {
    "statements_biased.txt": 1.0,
    "statements_neutral_featured.txt": 0.0,
    "statements_neutral_cw-hard.txt": 0.0,
    "statements_neutral_type_balanced.txt": 0.0,
}


def load_wiki_npov(path: Path, **_: object) -> list[Example]:
    """Wikipedia NPOV statements (Hube & Fetahu 2019): one statement per line, the file name is the
    label. Statements from edits that fixed a point-of-view violation read as editorial framing."""
    path = Path(path)
    files = [path / name for name in WIKI_NPOV_LABELS] if path.is_dir() else [path]
    examples = []
    for file in files:
        if file.name not in WIKI_NPOV_LABELS:
            raise DataError(f"expected one of the Wiki NPOV files {sorted(WIKI_NPOV_LABELS)}, found {file.name!r}")
        with _require(file, "a Wiki NPOV statements file").open(encoding="utf-8") as fh:
            for line in fh:
                text = line.strip()
                if text:
                    framing = WIKI_NPOV_LABELS[file.name]
                    examples.append(Example(text=text, source="wiki_npov", group=normalize_text(text), framing=framing))
    return examples


@dataclass
class Attribution:
    """One PolNeAR attribution relation: character spans (a part may be missing or discontinuous)."""

    source: list[tuple[int, int]]
    cue: list[tuple[int, int]]
    content: list[tuple[int, int]]


@dataclass
class AttributedArticle:
    name: str
    text: str
    attributions: list[Attribution]


def _brat_spans(offsets: str) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in (part.split() for part in offsets.split(";"))]


def read_polnear(path: Path) -> list[AttributedArticle]:
    """PolNeAR articles of one compartment (`polnear/dev` or `polnear/train`), one annotator's file each."""
    texts = _require(path / "text", "PolNeAR article texts (a text/ folder)")
    annotations = _require(path / "attributions", "PolNeAR BRAT files (an attributions/ folder)")
    by_article: dict[str, Path] = {}
    for ann in sorted(annotations.glob("*.ann")):
        by_article.setdefault(ann.stem.rsplit("_", 1)[0], ann)  # NAME_ANNOTATOR.ann: the first annotator's
    articles = []
    for txt in sorted(texts.glob("*.txt")):
        ann = by_article.get(txt.stem)
        if ann is None:
            continue
        spans: dict[str, tuple[str, list[tuple[int, int]]]] = {}
        relations = []
        for line in ann.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if line.startswith("T") and len(parts) >= 2:
                kind, _, offsets = parts[1].partition(" ")
                spans[parts[0]] = (kind, _brat_spans(offsets))
            elif line.startswith("E") and len(parts) >= 2:
                relations.append(dict(role.split(":", 1) for role in parts[1].split()))
        attributions = []
        for rel in relations:
            parts = {role: spans[t][1] for role, t in rel.items() if t in spans and role != "Attribution"}
            attributions.append(Attribution(parts.get("Source", []), parts.get("Cue", []), parts.get("Content", [])))
        articles.append(AttributedArticle(txt.stem, txt.read_text(encoding="utf-8"), attributions))
    return articles


def load_polnear(path: Path, **_: object) -> list[Example]:
    """PolNeAR sentences (stance's own segmentation) with their attribution parts as `attribution` spans.
    `path` is a compartment (polnear/train, polnear/dev); sentences group by article."""
    from .segmentation import split_sentences

    examples = []
    for article in read_polnear(path):
        parts = [
            (s, e, category)
            for a in article.attributions
            for category, spans in (("source", a.source), ("cue", a.cue), ("content", a.content))
            for s, e in spans
        ]
        for sent in split_sentences(article.text):
            spans = []
            for s, e, category in parts:
                start, end = max(s, sent.start), min(e, sent.end)
                if start < end and sent.text[start - sent.start : end - sent.start].strip():
                    spans.append(TaggedSpan(start - sent.start, end - sent.start, category))
            examples.append(
                Example(
                    text=sent.text,
                    source="polnear",
                    group=article.name,
                    labels={"attribution": sorted(spans, key=lambda x: x.start)},
                )
            )
    return examples


ADAPTERS: dict[str, Callable[..., list[Example]]] = {
    "babe": load_babe,
    "mbic": load_mbic,
    "ptc": load_ptc,
    "newsmtsc": load_newsmtsc,
    "checkthat": load_checkthat,
    "polnear": load_polnear,
    "wiki_npov": load_wiki_npov,
}
