"""`stance report` and the outlet `compare` site: built from real `stance score` output, escaped
everywhere, and checked in a real browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stance.cli import app

runner = CliRunner()
XSS = (
    "The <script>alert(1)</script> regime <img src=x onerror=alert(1)> slammed the brave critics. "
    'See <a href="javascript:alert(1)">this</a> link, the corrupt regime said.'
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def scored(trained, tmp_path_factory) -> Path:
    """Two outlets' folders of articles, one of them hostile, scored by the real `stance score`."""
    root = tmp_path_factory.mktemp("report")
    left, right = root / "articles" / "left", root / "articles" / "right"
    left.mkdir(parents=True)
    right.mkdir(parents=True)
    (left / "xss.txt").write_text(XSS)
    (left / "strike.txt").write_text(
        "Jets Strike Border Town\n\nThe regime assassinated the commander.\n\n"
        '"They are occupiers," the militia leader said of the troops.'
    )
    (right / "budget.txt").write_text("The senate voted on the budget. Democrats slammed the disastrous bill.")
    (right / "rates.txt").write_text("The central bank left rates unchanged on Tuesday.")
    out = root / "scores.jsonl"
    result = runner.invoke(
        app, ["score", str(root / "articles"), "-m", str(trained / "model"), "-o", str(out), "-t", "regime", "-q"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def site(scored, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    result = runner.invoke(app, ["report", str(scored), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 articles, 5 pages" in result.output
    return out


def test_the_site_has_an_index_and_a_page_per_article(site):
    assert (site / "index.html").is_file() and (site / "style.css").is_file() and (site / "site.js").is_file()
    assert len(list((site / "a").glob("*.html"))) == 4
    rows = json.loads((site / "articles.js").read_text().split("=", 1)[1].rstrip().rstrip(";"))["rows"]
    assert {r["group"] for r in rows} == {"left", "right"}  # grouped by folder
    index = (site / "index.html").read_text()
    assert "http://" not in index and "https://" not in index  # nothing from the network


def test_an_article_shows_its_title_and_keeps_its_paragraphs(site):
    page = next(p.read_text() for p in (site / "a").glob("*.html") if "assassinated" in p.read_text())
    assert "<h1>Jets Strike Border Town</h1>" in page  # the title, not the id "strike"
    text = page.split('id="text">', 1)[1].split("</article>", 1)[0]
    words = re.sub(r"<[^>]+>", "", re.sub(r'<span class="tip".*?</span>', "", text))  # the article's words alone
    assert text.count("<p>") == 3 and words.index("Jets Strike") < words.index("assassinated") < words.index(
        "occupiers"
    )
    rows = json.loads((site / "articles.js").read_text().split("=", 1)[1].rstrip().rstrip(";"))["rows"]
    assert "Jets Strike Border Town" in {r["doc"] for r in rows}


def test_nothing_from_an_article_becomes_markup(site):
    pages = {p.name: p.read_text() for p in (site / "a").glob("*.html")}
    hostile = next(text for text in pages.values() if "onerror" in text)
    assert "<script>alert" not in hostile and "<img src=x" not in hostile and 'href="javascript:' not in hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "\\u003cscript" in (site / "articles.js").read_text() or "<script" not in (site / "articles.js").read_text()


def test_report_refuses_a_used_folder_and_a_missing_input(site, tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "s")])
    assert result.exit_code == 2 and "no such path" in result.output
    result = runner.invoke(app, ["report", str(site / "articles.js"), "-o", str(site)])
    assert result.exit_code == 2 and "--force" in result.output


def test_parquet_scores_give_the_same_articles(trained, scored, tmp_path):
    out = tmp_path / "scores.parquet"
    articles = scored.parent / "articles"
    result = runner.invoke(app, ["score", str(articles), "-m", str(trained / "model"), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "site")])
    assert result.exit_code == 0 and "4 articles" in result.output
    page = next(p.read_text() for p in (tmp_path / "site" / "a").glob("*.html") if "occupiers" in p.read_text())
    assert 'class="s ' in page


# ---------------------------------------------------------------------------- in a real browser


def png_is_blank(path: Path) -> bool:
    """True when a PNG screenshot is (nearly) one colour: fewer than 1% of its bytes differ from the most common."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    counts = [0] * 256
    for b in raw[:: max(1, len(raw) // 200_000)]:
        counts[b] += 1
    return (sum(counts) - max(counts)) / sum(counts) < 0.01


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("needs Chromium (apt-get install -y chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (the test extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(browser, url: str):
    """A page plus what it reported: console errors, uncaught exceptions and dialogs (alert())."""
    page = browser.new_page()
    events: dict[str, list] = {"errors": [], "dialogs": []}
    page.on("console", lambda m: events["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, events


def test_index_in_a_browser(browser, site, tmp_path):
    page, events = open_page(browser, (site / "index.html").as_uri())
    assert page.locator("#articles tbody tr").count() == 4
    figures = page.inner_text("#corpus-figures")
    assert "4\narticles" in figures and "sentences" in figures
    assert page.locator("#groups tbody tr").count() == 2
    page.click("th[data-key=sentences]")  # sortable: most sentences first
    counts = [int(x) for x in page.locator("#articles tbody tr td:nth-child(3)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    page.fill("#filter", "right")
    assert page.locator("#articles tbody tr").count() == 2
    shot = tmp_path / "index.png"
    page.screenshot(path=str(shot), full_page=True)
    assert not png_is_blank(shot)
    assert events == {"errors": [], "dialogs": []}


def test_article_pages_in_a_browser_highlight_and_stay_inert(browser, site, tmp_path):
    for path in sorted((site / "a").glob("*.html")):
        page, events = open_page(browser, path.as_uri())
        text = page.inner_text("#text")
        if "onerror" in text:
            # The hostile article shows its markup as text, and none of it ran or became an element.
            assert "<script>alert(1)</script>" in text and '<a href="javascript:alert(1)">' in text
            assert page.locator("#text script, #text img, #text a").count() == 0
            shot = tmp_path / "article.png"
            page.locator("#text .s").first.focus()
            page.screenshot(path=str(shot), full_page=True)
            assert not png_is_blank(shot)
        assert page.locator("#text .s").count() >= 1
        assert events == {"errors": [], "dialogs": []}, path.name
        page.close()


def test_png_blank_check_can_fail(tmp_path):
    """The blank-screenshot check itself: a one-colour PNG is blank, a two-colour one is not."""

    def png(rows: list[bytes], width: int) -> bytes:
        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

        header = struct.pack(">IIBBBBB", width, len(rows), 8, 0, 0, 0, 0)  # 8-bit greyscale
        raw = b"".join(b"\x00" + r for r in rows)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

    (tmp_path / "blank.png").write_bytes(png([b"\xff" * 100] * 100, 100))
    (tmp_path / "half.png").write_bytes(png([b"\xff" * 50 + b"\x00" * 50] * 100, 100))
    assert png_is_blank(tmp_path / "blank.png")
    assert not png_is_blank(tmp_path / "half.png")


# ---------------------------------------------------------------------------- outlets side by side


def test_compare_two_outlets_gives_intervals_own_terms_and_a_page(scored, tmp_path):
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", f"{scored}@left", f"{scored}@right", "-o", str(out), "--resamples", "200"])
    assert result.exit_code == 0, result.output
    assert "flagged share of editorial sentences: A " in result.output and "B - A" in result.output
    report = json.loads((out / "compare.json").read_text())
    share = report["framing"]["d_share"]
    assert share["low"] <= share["value"] <= share["high"]
    assert report["a"]["articles"] == 2 and report["b"]["articles"] == 2
    # A term on one side only is listed for that side and never for the other.
    only_a = {t for t, _ in report["terms_only_a"]}
    only_b = {t for t, _ in report["terms_only_b"]}
    assert not only_a & only_b
    page = (out / "index.html").read_text()
    assert "<script>alert" not in page and "flagged share" in page


def test_compare_refuses_a_model_against_score_records(trained, scored):
    result = runner.invoke(app, ["compare", str(trained / "model"), str(scored)])
    assert result.exit_code == 2 and "of one kind" in result.output


def test_compare_page_in_a_browser(browser, scored, tmp_path):
    out = tmp_path / "cmp"
    assert runner.invoke(app, ["compare", f"{scored}@left", f"{scored}@right", "-o", str(out)]).exit_code == 0
    page, events = open_page(browser, (out / "index.html").as_uri())
    assert page.locator("#framing tbody tr").count() == 2
    assert events == {"errors": [], "dialogs": []}
