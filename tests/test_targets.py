from __future__ import annotations

from pathlib import Path

import pytest

from stance.errors import InputError
from stance.targets import (
    AliasTable,
    Target,
    auto_targets,
    find_document_mentions,
    find_mentions,
    load_alias_file,
    load_targets_file,
    parse_document_target,
    parse_target_option,
)

ALIASES = AliasTable({"United States": ["US", "U.S.", "Washington", "American"], "Iraq": ["Iraqi", "Baghdad"]})


def test_parse_target_option():
    assert parse_target_option("United States=US, Washington") == Target("United States", ("US", "Washington"))
    with pytest.raises(InputError, match='expected --target "Name"'):
        parse_target_option("=US")


def test_alias_table_merges_any_surface_form():
    merged = ALIASES.resolve(Target("Washington"))
    assert merged.name == "Washington" and {"United States", "US", "American"} <= set(merged.aliases)
    assert ALIASES.resolve(Target("Canada")) == Target("Canada")
    # A user's own name is kept, even when one of its aliases is in the table.
    assert ALIASES.resolve(Target("US troops", ("American",))) == Target("US troops", ("American",))


def test_same_name_targets_merge():
    from stance.targets import merge_targets

    merged = merge_targets([Target("Senate Democrats", ("Democrats",)), Target("Senate Democrats"), Target("GOP")])
    assert merged == [Target("Senate Democrats", ("Democrats",)), Target("GOP")]


def test_mentions_are_word_bounded_and_case_aware():
    target = ALIASES.resolve(Target("US"))
    sentence = "American troops left; the US and us all know Washington agreed. USB sticks."
    (mention,) = find_mentions([target], sentence, 100)
    assert (mention.text, mention.start) == ("American", 100)
    assert [sentence[s - 100 : e - 100] for s, e in mention.all_spans] == ["American", "US", "Washington"]


def test_document_mentions_land_in_their_sentences():
    from stance.segmentation import split_sentences

    text = "Iraq protested. The United States replied. Baghdad and Iraq were quiet."
    sentences = [(x.start, x.end) for x in split_sentences(text)]
    targets = [ALIASES.resolve(Target("Iraq")), Target("United States", ("United",))]
    first, second, third = find_document_mentions(targets, text, sentences)
    assert [(m.target, m.text, m.start) for m in first] == [("Iraq", "Iraq", 0)]
    assert [(m.target, m.text) for m in second] == [("United States", "United States")]
    assert [(m.target, m.text, len(m.all_spans)) for m in third] == [("Iraq", "Baghdad", 2)]
    # The same answer as matching sentence by sentence.
    for (s, e), found in zip(sentences, (first, second, third)):
        assert find_mentions(targets, text[s:e], s) == found
    # A match that crosses a sentence boundary belongs to neither sentence.
    assert find_document_mentions([Target("protested. The")], text, sentences) == [[], [], []]


def test_exact_mention_object():
    text = "Trump met Trump Jr."
    target = parse_document_target({"text": "Trump", "start": 10, "end": 15}, text)
    (mention,) = find_mentions([target], text, 0)
    assert (mention.start, mention.end) == (10, 15)
    with pytest.raises(InputError, match="expected target text 'Trump' at offsets 0:4"):
        parse_document_target({"text": "Trump", "start": 0, "end": 4}, text)


def test_auto_targets_pick_frequent_actors_and_fold_surnames():
    text = (
        "Qais Khazali criticized the deal. Khazali said Washington lied. The US denied it. "
        "Iraqi officials in Baghdad met. Khazali left. The weather was fine on Monday. Monday came."
    )
    names = [t.name for t in auto_targets(text, ALIASES)]
    assert names[:3] == ["Qais Khazali", "United States", "Iraq"]
    assert "Monday" not in names


def test_shipped_alias_file_and_targets_file(tmp_path):
    table = load_alias_file(None)
    american = table.resolve(Target("American"))
    assert american.name == "American" and {"United States", "US", "Washington"} <= set(american.aliases)
    path = tmp_path / "targets.yaml"
    path.write_text("Hamas: [Hamas movement]\nIsrael: [Israeli, IDF]\n")
    assert [t.name for t in load_targets_file(path)] == ["Hamas", "Israel"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a string\n")
    with pytest.raises(InputError, match="expected a list of"):
        load_targets_file(bad)


def test_auto_targets_never_join_a_title_to_the_body():
    text = "Storm Hits Coast\n\nGovernor Maria Lopez declared an emergency. Lopez said the coast was hit.\nMaria Lopez left."
    names = [t.name for t in auto_targets(text, AliasTable())]
    assert names == ["Maria Lopez"]
    every = [t.name for t in auto_targets(text, AliasTable(), min_count=1)]
    # A headline's capitals make no names: "Storm Hits Coast" is no actor.
    assert "Storm Hits Coast" not in every and not any("Coast" in n and "Lopez" in n for n in every), every


EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles"


@pytest.mark.parametrize(
    "article, actors",
    [
        (
            "base_strike.txt",
            ["foreign jets", "Abu Hassan", "anti-terror commander", "defence ministry", "peacekeepers"],
        ),
        ("city_budget.txt", ["city council", "Jane Porter", "Luis Ortega"]),
    ],
)
def test_auto_targets_find_the_actors_a_reader_sees_in_the_sample_articles(article, actors):
    """Groups and institutions in lower case count, as do names said once; "to reporters", "by local
    officials", "a militia leader" (Abu Hassan's role) and "the occupiers" inside a quote do not."""
    text = (EXAMPLES / article).read_text(encoding="utf-8")
    found = auto_targets(text, load_alias_file(None))
    assert [t.name for t in found] == actors
    assert "foreign warplanes" in found[0].aliases or article != "base_strike.txt"  # one actor, two words


def test_user_names_are_never_renamed_by_the_table():
    table = load_alias_file(None)
    white_house = table.resolve(Target("White House"))
    assert white_house.name == "White House" and {"Washington", "United States"} <= set(white_house.aliases)
    assert table.resolve(Target("United States")).name == "United States"
