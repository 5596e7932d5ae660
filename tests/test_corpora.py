from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, SHARED_DATA, needs_shared_data

from stance.alignment import align_words
from stance.config import TrainConfig
from stance.corpora import load_babe, load_checkthat, load_mbic, load_newsmtsc, load_ptc, load_wiki_npov
from stance.data import load_splits
from stance.errors import DataError
from stance.examples import Example, deduplicate, normalize_text, split_examples
from stance.tabular import load_table


def spans_text(ex: Example) -> list[tuple[str, str]]:
    return [(ex.text[s.start : s.end], s.category) for s in ex.spans]


def test_babe_labels_words_and_soft_targets():
    hard = load_babe(FIXTURES / "babe")
    soft = load_babe(FIXTURES / "babe", soft_labels=True)
    assert [e.framing for e in hard] == [1.0, 0.0, 1.0, None]
    assert soft[0].framing == pytest.approx(0.75)  # 3 of 4 annotators said biased
    assert soft[1].framing == 0.0
    assert spans_text(hard[0]) == [
        ("radical", "loaded_language"),
        ("lied", "loaded_language"),
        ("disastrous war", "loaded_language"),
    ]
    assert spans_text(hard[2]) == [("socialist fantasy", "loaded_language")]
    assert hard[1].spans == []


def test_align_words_reports_words_not_found():
    spans, missing = align_words("A fair and balanced report.", ["balanced", "biased"])
    assert [(s.start, s.end) for s in spans] == [(11, 19)]
    assert missing == ["biased"]


def test_mbic_duplicates_of_babe_are_removed_before_splitting():
    babe, mbic = deduplicate([load_babe(FIXTURES / "babe"), load_mbic(FIXTURES / "mbic")])
    assert len(babe) == 4
    assert [e.text for e in mbic] == ['Protesters were "thugs", the mayor said.']


def test_ptc_spans_are_cut_into_line_sentences():
    examples = load_ptc(FIXTURES / "ptc")
    by_text = {e.text: e for e in examples}
    assert list(by_text) == [
        "Title of the article",
        "The corrupt elite wants war.",
        "The minister spoke on Monday.",
        "These traitors must go, said the leader.",
    ]
    assert spans_text(by_text["The corrupt elite wants war."]) == [
        ("corrupt elite", "loaded_language"),
        ("war", "loaded_language"),
    ]
    # The cross-line span continues into the next sentence; Doubt is not a loaded-term technique.
    assert spans_text(by_text["The minister spoke on Monday."]) == [("The", "loaded_language")]
    assert spans_text(by_text["These traitors must go, said the leader."]) == [("traitors", "name_calling")]
    assert {e.group for e in examples} == {"ptc:1001"}


def test_newsmtsc_targets_map_polarity_to_stance():
    examples = load_newsmtsc(FIXTURES / "newsmtsc" / "train.jsonl")
    first = examples[0]
    assert [(first.text[t.start : t.end], t.label) for t in first.targets] == [("Trump", "neutral"), ("Biden", "favor")]
    assert examples[0].group == examples[1].group == "newsmtsc:allsides_1_2"


def test_newsmtsc_bad_line_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"primary_gid": "a", \n')
    with pytest.raises(DataError, match="bad.jsonl:1: expected a JSON object"):
        load_newsmtsc(bad)


def test_checkthat_subjectivity_as_framing():
    examples = load_checkthat(FIXTURES / "checkthat")
    assert [e.framing for e in examples] == [1.0, 0.0]


def test_wiki_npov_statements_take_their_file_names_label(tmp_path):
    examples = load_wiki_npov(FIXTURES / "wiki_npov")
    assert [(e.text.split()[0], e.framing) for e in examples] == [
        ("The", 1.0),
        ("The", 0.0),
        ("The", 0.0),
        ("The", 0.0),
    ]
    assert all(e.source == "wiki_npov" for e in examples)
    with pytest.raises(DataError, match="statements_biased.txt"):
        load_wiki_npov(tmp_path / "other.txt")


def test_split_is_deterministic_and_grouped():
    examples = [Example(f"s{i}", "x", group=f"g{i // 3}") for i in range(300)]
    a = split_examples(examples, 0.2, seed=1)
    b = split_examples(examples, 0.2, seed=1)
    assert [e.text for e in a[1]] == [e.text for e in b[1]]
    val_groups = {e.group for e in a[1]}
    assert not val_groups & {e.group for e in a[0]}
    assert 0.1 < len(a[1]) / 300 < 0.3


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_generic_table_with_column_mapping(tmp_path, suffix):
    import pandas as pd

    rows = [
        {
            "sentence": "The corrupt mayor lied.",
            "bias": "Biased",
            "words": json.dumps(["corrupt", "lied"]),
            "tg": json.dumps([{"mention": "mayor", "label": "against"}]),
            "doc": "d1",
        },
        {
            "sentence": "The council met.",
            "bias": "neutral",
            "words": json.dumps([]),
            "tg": json.dumps([{"start": 4, "end": 11, "label": "neutral"}]),
            "doc": "d2",
        },
    ]
    path = tmp_path / f"mine.{suffix}"
    frame = pd.DataFrame(rows)
    {
        "csv": lambda: frame.to_csv(path, index=False),
        "jsonl": lambda: frame.to_json(path, orient="records", lines=True),
        "parquet": lambda: frame.to_parquet(path),
    }[suffix]()
    examples = load_table(
        path, columns={"text": "sentence", "framing": "bias", "loaded_terms": "words", "targets": "tg", "group": "doc"}
    )
    assert [e.framing for e in examples] == [1.0, 0.0]
    assert spans_text(examples[0]) == [("corrupt", "loaded_language"), ("lied", "loaded_language")]
    assert [(examples[0].text[t.start : t.end], t.label) for t in examples[0].targets] == [("mayor", "against")]
    assert [(examples[1].text[t.start : t.end], t.label) for t in examples[1].targets] == [("council", "neutral")]
    assert examples[1].group == "d2"


def test_generic_table_missing_text_column_says_how_to_fix(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("body,label\nhello,1\n")
    with pytest.raises(DataError, match=r"only the columns \['body', 'label'\].*columns: \{text.*--columns text="):
        load_table(path)


def test_load_splits_dedups_subsamples_and_holds_out_test():
    config = TrainConfig(
        data={
            "root": str(FIXTURES),
            "validation_fraction": 0.5,
            "datasets": [
                {"adapter": "babe", "path": "babe"},
                {"adapter": "mbic", "path": "mbic"},
                {"adapter": "ptc", "path": "ptc", "negative_sentence_fraction": 0.0},
                {"adapter": "newsmtsc", "path": "newsmtsc/train.jsonl", "split": "test"},
            ],
        }
    )
    splits = load_splits(config)
    texts = [normalize_text(e.text) for e in splits.train + splits.validation]
    assert len(texts) == len(set(texts))
    assert all(e.source == "newsmtsc" for e in splits.test) and len(splits.test) == 3
    ptc_train = [e for e in splits.train if e.source == "ptc"]
    assert all(e.spans for e in ptc_train)  # span-less sentences dropped from training only


def test_unknown_adapter_is_a_clear_error():
    config = TrainConfig(data={"root": str(FIXTURES), "datasets": [{"adapter": "bable", "path": "babe"}]})
    with pytest.raises(DataError, match="expected a dataset adapter from"):
        load_splits(config)


@needs_shared_data("babe", "final_labels_SG2.csv")
def test_real_babe_words_align():
    examples = load_babe(SHARED_DATA / "babe")
    with_words = [e for e in examples if e.spans]
    assert len(examples) > 2500 and len(with_words) > 1000


def test_polnear_sentences_carry_source_cue_and_content_spans():
    from stance.corpora import load_polnear

    examples = load_polnear(FIXTURES / "polnear" / "train")
    spans = {ex.text: [(ex.text[s.start : s.end], s.category) for s in ex.labels["attribution"]] for ex in examples}
    assert spans["The utility company said power would return on Friday."] == [
        ("The utility company", "source"),
        ("said", "cue"),
        ("power would return on Friday", "content"),
    ]
    assert spans["Crews worked all night."] == []
    assert {ex.group for ex in examples} == {"paper_2016-01-01_storm"}
