"""`stance compare A B -o SITE/` on score records: two outlets (or two periods) side by side.

A side is a score file or folder (`PATH`), or one group inside it (`PATH@GROUP`, grouped like `stance
report --group-by`). For each side: the flagged share of its editorial sentences and its mean framing
score, each with a 95% bootstrap interval (articles resampled), and the difference B - A with its
interval; the loaded terms one side uses and the other never does; and, for every target both sides
mention, stance counts split by voice (the outlet's own, or quoted / attributed speech).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .bootstrap import interval
from .labels import STANCE_LABELS
from .report import CSS, OUTLET, SOURCES, VOICE_BUCKETS, Article, articles, bucket, esc, page, read_records, stance_bars

DISTINCT_MIN = 1  # a term counts as one side's own when it occurs at least this often there and never on the other


@dataclass
class Side:
    name: str
    articles: list[Article] = field(default_factory=list)

    @property
    def terms(self) -> Counter:
        return Counter(
            t["text"].lower() for a in self.articles for s in a.sentences for t in s.get("loaded_terms") or []
        )

    @property
    def stance(self) -> dict[str, dict[str, Counter]]:
        out: dict[str, dict[str, Counter]] = {}
        for a in self.articles:
            for s in a.sentences:
                for st in s.get("stance") or []:
                    by = out.setdefault(st["target"], {OUTLET: Counter(), SOURCES: Counter()})
                    by[bucket(st.get("voice") or s.get("voice"))][st["label"]] += 1
        return out


def load_side(spec: str, group_by: str = "folder") -> Side:
    """`PATH` or `PATH@GROUP`."""
    path, _, group = spec.partition("@") if "@" in spec and not Path(spec).exists() else (spec, "", "")
    arts = [a for a in articles(read_records([path]), group_by) if not group or a.group == group]
    if not arts:
        from .errors import InputError

        raise InputError(f"expected articles in {spec}, found none" + (f" in group {group!r}" if group else ""))
    return Side(spec, arts)


def _rates(arts: list[Article]) -> tuple[float, float] | None:
    """(flagged share of editorial sentences, mean framing score of editorial sentences); None without any."""
    editorial = sum(len(a.editorial) for a in arts)
    flagged = sum(a.flagged for a in arts)
    scores = sum(s["framing"]["score"] for a in arts for s in a.editorial)
    return (flagged / editorial, scores / editorial) if editorial else None


def bootstrap(a: Side, b: Side, resamples: int = 1000, seed: int = 13) -> dict:
    """Flagged share and mean framing per side and B - A, with 95% intervals from resampling articles."""
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {k: [] for k in ("a_share", "b_share", "d_share", "a_mean", "b_mean", "d_mean")}
    for _ in range(resamples):
        ra = _rates(rng.choices(a.articles, k=len(a.articles)))
        rb = _rates(rng.choices(b.articles, k=len(b.articles)))
        if ra is None or rb is None:  # a resample without editorial sentences says nothing about the rate
            continue
        for key, value in zip(draws, (ra[0], rb[0], rb[0] - ra[0], ra[1], rb[1], rb[1] - ra[1])):
            draws[key].append(value)
    rates_a, rates_b = _rates(a.articles), _rates(b.articles)
    if rates_a is None or rates_b is None or not draws["d_share"]:
        from .errors import InputError

        raise InputError(
            f"expected editorial sentences on both sides to compare, found none in {a.name if rates_a is None else b.name}"
        )
    (a_share, a_mean), (b_share, b_mean) = rates_a, rates_b
    point = {"a_share": a_share, "b_share": b_share, "d_share": b_share - a_share,
             "a_mean": a_mean, "b_mean": b_mean, "d_mean": b_mean - a_mean}  # fmt: skip
    return {k: dict(zip(("value", "low", "high"), (point[k], *interval(v)))) for k, v in draws.items()}


def compare_sides(a: Side, b: Side, resamples: int = 1000) -> dict:
    ta, tb = a.terms, b.terms
    sa, sb = a.stance, b.stance
    return {
        "a": {"name": a.name, "articles": len(a.articles), "sentences": sum(len(x.sentences) for x in a.articles)},
        "b": {"name": b.name, "articles": len(b.articles), "sentences": sum(len(x.sentences) for x in b.articles)},
        "framing": bootstrap(a, b, resamples),
        "terms_only_a": [(t, n) for t, n in ta.most_common() if n >= DISTINCT_MIN and t not in tb][:30],
        "terms_only_b": [(t, n) for t, n in tb.most_common() if n >= DISTINCT_MIN and t not in ta][:30],
        "terms_shared": [(t, ta[t], tb[t]) for t, _ in (ta & tb).most_common(30)],
        "targets": {
            t: {"a": {v: dict(c) for v, c in sa[t].items()}, "b": {v: dict(c) for v, c in sb[t].items()}}
            for t in sorted(set(sa) & set(sb), key=lambda t: -sum(sum(c.values()) for c in sa[t].values()))
        },
    }


def _ci(m: dict, pct: bool = True) -> str:
    f = (lambda x: f"{x:.1%}") if pct else (lambda x: f"{x:.3f}")
    return f"{f(m['value'])} [{f(m['low'])}, {f(m['high'])}]"


def render_text(result: dict) -> str:
    fr = result["framing"]
    a, b = result["a"], result["b"]
    verdict = (
        "B flags more"
        if fr["d_share"]["low"] > 0
        else "A flags more"
        if fr["d_share"]["high"] < 0
        else "no clear difference"
    )
    lines = [
        f"A = {a['name']}: {a['articles']} articles, {a['sentences']} sentences",
        f"B = {b['name']}: {b['articles']} articles, {b['sentences']} sentences",
        f"flagged share of editorial sentences: A {_ci(fr['a_share'])}, B {_ci(fr['b_share'])}; "
        f"B - A {_ci(fr['d_share'])} ({verdict})",
        f"mean framing score: A {_ci(fr['a_mean'], False)}, B {_ci(fr['b_mean'], False)}; B - A {_ci(fr['d_mean'], False)}",
        "loaded terms only A uses: " + (", ".join(f"{t} ({n})" for t, n in result["terms_only_a"][:10]) or "none"),
        "loaded terms only B uses: " + (", ".join(f"{t} ({n})" for t, n in result["terms_only_b"][:10]) or "none"),
    ]
    for target, sides in list(result["targets"].items())[:10]:
        cells = []
        for side in ("a", "b"):
            for voice in (OUTLET, SOURCES):
                c = sides[side].get(voice) or {}
                if sum(c.values()):
                    cells.append(f"{side.upper()} {voice} " + "/".join(str(c.get(lab, 0)) for lab in STANCE_LABELS))
        lines.append(f"stance toward {target} (against/neutral/favor): " + "; ".join(cells))
    return "\n".join(lines)


def write_site(result: dict, out: Path, title: str = "stance compare") -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "style.css").write_text(CSS, encoding="utf-8")
    fr = result["framing"]
    a, b = result["a"], result["b"]

    def terms_table(rows, heads) -> str:
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{''.join(f'<th>{esc(h)}</th>' for h in heads)}</tr></thead><tbody>{body}</tbody></table>"

    targets = "".join(
        f"<tr><td>{esc(t)}</td><td>{stance_bars(_counters(s['a']))}</td><td>{stance_bars(_counters(s['b']))}</td></tr>"
        for t, s in list(result["targets"].items())[:30]
    )
    body = f"""<header><h1>{esc(title)}</h1>
<p class="meta">A = {esc(a["name"])} ({a["articles"]} articles, {a["sentences"]} sentences) &middot;
B = {esc(b["name"])} ({b["articles"]} articles, {b["sentences"]} sentences). Intervals: 95% bootstrap over articles.</p></header>
<main>
<h2>Editorial framing</h2>
<table id="framing"><thead><tr><th></th><th>A</th><th>B</th><th>B - A</th></tr></thead><tbody>
<tr><td>flagged share of editorial sentences</td><td>{esc(_ci(fr["a_share"]))}</td><td>{esc(_ci(fr["b_share"]))}</td><td>{esc(_ci(fr["d_share"]))}</td></tr>
<tr><td>mean framing score</td><td>{esc(_ci(fr["a_mean"], False))}</td><td>{esc(_ci(fr["b_mean"], False))}</td><td>{esc(_ci(fr["d_mean"], False))}</td></tr>
</tbody></table>
<h2>Loaded terms one side uses and the other does not (at least {DISTINCT_MIN} times)</h2>
<div class="cols"><div><h3>only A</h3>{terms_table(result["terms_only_a"], ["term", "count"])}</div>
<div><h3>only B</h3>{terms_table(result["terms_only_b"], ["term", "count"])}</div></div>
<h2>Loaded terms both use</h2>{terms_table(result["terms_shared"], ["term", "A", "B"])}
<h2>Stance toward targets both mention, by voice</h2>
<table id="targets"><thead><tr><th>target</th><th>A</th><th>B</th></tr></thead><tbody>{targets}</tbody></table>
</main>"""
    (out / "index.html").write_text(page(title, body), encoding="utf-8")
    return out / "index.html"


def _counters(by_voice: dict) -> dict[str, Counter]:
    return {v: Counter(by_voice.get(v) or {}) for v in VOICE_BUCKETS}
