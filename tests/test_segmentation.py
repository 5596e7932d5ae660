from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stance.segmentation import split_sentences


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


def test_abbreviations_initials_and_decimals_do_not_split():
    text = "The U.S. Army and Gen. Smith met on Jan. 5 in Washington. John F. Kennedy spoke. Prices rose 3.5 percent."
    assert texts(text) == [
        "The U.S. Army and Gen. Smith met on Jan. 5 in Washington.",
        "John F. Kennedy spoke.",
        "Prices rose 3.5 percent.",
    ]


def test_quotes_and_lines():
    text = 'Title line\n\nHe said: "We will win." Then he left!\n- item one\n- item two'
    assert texts(text) == ["Title line", 'He said: "We will win."', "Then he left!", "- item one", "- item two"]


def test_lowercase_after_period_does_not_split():
    assert texts("He lives in the U.S. and works there.") == ["He lives in the U.S. and works there."]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab AB.!?\"'”\n\t1é")), max_size=200))
def test_offsets_always_point_at_their_text(text):
    sentences = split_sentences(text)
    previous_end = 0
    for s in sentences:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end
    # Nothing but whitespace is lost between sentences.
    covered = "".join(s.text for s in sentences)
    assert covered == "".join(text.split()) or "".join(covered.split()) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_offsets_hold_for_any_unicode(text):
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text


def test_dotted_acronym_can_end_a_sentence():
    assert texts("He moved to the U.S. The move was hard. Gen. Smith agreed.") == [
        "He moved to the U.S.",
        "The move was hard.",
        "Gen. Smith agreed.",
    ]
