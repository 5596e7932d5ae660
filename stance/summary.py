"""Per-article summary records and the corpus-level summary printed at the end of a run."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .labels import STANCE_LABELS
from .records import (
    ATTRIBUTED,
    EDITORIAL,
    ERROR,
    QUOTED,
    SUMMARY,
    VOICES,
    SentenceRecord,
    SummaryRecord,
    speaker_of,
    speaks_for_outlet,
)

# The corpus tallies keep at most this many distinct terms and targets, so a run over millions of
# articles holds a fixed amount of memory; past it the rarest half is dropped (the table's top
# entries are then approximate counts, as in lossy counting).
TALLY_CAP = 20_000
SHOWN_ERRORS = 10
TOP_SOURCES = 3  # quoted sources named per target
SPEAKER_CAP = 50  # distinct sources kept per target in the corpus tally (pruned like TALLY_CAP)


def _stance_block(entries: list[dict]) -> dict:
    n = len(entries)
    mean = {label: round(sum(e["scores"][label] for e in entries) / n, 4) for label in STANCE_LABELS}
    counts = Counter(e["label"] for e in entries)
    return {
        "n": n,
        "mean_scores": mean,
        "counts": {label: counts.get(label, 0) for label in STANCE_LABELS},
        "label": max(mean, key=mean.get),
    }


def article_summary(sentences: list[SentenceRecord], top_terms: int = 10, title: str | None = None) -> SummaryRecord:
    """Summary record of one article from its sentence records."""
    first = sentences[0]
    # A model without some head writes no field for it: its part of the summary is then empty.
    # The outlet's sentences: editorial, or reported with loaded words of the outlet's own.
    editorial = [s for s in sentences if "framing" in s and speaks_for_outlet(s)]
    flagged = [s for s in editorial if s["framing"]["flag"]]
    terms = [t for s in sentences for t in s.get("loaded_terms", ())]
    by_target: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    speakers: dict[str, Counter] = defaultdict(Counter)
    for s in sentences:
        for st in s.get("stance", ()):
            # Whose view: the mention's own voice (a sentence can hold the outlet's words and a quote's).
            voice = st.get("voice") or s["voice"]
            by_target[st["target"]][voice["label"]].append(st)
            if voice["label"] != EDITORIAL and speaker_of(voice):
                speakers[st["target"]][speaker_of(voice)] += 1
    return {
        "record": SUMMARY,
        "doc_id": first["doc_id"],
        "path": first["path"],
        "title": title,
        "sentences": len(sentences),
        "framing_index": {
            "editorial_sentences": len(editorial),
            "flagged": len(flagged),
            "share_flagged": round(len(flagged) / len(editorial), 4) if editorial else 0.0,
            "mean_score": round(sum(s["framing"]["score"] for s in editorial) / len(editorial), 4)
            if editorial
            else None,
        },
        "loaded_terms": {
            "count": len(terms),
            "by_category": dict(Counter(t["category"] for t in terms)),
            "by_voice": dict(Counter(t["voice"]["label"] for t in terms)),
            "top": [
                {"text": text, "count": c}
                for text, c in Counter(t["text"].lower() for t in terms).most_common(top_terms)
            ],
        },
        "stance": [
            {
                "target": target,
                "overall": _stance_block([e for v in VOICES for e in voices.get(v, [])]),
                "by_voice": {v: _stance_block(voices[v]) for v in VOICES if voices.get(v)},
                # The outlet's own view beside the view of the sources it quotes or reports.
                "outlet": _stance_block(voices[EDITORIAL]) if voices.get(EDITORIAL) else None,
                "sources": _stance_block(reported)
                if (reported := voices.get(QUOTED, []) + voices.get(ATTRIBUTED, []))
                else None,
                "top_sources": [{"source": name, "n": n} for name, n in speakers[target].most_common(TOP_SOURCES)],
            }
            for target, voices in by_target.items()
        ],
    }


def _counts(counts: Counter) -> dict[str, int]:
    return {k: counts.get(k, 0) for k in STANCE_LABELS}


def _line(counts: Counter) -> str:
    return "  ".join(f"{k} {counts.get(k, 0)}" for k in STANCE_LABELS)


@dataclass
class CorpusSummary:
    """Running totals over a whole run, for the table printed at the end."""

    documents: int = 0
    failed: int = 0
    sentences: int = 0
    editorial: int = 0
    flagged: int = 0
    framing_sum: float = 0.0
    terms: Counter = field(default_factory=Counter)
    stance: dict = field(default_factory=lambda: defaultdict(Counter))
    # Per target, split by whose view: "outlet" (editorial) and "sources" (quoted or attributed).
    stance_by_view: dict = field(
        default_factory=lambda: defaultdict(lambda: {"outlet": Counter(), "sources": Counter()})
    )
    speakers: dict = field(default_factory=lambda: defaultdict(Counter))  # target -> quoted source -> mentions
    errors: list = field(default_factory=list)  # the first SHOWN_ERRORS failures, for the table
    skipped: int = 0  # files left out of folders for an unreadable suffix
    skipped_files: list = field(default_factory=list)  # the first SHOWN_ERRORS of them

    def skip(self, path) -> None:
        self.skipped += 1
        if len(self.skipped_files) < SHOWN_ERRORS:
            self.skipped_files.append(str(path))

    def add(self, record: dict) -> None:
        kind = record.get("record")
        if kind == ERROR:
            self.failed += 1
            if len(self.errors) < SHOWN_ERRORS:
                self.errors.append((record["path"], record["error"]))
        elif kind == SUMMARY:
            self.documents += 1
            fi = record["framing_index"]
            self.editorial += fi["editorial_sentences"]
            self.flagged += fi["flagged"]
            self.framing_sum += (fi["mean_score"] or 0.0) * fi["editorial_sentences"]
            self.sentences += record["sentences"]
            for t in record["loaded_terms"]["top"]:
                self.terms[t["text"]] += t["count"]
            for st in record["stance"]:
                target = st["target"]
                self.stance[target].update(st["overall"]["counts"])
                for view in ("outlet", "sources"):
                    if st.get(view):
                        self.stance_by_view[target][view].update(st[view]["counts"])
                speakers = self.speakers[target]
                for entry in st.get("top_sources", ()):
                    speakers[entry["source"]] += entry["n"]
                if len(speakers) > SPEAKER_CAP:
                    self.speakers[target] = Counter(dict(speakers.most_common(SPEAKER_CAP // 2)))
            if len(self.terms) > TALLY_CAP:
                self.terms = Counter(dict(self.terms.most_common(TALLY_CAP // 2)))
            if len(self.stance) > TALLY_CAP:
                self.stance = defaultdict(Counter, self.targets_by_mentions()[: TALLY_CAP // 2])
                for tally in (self.stance_by_view, self.speakers):
                    for target in [t for t in tally if t not in self.stance]:
                        del tally[target]

    @property
    def share_flagged(self) -> float:
        return self.flagged / self.editorial if self.editorial else 0.0

    @property
    def mean_framing(self) -> float | None:
        return self.framing_sum / self.editorial if self.editorial else None

    def to_dict(self) -> dict:
        """The closing summary as JSON (`--summary-json`)."""
        return {
            "documents": self.documents,
            "failed": self.failed,
            "skipped_files": self.skipped,
            "sentences": self.sentences,
            "editorial_sentences": self.editorial,
            "flagged": self.flagged,
            "share_flagged": round(self.share_flagged, 4),
            "mean_editorial_framing_score": round(self.mean_framing, 4) if self.mean_framing is not None else None,
            "top_loaded_terms": [{"text": t, "count": c} for t, c in self.terms.most_common(20)],
            "stance": [
                {
                    "target": t,
                    "counts": _counts(counts),
                    "outlet": _counts(self.stance_by_view[t]["outlet"]),
                    "sources": _counts(self.stance_by_view[t]["sources"]),
                    "top_sources": [{"source": name, "n": n} for name, n in self.speakers[t].most_common(TOP_SOURCES)],
                }
                for t, counts in self.targets_by_mentions()[:20]
            ],
            "failures": [{"path": p, "error": e} for p, e in self.errors],
            "skipped": self.skipped_files,
        }

    def targets_by_mentions(self) -> list[tuple[str, Counter]]:
        """(target, stance counts), most-mentioned target first."""
        return sorted(self.stance.items(), key=lambda kv: -sum(kv[1].values()))

    def render(self, console) -> None:
        from rich.table import Table

        table = Table(title="stance: corpus summary", show_header=True)
        table.add_column("measure")
        table.add_column("value", overflow="fold")
        table.add_row("documents scored", str(self.documents))
        table.add_row("documents failed", str(self.failed))
        table.add_row("files skipped", str(self.skipped))
        table.add_row("sentences", str(self.sentences))
        table.add_row("editorial sentences flagged", f"{self.flagged} / {self.editorial} ({self.share_flagged:.1%})")
        table.add_row("mean editorial framing score", f"{self.mean_framing or 0.0:.3f}")
        table.add_row("top loaded terms", ", ".join(f"{t} ({c})" for t, c in self.terms.most_common(8)) or "-")
        for target, counts in self.targets_by_mentions()[:8]:
            views = self.stance_by_view[target]
            row = f"all: {_line(counts)}\noutlet: {_line(views['outlet'])}\nquoted sources: {_line(views['sources'])}"
            top = ", ".join(f"{name} ({n})" for name, n in self.speakers[target].most_common(TOP_SOURCES))
            table.add_row(f"stance: {target}", row + (f"\n  top sources: {top}" if top else ""))
        console.print(table)
        for path, error in self.errors:
            console.print(f"[yellow]failed[/yellow] {path}: {error}")
        if self.failed > len(self.errors):
            console.print(f"... and {self.failed - len(self.errors)} more failures (see the error records)")
        for path in self.skipped_files:
            console.print(
                f"[yellow]skipped[/yellow] {path}: not a .txt/.md/.html/.json/.jsonl/.parquet file; "
                "pass it by name or use --glob to read it"
            )
        if self.skipped > len(self.skipped_files):
            console.print(f"... and {self.skipped - len(self.skipped_files)} more skipped files")
