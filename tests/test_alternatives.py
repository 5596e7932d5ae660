"""Neutral alternatives for loaded terms: the lexicon, its matching, and where records carry them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stance.alternatives import load_lexicon
from stance.cli import app
from stance.errors import InputError


def test_the_shipped_lexicon_has_the_examples_users_expect():
    lexicon = load_lexicon()
    assert lexicon.lookup("regime") == ("regime", ["government", "administration"])
    assert lexicon.lookup("Slammed")[1] == ["criticized"]
    assert lexicon.lookup("assassinated")[1] == ["killed"]


def test_matching_takes_forms_and_the_longest_run_of_words(tmp_path):
    path = tmp_path / "alt.yaml"
    path.write_text(
        "aliens: {alternatives: [immigrants], forms: [alien]}\n"
        "illegal aliens: {alternatives: [undocumented immigrants]}\n"
        "slammed: [criticized]\n"
    )
    lexicon = load_lexicon(path)
    assert lexicon.lookup("the illegal aliens") == ("illegal aliens", ["undocumented immigrants"])
    assert lexicon.lookup("an alien") == ("aliens", ["immigrants"])
    assert lexicon.lookup("slammed critics") == ("slammed", ["criticized"])
    assert lexicon.lookup("neutral words") is None
    terms = [{"text": "slammed"}, {"text": "said"}]
    lexicon.annotate(terms)
    assert terms == [
        {"text": "slammed", "alternatives": ["criticized"], "alternatives_entry": "slammed"},
        {"text": "said"},
    ]


def test_a_malformed_entry_is_an_error_naming_it(tmp_path):
    path = tmp_path / "alt.yaml"
    path.write_text("regime: {forms: [regimes]}\n")
    with pytest.raises(InputError, match=r"entry 'regime': expected \{alternatives"):
        load_lexicon(path)
    result = CliRunner().invoke(app, ["score", str(path), "--alternatives", str(path)])
    assert result.exit_code == 2 and "entry 'regime'" in result.output


def test_scored_records_carry_the_alternatives_of_their_terms(trained, tmp_path):
    """Every word of the tiny vocabulary is an entry, so whatever the random model tags gets one."""
    from conftest import WORDS

    path = tmp_path / "alt.yaml"
    path.write_text("".join(f"'{w}': ['{w}-neutral']\n" for w in sorted(set(WORDS))))
    article = tmp_path / "a.txt"
    article.write_text("The corrupt regime attacked the brave people. The thugs killed the terrible leader.")
    result = CliRunner().invoke(
        app, ["score", str(article), "-m", str(trained / "model"), "--alternatives", str(path), "--threshold", "0.5"]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    terms = [t for r in records if r["record"] == "sentence" for t in r["loaded_terms"]]
    if not terms:
        pytest.skip("the tiny random model tagged no loaded term in this text")
    assert all(t["alternatives"] == [f"{t['alternatives_entry']}-neutral"] for t in terms)
