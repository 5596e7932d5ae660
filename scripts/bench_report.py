"""Benchmark `stance report` at scale: build time, size, and how fast the index opens in Chromium.

Takes real score records and repeats their articles (new ids, so each is a distinct page) up to N
articles, builds the site, and, where Chromium and playwright are installed, opens the index headless
and times loading it, sorting the article table and paging it.

    stance score ../shared/data/semeval2020_task11_ptc/train-articles -o runs/report/ptc.jsonl
    python scripts/bench_report.py runs/report/ptc.jsonl -n 10000 -o runs/report/bench
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from stance.report import build_site


def replicate(scores: Path, n: int, out: Path) -> int:
    """Write `n` articles to `out`, cycling through the articles of `scores` with fresh doc ids."""
    docs: list[list[str]] = []
    current: list[str] = []
    for line in scores.read_text(encoding="utf-8").splitlines():
        current.append(line)
        if json.loads(line).get("record") in ("summary", "error"):
            docs.append(current)
            current = []
    written = 0
    with out.open("w", encoding="utf-8") as fh:
        while written < n:
            for doc in docs:
                if written >= n:
                    break
                for line in doc:
                    record = json.loads(line)
                    record["doc_id"] = f"{record['doc_id']}#{written}"
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
    return written


def browse(index: Path) -> dict[str, float] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(index.resolve().as_uri())
        page.wait_for_selector("#articles tbody tr")
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        page.click("th[data-key=mean]")
        page.wait_for_function("document.querySelectorAll('#articles tbody tr').length > 0")
        sorted_s = time.perf_counter() - started
        started = time.perf_counter()
        page.click("#next")
        paged = time.perf_counter() - started
        rows = page.locator("#articles tbody tr").count()
        browser.close()
    return {"open_index_s": loaded, "sort_s": sorted_s, "next_page_s": paged, "rows_in_dom": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", type=Path)
    parser.add_argument("-n", type=int, default=10_000, help="articles in the site")
    parser.add_argument("-o", "--out", type=Path, default=Path("runs/report/bench"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    records = args.out / "records.jsonl"
    n = replicate(args.scores, args.n, records)
    stats = build_site([records], args.out / "site")
    print(f"articles {n}; pages {stats.pages}; build {stats.seconds:.1f} s; size {stats.bytes / 1e6:.1f} MB")
    index = args.out / "site" / "index.html"
    print(
        f"index.html {index.stat().st_size / 1e3:.0f} kB; articles.js {(args.out / 'site' / 'articles.js').stat().st_size / 1e6:.1f} MB"
    )
    timing = browse(index)
    if timing is None:
        print("browser timings: skipped (needs chromium and playwright)")
    else:
        print(
            f"Chromium: open index {timing['open_index_s']:.2f} s, sort {timing['sort_s']:.2f} s, "
            f"next page {timing['next_page_s']:.2f} s, {timing['rows_in_dom']} table rows in the DOM"
        )


if __name__ == "__main__":
    main()
