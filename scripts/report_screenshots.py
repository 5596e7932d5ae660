"""Screenshots of a report's index and one article page, as the README shows them (headless Chromium).

stance score examples/articles ../shared/examples -o runs/report/samples.jsonl --force
stance report runs/report/samples.jsonl -o runs/report/samples-site --force
python scripts/report_screenshots.py runs/report/samples-site --article base_strike -o docs
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path)
    parser.add_argument("--article", default=None, help="doc id of the article page to show (default: the first)")
    parser.add_argument("-o", "--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    args.site = args.site.resolve()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("expected Chromium on PATH (apt-get install -y chromium), found none")
    pages = sorted((args.site / "a").glob("*.html"))
    chosen = next((p for p in pages if args.article and f"<h1>{args.article}</h1>" in p.read_text()), pages[0])
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((args.site / "index.html").as_uri())
        page.wait_for_selector("#articles tbody tr")
        page.screenshot(path=str(args.out / "report-index.jpg"), full_page=True, type="jpeg", quality=70)
        page.goto(chosen.as_uri())
        terms = page.locator("mark.term")
        if terms.count():
            terms.nth(min(1, terms.count() - 1)).focus()  # show one term's details, as a reader would
        page.screenshot(path=str(args.out / "report-article.jpg"), type="jpeg", quality=70)
        browser.close()
    print(f"wrote {args.out / 'report-index.jpg'} and {args.out / 'report-article.jpg'} ({chosen.name})")


if __name__ == "__main__":
    main()
