"""`stance show`: one article in the terminal, with flagged sentences, loaded terms and stance lines."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from .heads import HEADS
from .records import EDITORIAL, sentences_of, speaker_of, summary_of

TERM_STYLE = {"editorial": "bold red underline", "attributed": "bold magenta", "quoted": "bold blue"}


def sentence_text(record: dict) -> Text:
    text = Text(record["text"])
    base = record["start"]
    for term in record.get("loaded_terms", ()):
        text.stylize(TERM_STYLE.get(term["voice"]["label"], "bold red"), term["start"] - base, term["end"] - base)
    if record.get("framing", {}).get("flag"):
        text.stylize("on grey23")
    return text


def margin(record: dict) -> Text:
    if "framing" not in record:
        return Text("      ")
    score = record["framing"]["score"]
    if record["framing"]["flag"]:
        return Text(f"▌{score:.2f} ", style="bold yellow")
    return Text(f" {score:.2f} ", style="dim")


def voice_note(record: dict) -> Text:
    voice = record["voice"]
    if voice["label"] == EDITORIAL:
        return Text("")
    who = f": {speaker_of(voice)}" if speaker_of(voice) else ""
    return Text(f"  [{voice['label']}{who}]", style="dim italic")


def alternatives_note(record: dict) -> Text:
    """Neutral alternatives the lexicon has for the sentence's loaded terms: `term → a / b`."""
    notes = [
        f"{t['text']} → {' / '.join(t['alternatives'])}"
        for t in record.get("loaded_terms", ())
        if t.get("alternatives")
    ]
    return Text(f"  [instead: {'; '.join(notes)}]", style="dim green") if notes else Text("")


def head_notes(record: dict) -> Text:
    """What other heads (heads.py) say of the sentence, each in its own words."""
    notes = [HEADS[k].describe(v) for k, v in record.items() if k in HEADS]
    notes = [n for n in notes if n]
    return Text(f"  [{'; '.join(notes)}]", style="dim cyan") if notes else Text("")


def stance_line(entry: dict) -> Text:
    overall = entry["overall"]
    line = Text(f"  {entry['target']}: ", style="bold")
    colour = {"against": "red", "neutral": "white", "favor": "green"}[overall["label"]]
    line.append(overall["label"], style=f"bold {colour}")
    line.append(f"  (n={overall['n']}; " + ", ".join(f"{k} {v:.2f}" for k, v in overall["mean_scores"].items()) + ")")
    # The outlet's own view beside its sources' (records from before 0.4 have by_voice only).
    views = [(name, entry.get(key)) for name, key in (("outlet", "outlet"), ("quoted sources", "sources"))]
    views = [(name, b) for name, b in views if b]
    if entry.get("sources") and views:
        line.append("  " + "; ".join(f"{name} {b['label']} (n={b['n']})" for name, b in views), style="dim")
        top = ", ".join(f"{s['source']} ({s['n']})" for s in entry.get("top_sources", ()))
        if top:
            line.append(f"; top sources: {top}", style="dim")
    return line


def render_article(console: Console, document_text: str, records: list[dict], flag_note: str = "") -> None:
    """An article's sentences, terms, voices and stance; `flag_note` says where the flag is raised."""
    sentences = sentences_of(records)
    summary = summary_of(records)
    if sentences:
        console.rule(Text((summary or {}).get("title") or sentences[0]["doc_id"], style="bold"))
    for k, record in enumerate(sentences):
        if k and record.get("paragraph", 0) != sentences[k - 1].get("paragraph", 0):
            console.print()  # the article's own paragraphs
        console.print(
            Text.assemble(
                margin(record), sentence_text(record), voice_note(record), head_notes(record), alternatives_note(record)
            )
        )
    if summary:
        fi = summary["framing_index"]
        console.rule("summary")
        console.print(
            f"editorial sentences flagged: {fi['flagged']} / {fi['editorial_sentences']} "
            f"(mean framing score {fi['mean_score'] if fi['mean_score'] is not None else '-'})"
            + (f"; {flag_note}" if flag_note else "")
        )
        top = ", ".join(f"{t['text']} ({t['count']})" for t in summary["loaded_terms"]["top"])
        console.print(f"loaded terms: {summary['loaded_terms']['count']}" + (f": {top}" if top else ""))
        if summary["stance"]:
            console.print("stance per target:")
            for entry in summary["stance"]:
                console.print(stance_line(entry))
    console.print(
        Text("legend: ▌ flagged editorial framing; terms: ", style="dim")
        .append("editorial", TERM_STYLE["editorial"])
        .append(" ")
        .append("attributed", TERM_STYLE["attributed"])
        .append(" ")
        .append("quoted", TERM_STYLE["quoted"])
    )


# ---------------------------------------------------------------------------- `stance evaluate`


def _class_table(title: str, report: dict):
    """Per-class precision, recall, F1 and support, then the confusion matrix (rows gold, columns predicted)."""
    from rich.table import Table

    table = Table(
        title=f"{title}: macro-F1 {report['macro_f1']:.4f}, accuracy {report['accuracy']:.4f} (n={report['n']})",
        title_justify="left",
    )
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, row in report["per_class"].items():
        table.add_row(name, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}", str(row["support"]))
    matrix = Table(title=f"{title}: confusion matrix", title_justify="left")
    labels = report["confusion_matrix"]["labels"]
    matrix.add_column("gold \\ predicted")
    for label in labels:
        matrix.add_column(label, justify="right")
    for label, row in zip(labels, report["confusion_matrix"]["rows_gold_cols_pred"]):
        matrix.add_row(label, *(str(v) for v in row))
    return table, matrix


def _token_table(name: str, lt: dict):
    from rich.table import Table

    table = Table(title=f"{name} (n={lt['n']} sentences, word threshold {lt['threshold']:.2f})", title_justify="left")
    for column in ("measure", "precision", "recall", "F1", "predicted", "gold"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    rows = [
        ("word", lt["word"]),
        *((f"word, {c}", m) for c, m in lt.get("word_by_category", {}).items()),
        ("span, exact", lt["span"]["exact"]),
        ("span, overlap", lt["span"]["overlap"]),
        ("span, overlap + category", lt["span_by_category"]["overlap"]),
    ]
    for measure, m in rows:
        table.add_row(
            measure, f"{m['precision']:.4f}", f"{m['recall']:.4f}", f"{m['f1']:.4f}", str(m["n_pred"]), str(m["n_gold"])
        )
    return table


def render_metrics(console: Console, spec: str, metrics: dict) -> None:
    """Every head's metrics for one data spec, as `stance evaluate` prints them."""
    console.rule(Text(spec, style="bold"))
    for name, m in metrics.items():
        if not m.get("n"):
            continue
        level = HEADS[name].level if name in HEADS else "sentence"
        if "per_class" in m:
            title = name.replace("_", " ") + (" (per mention)" if level == "mention" else "")
            for table in _class_table(title, m):
                console.print(table)
            if "ece" in m:
                console.print(f"{name} expected calibration error: {m['ece']:.4f}")
        elif "word" in m:
            console.print(_token_table(name.replace("_", " "), m))
