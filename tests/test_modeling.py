from __future__ import annotations

import pytest
import torch

from stance.errors import ModelLoadError
from stance.examples import Example, Span, TargetLabel, encode_examples
from stance.features import collate
from stance.heads import heads_named
from stance.inference import decode_spans, length_batches, predict
from stance.labels import LOADED_TAGS, STANCE_LABELS
from stance.modeling import StanceModel, load_encoder, load_model, load_tokenizer, save_model

SENTENCES = [
    Example(
        "the radical regime attacked the brave people",
        "t",
        "1",
        framing=1.0,
        spans=[Span(4, 11, "loaded_language")],
        targets=[TargetLabel(12, 18, "against")],
    ),
    Example(
        "the president said the budget rose", "t", "2", framing=0.0, spans=[], targets=[TargetLabel(4, 13, "neutral")]
    ),
    Example(
        "thugs and terrorists killed the people",
        "t",
        "3",
        framing=1.0,
        spans=[Span(0, 5, "name_calling"), Span(10, 20, "name_calling")],
        targets=[TargetLabel(32, 38, "favor")],
    ),
    Example("the bank reported the rate", "t", "4", framing=0.0, spans=[], targets=[TargetLabel(4, 8, "neutral")]),
]


@pytest.fixture()
def parts(tiny_base):
    torch.manual_seed(0)
    # The heads these sentences label (the registry also holds heads they do not, e.g. attribution).
    model = StanceModel(
        load_encoder(str(tiny_base)), dropout=0.0, heads=heads_named(["framing", "loaded_terms", "stance"])
    )
    tokenizer = load_tokenizer(str(tiny_base))
    encoded = encode_examples(tokenizer, SENTENCES, 64)
    return model, tokenizer, encoded


def test_head_output_shapes(parts):
    model, tokenizer, encoded = parts
    batch = collate(encoded, tokenizer.pad_token_id, model.head_specs)
    out = model(**batch)
    size, length = batch["input_ids"].shape
    assert out["framing"].shape == (size,)
    assert out["loaded_terms"].shape == (size, length, len(LOADED_TAGS))
    assert out["stance"].shape == (len(SENTENCES), len(STANCE_LABELS))
    assert set(out["losses"]) == {"framing", "loaded_terms", "stance"}


def test_gradients_reach_every_head_and_the_encoder(parts):
    model, tokenizer, encoded = parts
    out = model(**collate(encoded, tokenizer.pad_token_id, model.head_specs))
    sum(out["losses"].values()).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        if name.startswith("heads.") and name.endswith("weight"):
            assert param.grad.abs().sum() > 0, name


def test_head_without_labels_is_ignored(parts):
    model, tokenizer, encoded = parts
    for enc in encoded:
        enc.labels.pop("framing")
    out = model(**collate(encoded, tokenizer.pad_token_id, model.head_specs))
    assert "framing" not in out["losses"]


def test_overfit_four_sentences(parts):
    model, tokenizer, encoded = parts
    batch = collate(encoded, tokenizer.pad_token_id, model.head_specs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        loss = sum(model(**batch)["losses"].values())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    preds = predict(model, encoded, tokenizer.pad_token_id)
    for ex, enc, pred in zip(SENTENCES, encoded, preds):
        assert (pred.framing_score >= 0.5) == (ex.framing == 1.0)
        spans = [(s.start, s.end, s.category) for s in decode_spans(enc.word_spans, pred.word_tag_probs)]
        assert spans == [(s.start, s.end, s.category) for s in ex.spans]
        labels = [STANCE_LABELS[max(range(3), key=p.__getitem__)] for p in pred.mention_probs]
        assert labels == [t.label for t in ex.targets]


def test_save_load_gives_identical_outputs(parts, tmp_path, tiny_base):
    model, tokenizer, encoded = parts
    model.framing_temperature.fill_(1.7)
    save_model(model, tokenizer, tmp_path / "m", str(tiny_base), 64, freeze_embeddings=True, save_dtype="float32")
    loaded, tok2, config = load_model(tmp_path / "m")
    a = predict(model, encoded, tokenizer.pad_token_id)
    b = predict(loaded, encoded, tok2.pad_token_id)
    for x, y in zip(a, b):
        assert x.framing_score == pytest.approx(y.framing_score, abs=1e-6)
        assert torch.allclose(torch.tensor(x.word_tag_probs), torch.tensor(y.word_tag_probs), atol=1e-6)
        assert torch.allclose(torch.tensor(x.mention_probs), torch.tensor(y.mention_probs), atol=1e-6)
    assert config["heads"]["stance"]["labels"] == STANCE_LABELS
    assert "torch" in config["versions"] and "transformers" in config["versions"]
    assert not (tmp_path / "m" / "pytorch_model.bin").exists()


def test_half_precision_export_stays_close(parts, tmp_path, tiny_base):
    model, tokenizer, encoded = parts
    save_model(model, tokenizer, tmp_path / "h", str(tiny_base), 64, freeze_embeddings=True, save_dtype="float16")
    loaded, _, _ = load_model(tmp_path / "h")
    a = predict(model, encoded, tokenizer.pad_token_id)
    b = predict(loaded, encoded, tokenizer.pad_token_id)
    assert max(abs(x.framing_score - y.framing_score) for x, y in zip(a, b)) < 1e-2


def test_batched_equals_one_by_one(parts):
    model, tokenizer, encoded = parts
    batched = predict(model, encoded, tokenizer.pad_token_id, batch_size=4, max_tokens=40)
    single = [predict(model, [e], tokenizer.pad_token_id, batch_size=1)[0] for e in encoded]
    for x, y in zip(batched, single):
        assert x.framing_score == pytest.approx(y.framing_score, abs=1e-5)
        assert torch.allclose(torch.tensor(x.word_tag_probs), torch.tensor(y.word_tag_probs), atol=1e-5)
        assert torch.allclose(torch.tensor(x.mention_probs), torch.tensor(y.mention_probs), atol=1e-5)


def test_token_budget_batches_cover_every_sentence_once_within_budget():
    lengths = [5, 500, 12, 60, 60, 3, 200, 64, 9, 511]
    batches = length_batches(lengths, batch_size=4, max_tokens=256)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) <= 4 and (len(batch) == 1 or len(batch) * longest <= 256)
    # Short sentences still fill a batch; a sentence over the budget runs alone.
    assert [lengths[i] for i in batches[0]] == [3, 5, 9, 12] and [[lengths[i] for i in b] for b in batches[-2:]] == [
        [500],
        [511],
    ]
    assert len(length_batches(lengths, batch_size=4, max_tokens=None)) == 3


def test_load_rejects_changed_labels(parts, tmp_path, tiny_base):
    import json

    model, tokenizer, _ = parts
    save_model(model, tokenizer, tmp_path / "m", str(tiny_base), 64, freeze_embeddings=False)
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    cfg["heads"]["stance"]["labels"] = ["neg", "neu", "pos"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match="expected the stance labels"):
        load_model(tmp_path / "m")


def test_load_rejects_a_directory_that_is_not_a_model(tmp_path, tiny_base):
    with pytest.raises(ModelLoadError, match="not a stance model"):
        load_model(tiny_base)
    with pytest.raises(ModelLoadError, match="expected a stance model directory"):
        load_model(tmp_path)


def test_span_edges_drop_punctuation():
    text = "a bloated , reckless bill"
    words = [(0, 1), (2, 9), (10, 11), (12, 20), (21, 25)]
    loaded = [0.0, 1.0, 0.0, 0.0, 0.0]
    inside = [0.0, 0.0, 1.0, 0.0, 0.0]
    outside = [1.0, 0.0, 0.0, 0.0, 0.0]
    probs = [outside, loaded, inside, inside, outside]
    assert [(s.start, s.end) for s in decode_spans(words, probs, 0.5, text)] == [(2, 20)]
    probs = [outside, loaded, inside, outside, outside]
    assert [(s.start, s.end) for s in decode_spans(words, probs, 0.5, text)] == [(2, 9)]


def test_fast_bert_matches_transformers(parts, tmp_path, tiny_base):
    """The plain-torch scoring path gives the transformers model's outputs."""
    model, tokenizer, encoded = parts
    model.framing_temperature.fill_(1.3)
    save_model(model, tokenizer, tmp_path / "m", str(tiny_base), 64, freeze_embeddings=True)
    slow, slow_tok, _ = load_model(tmp_path / "m")
    fast, fast_tok, _ = load_model(tmp_path / "m", fast=True)
    assert type(fast.encoder).__name__ == "BertEncoder" and type(fast_tok).__name__ == "FastTokenizer"
    texts = [ex.text for ex in SENTENCES] + ["Unknown wørds, punctuation!? and the president"]
    from stance.features import tokenize

    a, b = tokenize(slow_tok, texts, 64), tokenize(fast_tok, texts, 64)
    for x, y in zip(a, b):
        assert (x.input_ids, x.word_spans, x.word_first_token) == (y.input_ids, y.word_spans, y.word_first_token)
    for x, y in zip(predict(slow, encoded, tokenizer.pad_token_id), predict(fast, encoded, tokenizer.pad_token_id)):
        assert x.framing_score == pytest.approx(y.framing_score, abs=1e-5)
        assert torch.allclose(torch.tensor(x.word_tag_probs), torch.tensor(y.word_tag_probs), atol=1e-5)
        assert torch.allclose(torch.tensor(x.mention_probs), torch.tensor(y.mention_probs), atol=1e-5)


def test_hyphenated_compounds_decode_whole():
    text = "a so-called anti-terror commander"
    words = [(0, 1), (2, 4), (4, 5), (5, 11), (12, 16), (16, 17), (17, 23), (24, 33)]
    o, b, i = [1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0], [0, 0, 1.0, 0, 0]
    spans = decode_spans(words, [o, b, o, o, o, o, b, i], 0.5, text)
    assert [text[s.start : s.end] for s in spans] == ["so-called", "anti-terror commander"]


def test_widened_span_merges_with_the_previous_one():
    text = "anti-terror commander"
    words = [(0, 4), (4, 5), (5, 11), (12, 21)]
    o, b = [1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0]
    spans = decode_spans(words, [b, o, b, b], 0.5, text)
    assert [text[s.start : s.end] for s in spans] == ["anti-terror", "commander"]
    spans = decode_spans(words, [b, b, o, o], 0.5, text)
    assert [text[s.start : s.end] for s in spans] == ["anti-terror"]


def test_whole_phrase_decoding_extends_a_sure_word_over_likely_neighbours():
    text = "a deceptive move by them"
    words = [(0, 1), (2, 11), (12, 16), (17, 19), (20, 24)]
    sure, likely, unlikely = [0.1, 0.9, 0, 0, 0], [0.6, 0.1, 0.3, 0, 0], [0.9, 0.05, 0.05, 0, 0]
    probs = [unlikely, sure, likely, unlikely, unlikely]
    assert [text[s.start : s.end] for s in decode_spans(words, probs, 0.5, text)] == ["deceptive"]
    spans = decode_spans(words, probs, 0.5, text, extend=0.3)
    assert [(text[s.start : s.end], s.category) for s in spans] == [("deceptive move", "loaded_language")]
    # Leftwards too, and a likely word with no sure neighbour stays untagged.
    probs = [unlikely, likely, sure, unlikely, likely]
    spans = decode_spans(words, probs, 0.5, text, extend=0.3)
    assert [text[s.start : s.end] for s in spans] == ["deceptive move"]


def test_decoded_spans_are_ordered_disjoint_and_in_bounds():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["so", "-", "called", "anti", "terror", ",", "x"]), st.booleans(), st.integers(0, 4)
            ),
            min_size=1,
            max_size=12,
        )
    )
    def check(words):
        text, spans_w, probs = "", [], []
        for word, space, tag in words:
            if space and text:
                text += " "
            spans_w.append((len(text), len(text) + len(word)))
            text += word
            probs.append([1.0 if i == tag else 0.0 for i in range(5)])
        spans = decode_spans(spans_w, probs, 0.5, text)
        for a, b in zip(spans, spans[1:]):
            assert a.end <= b.start
        for s in spans:
            assert 0 <= s.start < s.end <= len(text) and 0.0 <= s.score <= 1.0

    check()


def _tags(text: str, words: list[str], loaded: set[int]) -> tuple[list[tuple[int, int]], list[list[float]]]:
    """Word spans as a BERT pre-tokenizer splits them, with B/I tags on the `loaded` word indices."""
    spans, at = [], 0
    for w in words:
        at = text.index(w, at)
        spans.append((at, at + len(w)))
        at += len(w)
    o, b, i = [1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0], [0, 0, 1.0, 0, 0]
    probs = [(i if k - 1 in loaded else b) if k in loaded else o for k in range(len(words))]
    return spans, probs


def test_spans_never_start_or_end_inside_a_word():
    text = "The Mayor's Shameful Betrayal"
    spans, probs = _tags(text, ["The", "Mayor", "'", "s", "Shameful", "Betrayal"], {3, 4, 5})
    assert [text[s.start : s.end] for s in decode_spans(spans, probs, 0.5, text)] == ["Shameful Betrayal"]
    text = "fighters of Hashd al-Sha’abi said"
    spans, probs = _tags(text, ["fighters", "of", "Hashd", "al", "-", "Sha", "’", "abi", "said"], {3, 4, 5})
    assert [text[s.start : s.end] for s in decode_spans(spans, probs, 0.5, text)] == ["al-Sha’abi"]
    text = "a U.S.-backed regime"
    spans, probs = _tags(text, ["a", "U", ".", "S", ".", "-", "backed", "regime"], {6, 7})
    assert [text[s.start : s.end] for s in decode_spans(spans, probs, 0.5, text)] == ["U.S.-backed regime"]


def test_function_word_terms_are_never_returned():
    text = "This is a disgrace and this a lie"
    words = text.split()
    spans, probs = _tags(text, words, {0, 2, 5, 6})
    assert [text[s.start : s.end] for s in decode_spans(spans, probs, 0.5, text)] == []
    spans, probs = _tags(text, words, {2, 3})
    assert [text[s.start : s.end] for s in decode_spans(spans, probs, 0.5, text)] == ["a disgrace"]


def test_marked_mentions_reach_the_encoder_and_survive_save_load_and_the_fast_path(parts, tmp_path, tiny_base):
    model, tokenizer, encoded = parts
    batch = collate(encoded, tokenizer.pad_token_id, mark_mentions=True)
    types = batch["token_type_ids"]
    assert types.shape == batch["input_ids"].shape
    assert types.sum() == sum(len(t) for e in encoded for t in e.mentions)  # 1 exactly on mention tokens
    marked = StanceModel(model.encoder, dropout=0.0, heads=model.head_specs, mark_mentions=True)
    marked.heads.load_state_dict(model.heads.state_dict())
    plain_probs = [p.mention_probs for p in predict(model, encoded, tokenizer.pad_token_id)]
    marked_probs = [p.mention_probs for p in predict(marked, encoded, tokenizer.pad_token_id)]
    assert plain_probs != marked_probs  # the marks change what the encoder reads
    save_model(marked, tokenizer, tmp_path / "m", str(tiny_base), 64, freeze_embeddings=True)
    for fast in (False, True):
        loaded, _, _ = load_model(tmp_path / "m", fast=fast)
        assert loaded.mark_mentions
        again = [p.mention_probs for p in predict(loaded, encoded, tokenizer.pad_token_id)]
        assert torch.allclose(torch.tensor(again[0]), torch.tensor(marked_probs[0]), atol=1e-5)


def test_loaded_terms_never_begin_or_end_with_a_conjunction():
    text = "This reckless and cowardly attack shows it"
    words = [(0, 4), (5, 13), (14, 17), (18, 26), (27, 33), (34, 39), (40, 42)]
    o, b, i = [1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0], [0, 0, 1.0, 0, 0]
    spans = decode_spans(words, [o, b, i, o, o, o, o], 0.5, text)
    assert [text[s.start : s.end] for s in spans] == ["reckless"]
    spans = decode_spans(words, [o, o, b, i, i, o, o], 0.5, text)
    assert [text[s.start : s.end] for s in spans] == ["cowardly attack"]
    spans = decode_spans(words, [o, b, i, i, i, o, o], 0.5, text)
    assert [text[s.start : s.end] for s in spans] == ["reckless and cowardly attack"]  # inside: kept
