from __future__ import annotations

from stance.segmentation import split_sentences
from stance.voice import Voice, assign_voices, quote_regions, term_voice


def voices(text: str) -> list[tuple[str, str | None]]:
    vs, _ = assign_voices(text, split_sentences(text))
    return [(v.label, v.source) for v in vs]


def test_editorial_attributed_and_quoted():
    text = (
        "The regime assassinated a respected commander. "
        "The defence ministry said the strike hit a depot. "
        '"The occupiers will pay for this crime, and they know it," said Abu Hassan, a militia leader. '
        "According to the governor, four buildings were destroyed. "
        "Qais Khazali warned that troops must leave."
    )
    assert voices(text) == [
        ("editorial", None),
        ("attributed", "defence ministry"),
        ("quoted", "Abu Hassan"),
        ("attributed", "governor"),
        ("attributed", "Qais Khazali"),
    ]


def test_curly_quote_across_sentences_and_pronoun_source():
    text = (
        "Khazali spoke on Wednesday. He said, “We need answers. The bases must close. "
        "Nobody will stop us.” The talks ended."
    )
    result = voices(text)
    assert result[0] == ("attributed", "Khazali")
    assert result[2] == ("quoted", "Khazali")  # inside the quote opened in the previous sentence
    assert result[3] == ("quoted", "Khazali")
    assert result[4] == ("editorial", None)


def test_apostrophes_are_not_quotes():
    text = "Iraq’s army and the group’s leaders met. Asa’ib Ahl al-Haq’s fighters left."
    assert quote_regions(text) == []
    assert [v for v, _ in voices(text)] == ["editorial", "editorial"]


def test_single_curly_quotes():
    text = "The minister called it ‘a disgraceful betrayal’ of voters."
    ((start, end),) = quote_regions(text)
    assert text[start:end] == "a disgraceful betrayal"


def test_term_inside_quotes_takes_the_quoted_voice():
    text = '"They are occupiers," said Abu Hassan.'
    sentences = split_sentences(text)
    vs, regions = assign_voices(text, sentences)
    start = text.index("occupiers")
    assert term_voice(start, start + 9, vs[0], regions) == Voice("quoted", "Abu Hassan")
    said = text.index("said")
    assert term_voice(said, said + 4, vs[0], regions).label == "attributed"
