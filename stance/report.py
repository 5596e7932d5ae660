"""`stance report`: score records -> a static site that opens from disk (no server, no network).

SITE/index.html       corpus figures, flagged share per group, top loaded terms by voice, stance per
                      target by voice (inline SVG), and a sortable, paginated table of articles
SITE/articles.js      the table's rows as data (the index renders 50 at a time, so 10,000 articles stay fast)
SITE/a/NNNNNN.html    one page per article: its sentences, flagged ones marked, loaded terms highlighted
                      by voice, details on hover or keyboard focus, and its per-target stance
SITE/style.css, SITE/site.js

Every string from the records (article text, ids, paths, sources, targets, alternatives) goes through
`esc` into the HTML, and the script only sets `textContent`: nothing from an article can run.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .labels import STANCE_LABELS
from .records import EDITORIAL, ERROR, SENTENCE, SUMMARY, speaker_of, speaks_for_outlet, unflatten
from .site_assets import CSS, JS
from .summary import CorpusSummary

OUTLET, SOURCES = "outlet", "sources"  # whose voice: the outlet's own, or quoted / attributed speech
VOICE_BUCKETS = {OUTLET: "outlet's own voice", SOURCES: "quoted or attributed speech"}
STANCE_COLOURS = {"against": "#c0392b", "neutral": "#aab7b8", "favor": "#27ae60"}
TOP_TERMS, TOP_TARGETS = 25, 20
NO_TARGETS = '<tr><td colspan="5" class="note">no target is mentioned in this article</td></tr>'


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def bucket(voice: dict | None) -> str:
    return OUTLET if (voice or {}).get("label", EDITORIAL) == EDITORIAL else SOURCES


# ---------------------------------------------------------------------------- reading records


def score_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix in (".jsonl", ".parquet"))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"expected score files (.jsonl, .parquet) or folders of them, found no such path: {p}")
    if not files:
        raise InputError(f"expected .jsonl or .parquet score files in {', '.join(map(str, paths))}, found none")
    return files


def read_records(paths: Iterable[str | Path]) -> Iterator[dict]:
    for path in score_files(paths):
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(str(path)).iter_batches():
                yield from (unflatten(row) for row in batch.to_pylist())
            continue
        if path.suffix != ".jsonl":
            raise InputError(f"expected a .jsonl or .parquet score file from `stance score`, found {path.name!r}")
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise InputError(f"{path}: line {n}: expected a JSON record, found bad JSON ({exc})") from None


@dataclass
class Article:
    doc_id: str
    path: str
    group: str
    sentences: list[dict] = field(default_factory=list)
    summary: dict | None = None
    error: str | None = None

    @property
    def title(self) -> str:
        """What a reader calls the article: its title where it has one, else its id."""
        return (self.summary or {}).get("title") or self.doc_id

    @property
    def editorial(self) -> list[dict]:
        return [s for s in self.sentences if "framing" in s and speaks_for_outlet(s)]

    @property
    def flagged(self) -> int:
        return sum(bool(s["framing"]["flag"]) for s in self.editorial)

    @property
    def mean_score(self) -> float | None:
        ed = self.editorial
        return sum(s["framing"]["score"] for s in ed) / len(ed) if ed else None


def group_of(record: dict, group_by: str) -> str:
    """The record's `group_by` field, else the folder its file is in (`folder`: always that)."""
    if group_by != "folder" and record.get(group_by) not in (None, ""):
        return str(record[group_by])
    path = str(record.get("path", ""))
    file = path.rsplit(":", 1)[0] if re.search(r":\d+$", path) else path  # `feed.jsonl:12`: the 12th record of a file
    return Path(file).parent.name or "."


def articles(records: Iterable[dict], group_by: str = "folder") -> Iterator[Article]:
    """Records grouped into articles: a document's records are consecutive, closed by its summary or error."""
    current: Article | None = None
    for record in records:
        key = (record.get("doc_id"), record.get("path"))
        if current is None or (current.doc_id, current.path) != key:
            if current is not None:
                yield current
            current = Article(str(record.get("doc_id")), str(record.get("path")), group_of(record, group_by))
        kind = record.get("record")
        if kind == SENTENCE:
            current.sentences.append(record)
        elif kind == SUMMARY:
            current.summary = record
        elif kind == ERROR:
            current.error = record.get("error")
    if current is not None:
        yield current


# ---------------------------------------------------------------------------- the corpus tally


@dataclass
class Tally:
    """What the index shows: the corpus totals and stance by view (the same `CorpusSummary` that
    `stance score` prints, fed each article's closing record), plus what the report adds per group,
    per voice and per article."""

    corpus: CorpusSummary = field(default_factory=CorpusSummary)
    groups: dict = field(default_factory=lambda: defaultdict(Counter))
    group_scores: dict = field(default_factory=lambda: defaultdict(float))
    terms: dict = field(default_factory=lambda: {OUTLET: Counter(), SOURCES: Counter()})
    alternatives: dict = field(default_factory=dict)  # term -> its alternatives, where the lexicon has some
    rows: list = field(default_factory=list)

    @property
    def articles(self) -> int:
        return self.corpus.documents + self.corpus.failed

    def add(self, art: Article, href: str) -> None:
        closing = art.summary if art.error is None else {"record": ERROR, "path": art.path, "error": art.error}
        if closing is not None:
            self.corpus.add(closing)
        g = self.groups[art.group]
        ed = art.editorial
        g["documents"] += 1
        g["sentences"] += len(art.sentences)
        g["editorial"] += len(ed)
        g["flagged"] += art.flagged
        self.group_scores[art.group] += sum(s["framing"]["score"] for s in ed)
        words = Counter()
        for s in art.sentences:
            for t in s.get("loaded_terms") or []:
                term = t["text"].lower()
                self.terms[bucket(t.get("voice") or s.get("voice"))][term] += 1
                words[term] += 1
                if t.get("alternatives"):
                    self.alternatives.setdefault(term, t["alternatives"])
        mean = art.mean_score
        self.rows.append(
            {
                "href": href,
                "doc": art.title,
                "group": art.group,
                "sentences": len(art.sentences),
                "flagged": art.flagged,
                "share": round(art.flagged / len(ed), 4) if ed else None,
                "mean": round(mean, 4) if mean is not None else None,
                "terms": sum(words.values()),
                "top": ", ".join(w for w, _ in words.most_common(3)),
            }
        )


# ---------------------------------------------------------------------------- HTML


def page(title: str, body: str, depth: int = 0) -> str:
    up = "../" * depth
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title><link rel="stylesheet" href="{up}style.css"></head>\n'
        f"<body>{body}</body></html>\n"
    )


def _figure(label: str, value) -> str:
    return f'<div class="figure"><b>{esc(value)}</b>{esc(label)}</div>'


def stance_bars(counts: dict[str, Counter], width: int = 360) -> str:
    """One stacked bar per voice bucket (against / neutral / favor), with the counts written out."""
    rows = [(name, counts[name]) for name in (OUTLET, SOURCES) if sum(counts[name].values())]
    if not rows:
        return "—"
    height = 22 * len(rows) + 4
    parts = [f'<svg role="img" width="{width + 320}" height="{height}" aria-label="stance counts by voice">']
    total_max = max(sum(c.values()) for _, c in rows)
    for i, (name, c) in enumerate(rows):
        y, x = 2 + 22 * i, 90
        parts.append(f'<text class="bar-label" x="0" y="{y + 14}">{esc(name)}</text>')
        for label in STANCE_LABELS:
            w = width * c[label] / total_max
            if w:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="18" fill="{STANCE_COLOURS[label]}">'
                    f"<title>{esc(name)}: {esc(label)} {c[label]}</title></rect>"
                )
            x += w
        text = " / ".join(f"{c[label]} {label}" for label in STANCE_LABELS)
        parts.append(f'<text class="bar-label" x="{x + 6:.1f}" y="{y + 14}">{esc(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_bar(share: float, width: int = 160) -> str:
    return (
        f'<svg width="{width}" height="14" role="img" aria-label="flagged share {share:.2f}">'
        f'<rect width="{width}" height="14" fill="#eee"/><rect width="{width * share:.1f}" height="14" fill="#e67e22"/></svg>'
    )


def index_page(tally: Tally, title: str, seconds: float | None = None) -> str:
    corpus = tally.corpus
    figures = "".join(
        [
            _figure("articles", f"{tally.articles:,}"),
            _figure("sentences", f"{corpus.sentences:,}"),
            _figure("flagged editorial sentences", f"{corpus.flagged:,}"),
            _figure("flagged share (outlet's own voice)", f"{corpus.share_flagged:.1%}"),
        ]
        + ([_figure("articles that failed", corpus.failed)] if corpus.failed else [])
    )
    group_rows = "".join(
        f"<tr><td>{esc(name)}</td><td class=num>{g['documents']}</td><td class=num>{g['sentences']}</td>"
        f"<td class=num>{(g['flagged'] / g['editorial'] if g['editorial'] else 0):.3f}</td>"
        f"<td>{share_bar(g['flagged'] / g['editorial'] if g['editorial'] else 0)}</td>"
        f"<td class=num>{(tally.group_scores[name] / g['editorial']) if g['editorial'] else 0:.3f}</td></tr>"
        for name, g in sorted(tally.groups.items())
    )
    term_tables = "".join(
        f"<div><h3>{esc(VOICE_BUCKETS[b])}</h3><table><thead><tr><th>term</th><th class=num>count</th>"
        "<th>neutral alternatives</th></tr></thead><tbody>"
        + "".join(
            f"<tr><td>{esc(t)}</td><td class=num>{n}</td><td>{esc(', '.join(tally.alternatives.get(t, [])))}</td></tr>"
            for t, n in tally.terms[b].most_common(TOP_TERMS)
        )
        + "</tbody></table></div>"
        for b in (OUTLET, SOURCES)
    )
    stance_rows = "".join(
        f"<tr><td>{esc(target)}</td><td>{stance_bars(corpus.stance_by_view[target])}</td></tr>"
        for target, _ in corpus.targets_by_mentions()[:TOP_TARGETS]
    )
    legend = "".join(
        f'<span><span class="swatch" style="background:{colour}"></span>{label}</span>'
        for label, colour in STANCE_COLOURS.items()
    )
    built = f" Built in {seconds:.1f} s." if seconds is not None else ""
    body = f"""<header><h1>{esc(title)}</h1>
<p class="meta">Scored by stance. Flagged: an editorial sentence (the outlet's own voice) whose framing score is at
least the run's threshold. Quoted and attributed speech is never flagged; its loaded terms are counted apart.{built}</p></header>
<main>
<div class="figures" id="corpus-figures">{figures}</div>
<h2>Flagged share and mean framing score per group</h2>
<table id="groups"><thead><tr><th>group</th><th class=num>articles</th><th class=num>sentences</th>
<th class=num>flagged share</th><th></th><th class=num>mean framing score</th></tr></thead><tbody>{group_rows}</tbody></table>
<h2>Top loaded terms, by voice</h2>
<div class="cols" id="terms">{term_tables}</div>
<h2>Stance toward each target, by voice</h2>
<p class="legend">{legend}</p>
<table id="stance"><thead><tr><th>target</th><th>mentions: against / neutral / favor</th></tr></thead><tbody>{stance_rows}</tbody></table>
<h2>Articles</h2>
<div class="pager"><input id="filter" type="search" placeholder="filter by id, group or term" aria-label="filter articles">
<button id="prev" type="button">previous</button><button id="next" type="button">next</button><span id="page-info"></span></div>
<table id="articles"><thead><tr><th data-key="doc">article</th><th data-key="group">group</th>
<th data-key="sentences" class=num>sentences</th><th data-key="flagged" class=num>flagged</th>
<th data-key="share" class=num>flagged share</th><th data-key="mean" class=num>mean framing</th>
<th data-key="terms" class=num>loaded terms</th><th>top terms</th></tr></thead><tbody></tbody></table>
</main>
<script src="articles.js"></script><script src="site.js"></script>"""
    return page(title, body)


def _term_tip(term: dict, voice: dict) -> str:
    parts = [f"loaded term ({term.get('category', '').replace('_', ' ')}), score {term.get('score', 0):.2f}"]
    parts.append(f"voice: {voice.get('label', EDITORIAL)}" + (f" ({speaker_of(voice)})" if speaker_of(voice) else ""))
    if term.get("alternatives"):
        parts.append("neutral alternatives: " + ", ".join(term["alternatives"]))
    return "<br>".join(esc(p) for p in parts)


def _sentence_tip(s: dict) -> str:
    voice = s.get("voice") or {}
    parts = []
    if "framing" in s:
        parts.append(f"framing {s['framing']['score']:.2f}" + (" (flagged)" if s["framing"]["flag"] else ""))
    parts.append(
        f"voice: {voice.get('label', EDITORIAL)}" + (f", source: {speaker_of(voice)}" if speaker_of(voice) else "")
    )
    for st in s.get("stance") or []:
        parts.append(f"stance toward {st['target']}: {st['label']} {st['scores'][st['label']]:.2f}")
    return "<br>".join(esc(p) for p in parts)


def sentence_html(s: dict) -> str:
    """The sentence's text with its loaded terms marked; every piece escaped."""
    text, offset = s["text"], s["start"]
    out, pos = [], 0
    for t in sorted(s.get("loaded_terms") or [], key=lambda t: t["start"]):
        start, end = t["start"] - offset, t["end"] - offset
        if start < pos or end > len(text):
            continue  # overlapping or out-of-range spans are shown as plain text
        voice = t.get("voice") or s.get("voice") or {}
        out.append(esc(text[pos:start]))
        out.append(
            f'<mark class="term v-{esc(voice.get("label", EDITORIAL))}" tabindex="0">{esc(text[start:end])}'
            f'<span class="tip" role="tooltip">{_term_tip(t, voice)}</span></mark>'
        )
        pos = end
    out.append(esc(text[pos:]))
    voice = (s.get("voice") or {}).get("label", EDITORIAL)
    flagged = " flagged" if s.get("framing", {}).get("flag") else ""
    return (
        f'<span class="s {esc(voice)}{flagged}" tabindex="0">{"".join(out)}'
        f'<span class="tip" role="tooltip">{_sentence_tip(s)}</span></span>'
    )


def article_page(art: Article) -> str:
    ed = art.editorial
    mean = art.mean_score
    facts = [
        f"group {art.group}",
        f"{len(art.sentences)} sentences",
        f"{art.flagged} of {len(ed)} editorial sentences flagged",
    ]
    if mean is not None:
        facts.append(f"mean framing score {mean:.2f}")
    text = "".join(f"<p>{' '.join(sentence_html(s) for s in paragraph)}</p>" for paragraph in paragraphs(art.sentences))
    error = f'<p class="note">This article failed: {esc(art.error)}</p>' if art.error else ""
    rows = ""
    for entry in (art.summary or {}).get("stance") or []:
        by_voice = entry.get("by_voice") or {}
        cells = []
        for voices in ((EDITORIAL,), ("quoted", "attributed")):  # outlet, then sources
            counts = Counter()
            for v in voices:
                counts.update((by_voice.get(v) or {}).get("counts") or {})
            cells.append(" / ".join(f"{counts.get(label, 0)} {label}" for label in STANCE_LABELS) if counts else "—")
        sources = ", ".join(s.get("source", "") for s in entry.get("top_sources") or [] if isinstance(s, dict))
        overall = entry.get("overall") or {}
        rows += (
            f"<tr><td>{esc(entry['target'])}</td><td>{esc(overall.get('label', ''))}</td>"
            f"<td>{esc(cells[0])}</td><td>{esc(cells[1])}</td><td>{esc(sources)}</td></tr>"
        )
    legend = (
        '<p class="legend"><span><span class="swatch" style="background:#fdebd0"></span>flagged editorial sentence</span>'
        '<span><span class="swatch" style="background:#fadbd8"></span>loaded term, outlet\'s voice</span>'
        '<span><span class="swatch" style="background:#d6eaf8"></span>loaded term, quoted</span>'
        '<span><span class="swatch" style="background:#e8daef"></span>loaded term, attributed</span>'
        " Hover or focus (Tab) a sentence or a term for details.</p>"
    )
    body = f"""<header><p><a href="../index.html">&larr; all articles</a></p><h1>{esc(art.title)}</h1>
<p class="meta">{esc(art.path)} &middot; {esc(" · ".join(facts))}</p></header>
<main>{error}{legend}<article class="text" id="text">{text}</article>
<h2>Stance per target</h2>
<table id="article-stance"><thead><tr><th>target</th><th>overall</th><th>{esc(VOICE_BUCKETS[OUTLET])}</th>
<th>{esc(VOICE_BUCKETS[SOURCES])}</th><th>quoted sources</th></tr></thead><tbody>{rows or NO_TARGETS}</tbody></table></main>"""
    return page(f"{art.title} · stance", body, depth=1)


def paragraphs(sentences: list[dict]) -> list[list[dict]]:
    """Sentences grouped by the article's paragraphs (records before 0.8 have none: one paragraph)."""
    out: list[list[dict]] = []
    for s in sentences:
        if not out or s.get("paragraph", 0) != out[-1][-1].get("paragraph", 0):
            out.append([])
        out[-1].append(s)
    return out


def _js_data(obj) -> str:
    # `<` escaped too, so the data stays inert even if the file were ever inlined into a page.
    return json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c")


@dataclass
class SiteStats:
    documents: int
    pages: int
    bytes: int
    seconds: float


def build_site(
    paths: Iterable[str | Path], out: Path, group_by: str = "folder", title: str = "stance report"
) -> SiteStats:
    started = time.perf_counter()
    out = Path(out)
    shutil.rmtree(out / "a", ignore_errors=True)  # no stale pages from an earlier, larger build
    (out / "a").mkdir(parents=True, exist_ok=True)
    tally = Tally()
    for n, art in enumerate(articles(read_records(paths), group_by), 1):
        href = f"a/{n:06d}.html"
        (out / href).write_text(article_page(art), encoding="utf-8")
        tally.add(art, href)
    if not tally.rows:
        raise InputError(f"expected score records in {', '.join(map(str, paths))}, found none")
    (out / "style.css").write_text(CSS, encoding="utf-8")
    (out / "site.js").write_text(JS, encoding="utf-8")
    (out / "articles.js").write_text(f"window.STANCE_ARTICLES = {_js_data({'rows': tally.rows})};\n", encoding="utf-8")
    seconds = time.perf_counter() - started
    (out / "index.html").write_text(index_page(tally, title, seconds), encoding="utf-8")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return SiteStats(len(tally.rows), len(tally.rows) + 1, size, time.perf_counter() - started)
