"""`stance show`: one article in the terminal, with flagged sentences, loaded terms and stance lines."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

TERM_STYLE = {"editorial": "bold red underline", "attributed": "bold magenta", "quoted": "bold blue"}


def sentence_text(record: dict) -> Text:
    text = Text(record["text"])
    base = record["start"]
    for term in record["loaded_terms"]:
        text.stylize(TERM_STYLE.get(term["voice"]["label"], "bold red"), term["start"] - base, term["end"] - base)
    if record["framing"]["flag"]:
        text.stylize("on grey23")
    return text


def margin(record: dict) -> Text:
    score = record["framing"]["score"]
    if record["framing"]["flag"]:
        return Text(f"▌{score:.2f} ", style="bold yellow")
    return Text(f" {score:.2f} ", style="dim")


def voice_note(record: dict) -> Text:
    voice = record["voice"]
    if voice["label"] == "editorial":
        return Text("")
    who = f": {voice['source']}" if voice.get("source") else ""
    return Text(f"  [{voice['label']}{who}]", style="dim italic")


def stance_line(entry: dict) -> Text:
    overall = entry["overall"]
    line = Text(f"  {entry['target']}: ", style="bold")
    colour = {"against": "red", "neutral": "white", "favor": "green"}[overall["label"]]
    line.append(overall["label"], style=f"bold {colour}")
    line.append(f"  (n={overall['n']}; " + ", ".join(f"{k} {v:.2f}" for k, v in overall["mean_scores"].items()) + ")")
    by_voice = entry.get("by_voice", {})
    if len(by_voice) > 1 or (by_voice and "editorial" not in by_voice):
        line.append("  by voice: " + ", ".join(f"{v} {b['label']} (n={b['n']})" for v, b in by_voice.items()), style="dim")
    return line


def render_article(console: Console, document_text: str, records: list[dict]) -> None:
    sentences = [r for r in records if r["record"] == "sentence"]
    summary = next((r for r in records if r["record"] == "summary"), None)
    if sentences:
        console.rule(Text(sentences[0]["doc_id"], style="bold"))
    for record in sentences:
        console.print(Text.assemble(margin(record), sentence_text(record), voice_note(record)))
    if summary:
        fi = summary["framing_index"]
        console.rule("summary")
        console.print(
            f"editorial sentences flagged: {fi['flagged']} / {fi['editorial_sentences']} "
            f"(mean framing score {fi['mean_score'] if fi['mean_score'] is not None else '-'})"
        )
        top = ", ".join(f"{t['text']} ({t['count']})" for t in summary["loaded_terms"]["top"])
        console.print(f"loaded terms: {summary['loaded_terms']['count']}" + (f": {top}" if top else ""))
        if summary["stance"]:
            console.print("stance per target:")
            for entry in summary["stance"]:
                console.print(stance_line(entry))
    console.print(Text("legend: ▌ flagged editorial framing; terms: ", style="dim").append("editorial", TERM_STYLE["editorial"])
                  .append(" ").append("attributed", TERM_STYLE["attributed"]).append(" ").append("quoted", TERM_STYLE["quoted"]))
