"""The report site's stylesheet and script, written next to its pages (no CDN, no network).

The script only ever puts data into the page with `textContent` and `createElement`, never with
`innerHTML`, so article text, titles, sources and target names cannot become markup.
"""

CSS = """
:root { --ed: #c0392b; --qu: #2471a3; --at: #7d3c98; --fg: #1b1b1b; --muted: #666; --line: #ddd; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #fafafa; }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 1.5em; margin: .3em 0; word-break: break-word; }
h2 { font-size: 1.15em; margin: 1.6em 0 .5em; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
a { color: #1a5490; }
.meta, .note { color: var(--muted); font-size: .9em; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.figure { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; min-width: 130px; }
.figure b { display: block; font-size: 1.5em; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable::after { content: " \\2195"; color: #999; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
@media (max-width: 760px) { .cols { grid-template-columns: 1fr; } }
.pager { margin: 8px 0; display: flex; gap: 8px; align-items: center; }
.legend span { margin-right: 14px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle; margin-right: 4px; }
article.text { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 18px 22px; font-size: 1.05em; line-height: 1.9; }
.s { position: relative; border-radius: 3px; }
.s:focus { outline: 2px solid #888; }
.s.flagged { background: #fdebd0; box-shadow: inset 0 -2px 0 #e67e22; }
.s.quoted, .s.attributed { font-style: italic; }
mark.term { position: relative; background: none; border-bottom: 3px solid; padding: 0 1px; cursor: help; }
mark.term:focus { outline: 2px solid #888; }
mark.v-editorial { border-color: var(--ed); background: #fadbd8; }
mark.v-quoted { border-color: var(--qu); background: #d6eaf8; }
mark.v-attributed { border-color: var(--at); background: #e8daef; }
.tip { display: none; position: absolute; z-index: 10; left: 0; top: 1.8em; min-width: 240px; max-width: 420px;
       background: #222; color: #fff; font: 13px/1.4 system-ui, sans-serif; font-style: normal; padding: 8px 10px;
       border-radius: 5px; white-space: normal; }
mark.term:hover > .tip, mark.term:focus > .tip { display: block; }
.s:hover:not(:has(mark.term:hover)) > .tip, .s:focus > .tip { display: block; }
.bar-label { font-size: 12px; fill: #333; }
"""

JS = """
"use strict";
(function () {
  const data = window.STANCE_ARTICLES;
  const table = document.getElementById("articles");
  if (!data || !table) { return; }
  const body = table.querySelector("tbody");
  const info = document.getElementById("page-info");
  const filter = document.getElementById("filter");
  const pageSize = 50;
  let rows = data.rows.slice();
  let page = 0;
  let sortKey = null;
  let sortDir = 1;
  function cell(tr, value, numeric) {
    const td = document.createElement("td");
    td.textContent = value === null || value === undefined ? "" : String(value);
    if (numeric) { td.className = "num"; }
    tr.appendChild(td);
  }
  function render() {
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    page = Math.min(page, pages - 1);
    body.replaceChildren();
    for (const r of rows.slice(page * pageSize, (page + 1) * pageSize)) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      const a = document.createElement("a");
      a.href = r.href;                       // our own page name, never article data
      a.textContent = r.doc;
      td.appendChild(a);
      tr.appendChild(td);
      cell(tr, r.group, false);
      cell(tr, r.sentences, true);
      cell(tr, r.flagged, true);
      cell(tr, r.share === null ? "" : r.share.toFixed(2), true);
      cell(tr, r.mean === null ? "" : r.mean.toFixed(2), true);
      cell(tr, r.terms, true);
      cell(tr, r.top, false);
      body.appendChild(tr);
    }
    info.textContent = rows.length + " articles, page " + (page + 1) + " of " + pages;
  }
  function apply() {
    const q = filter.value.trim().toLowerCase();
    rows = data.rows.filter(r => !q || (r.doc + " " + r.group + " " + r.top).toLowerCase().includes(q));
    if (sortKey) {
      rows.sort((a, b) => {
        const x = a[sortKey], y = b[sortKey];
        if (x === y) { return 0; }
        if (x === null) { return 1; }
        if (y === null) { return -1; }
        return (x < y ? -1 : 1) * sortDir;
      });
    }
    render();
  }
  for (const th of table.querySelectorAll("th[data-key]")) {
    th.classList.add("sortable");
    th.tabIndex = 0;
    const sort = () => {
      const key = th.dataset.key;
      sortDir = sortKey === key ? -sortDir : (th.classList.contains("num") ? -1 : 1);
      sortKey = key;
      page = 0;
      apply();
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", e => { if (e.key === "Enter") { sort(); } });
  }
  document.getElementById("prev").addEventListener("click", () => { page = Math.max(0, page - 1); render(); });
  document.getElementById("next").addEventListener("click", () => { page += 1; render(); });
  filter.addEventListener("input", () => { page = 0; apply(); });
  apply();
})();
"""
