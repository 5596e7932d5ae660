"""The ONNX Runtime engine: export matches torch, int8 stays close, the cache works, scoring needs no torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from test_modeling import SENTENCES

from stance.documents import Document
from stance.engines import OnnxEngine, TorchEngine
from stance.examples import encode_examples
from stance.inference import predict
from stance.model_files import read_model_config
from stance.modeling import load_model
from stance.onnx_export import INT8_KEEP_FLOAT, RANGES_KEY, export_onnx, matmul_modules, onnx_model
from stance.runtime import Runtime
from stance.scoring import Scorer

pytest.importorskip("onnxruntime")

# Stated tolerances. fp32: the same arithmetic in another order (observed ~1e-6 on the tiny model,
# ~6e-5 on logits of the shipped one). int8: weights and activations rounded to 8 bits; on a random
# tiny model probabilities move by a few hundredths at most.
FP32_ATOL = 1e-4
INT8_ATOL = 0.1


def _outputs(preds):
    return [
        (p.framing_score, np.array(p.word_tag_probs), np.array(p.mention_probs).reshape(-1), p.outputs) for p in preds
    ]


def _compare(a, b, atol):
    for (fa, wa, ma, _), (fb, wb, mb, _) in zip(_outputs(a), _outputs(b)):
        assert fa == pytest.approx(fb, abs=atol)
        np.testing.assert_allclose(wa, wb, atol=atol)
        np.testing.assert_allclose(ma, mb, atol=atol)


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model_dir = trained / "model"
    out = tmp_path_factory.mktemp("onnx")
    return (
        model_dir,
        export_onnx(model_dir, out / "fp32.onnx", "fp32"),
        export_onnx(model_dir, out / "int8.onnx", "int8"),
    )


def _predictions(engine, tokenizer, heads):
    encoded = encode_examples(tokenizer, SENTENCES, 64, heads)
    encoded.append(encode_examples(tokenizer, [SENTENCES[1]], 64, heads)[0])
    encoded[-1].mentions = []  # a sentence without target mentions, in a batch with them
    return predict(engine, encoded, tokenizer.pad_token_id, batch_size=3)


def test_onnx_fp32_matches_torch_and_int8_stays_close(exported):
    model_dir, fp32, int8 = exported
    model, tokenizer, config = load_model(model_dir, fast=True)
    reference = _predictions(TorchEngine(model), tokenizer, model.head_specs)
    onnx32 = OnnxEngine(fp32, config)
    assert onnx32.framing_temperature == pytest.approx(float(model.framing_temperature))
    assert onnx32.loaded_threshold == pytest.approx(float(model.loaded_threshold))
    _compare(reference, _predictions(onnx32, tokenizer, model.head_specs), FP32_ATOL)
    _compare(reference, _predictions(OnnxEngine(int8, config), tokenizer, model.head_specs), INT8_ATOL)
    assert reference[-1].mention_probs == []


def test_int8_quantizes_exactly_the_layers_of_the_recipe(exported):
    import onnx

    _, fp32, int8 = exported
    modules = matmul_modules(onnx.load(str(fp32)))
    layers = {m for m in modules.values() if m.startswith("encoder.")}
    assert len(layers) == 2 * 6, "q, k, v, attention-out, FFN up and down in each of the 2 layers, each found"
    assert {"heads.framing", "heads.loaded_terms", "heads.stance.0", "heads.stance.3"} <= set(modules.values())
    expected = {node for node, module in modules.items() if not INT8_KEEP_FLOAT.search(module)}
    graph = onnx.load(str(int8)).graph
    quantized = {n.name.removesuffix("_quant") for n in graph.node if n.op_type == "MatMulIntegerToFloat"}
    assert quantized == expected and expected
    meta = {p.key: p.value for p in onnx.load(str(int8)).metadata_props}
    assert meta["precision"] == "int8"
    # Every activation scale is fixed (the trained model stores its ranges): none is set per batch.
    assert json.loads(meta["int8_activation_scales"]) == {"static": 4 * 2, "per_row": 0}
    assert "DynamicQuantizeLinear" not in {n.op_type for n in graph.node}


ONE_SENTENCE = "The radical regime attacked the brave people, the minister said."
NEIGHBOURS = [
    "Yes.",
    "Thugs!",
    " ".join(["The disastrous, corrupt, radical and reckless regime of thugs and terrorists"] * 6) + ".",
    "The bank reported that the rate rose by 0.25 points in the third quarter of the fiscal year 2024.",
]


@pytest.mark.parametrize("stored_ranges", [True, False], ids=["fixed scales", "row scales"])
def test_int8_gives_a_sentence_the_same_record_alone_and_in_any_batch(trained, tmp_path, monkeypatch, stored_ranges):
    """One sentence, one answer: int8 rounding never depends on the sentences batched beside it,
    with the ranges `stance train` stores and, for a model without them, with per-row scales."""
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    shutil.copytree(trained / "model", model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    assert RANGES_KEY in config, "stance train stores the int8 activation ranges"
    if not stored_ranges:
        del config[RANGES_KEY]
        (model_dir / "config.json").write_text(json.dumps(config))
    scorer = Scorer(model_dir, backend="onnx", precision="int8")
    assert scorer.runtime.precision == "int8"

    def record_of_the_sentence(docs, batch_size):
        scorer.batch_size = batch_size
        return next(r for r in scorer.score(docs) if r.get("doc_id") == "one" and r["record"] == "sentence")

    one = Document("one", "one.txt", ONE_SENTENCE)
    others = [Document(f"n{i}", f"n{i}.txt", t) for i, t in enumerate(NEIGHBOURS)]
    alone = record_of_the_sentence([one], 1)
    assert record_of_the_sentence([*others, one], 64) == alone
    assert record_of_the_sentence([one, *reversed(others)], 2) == alone


def test_the_cache_exports_once_and_follows_the_model(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    shutil.copytree(trained / "model", model_dir)
    first = onnx_model(model_dir, "fp32")
    stamp = first.stat().st_mtime_ns
    assert onnx_model(model_dir, "fp32") == first and first.stat().st_mtime_ns == stamp
    assert onnx_model(model_dir, "int8") != first
    config = json.loads((model_dir / "config.json").read_text())
    config["max_length"] = 32  # a changed model is a different file
    (model_dir / "config.json").write_text(json.dumps(config))
    assert onnx_model(model_dir, "fp32") != first
    assert not list((tmp_path / "cache" / "onnx").glob(".export-*")), "temporary export folders are cleaned up"


def test_backend_choice_and_its_errors(trained):
    config = read_model_config(trained / "model")
    assert Runtime.choose("cpu", "auto", "onnx", config).backend == "onnx"
    assert Runtime.choose("cpu", "fp32", "onnx", config).precision == "fp32"
    assert Runtime.choose("cpu", "bf16", "auto", config).backend == "torch"
    assert Runtime.choose("cpu", "fp32", "torch", config).backend == "torch"
    with pytest.raises(ValueError, match="bf16.*--backend torch"):
        Runtime.choose("cpu", "bf16", "onnx", config)
    with pytest.raises(ValueError, match="runs on the CPU"):
        Runtime.choose("cuda", "auto", "onnx", config)
    other = config | {"encoder_config": config["encoder_config"] | {"model_type": "roberta"}}
    with pytest.raises(ValueError, match="BERT-family.*'roberta'"):
        Runtime.choose("cpu", "auto", "onnx", other)
    assert Runtime.choose("cpu", "auto", "auto", other).backend == "torch"
    with pytest.raises(ValueError, match="expected --backend"):
        Runtime.choose("cpu", "auto", "tensorflow", config)


TEXT = "The radical regime attacked the brave people. The bank reported the rate."
SCORE_WITHOUT_TORCH = r"""
import json, sys
from stance.scoring import Scorer
from stance.documents import Document
scorer = Scorer(sys.argv[1], backend="onnx", precision=sys.argv[2])
records = list(scorer.score([Document("d", "d.txt", sys.argv[3])]))
print(json.dumps({"torch": "torch" in sys.modules, "transformers": "transformers" in sys.modules, "records": records}))
"""


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_scoring_on_onnx_imports_neither_torch_nor_transformers(trained, tmp_path, monkeypatch, precision):
    monkeypatch.setenv("STANCE_CACHE", str(tmp_path))
    onnx_model(trained / "model", precision)  # exported beforehand, as any earlier run would have
    out = subprocess.run(
        [sys.executable, "-c", SCORE_WITHOUT_TORCH, str(trained / "model"), precision, TEXT],
        capture_output=True,
        text=True,
        env=os.environ | {"STANCE_CACHE": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert not result["torch"] and not result["transformers"]
    assert [r["record"] for r in result["records"]] == ["sentence", "sentence", "summary"]
    scorer = Scorer(trained / "model", backend="torch", precision="fp32")
    reference = list(scorer.score([Document("d", "d.txt", TEXT)]))
    tolerance = FP32_ATOL if precision == "fp32" else INT8_ATOL
    for a, b in zip(result["records"][:2], reference[:2]):
        assert a["framing"]["score"] == pytest.approx(b["framing"]["score"], abs=tolerance)
        assert [s["target"] for s in a["stance"]] == [s["target"] for s in b["stance"]]


def test_workers_give_the_same_records_in_the_same_order(trained, tmp_path):
    """Preparation and record building in worker processes change nothing (fp32: batches may differ)."""
    texts = [
        "The radical regime attacked the brave people. The bank reported the rate.",
        "Thugs and terrorists killed the people, the president said.",
        "",  # an empty article: an error record, in its place
        "The government said the budget rose. Critics called it a disastrous law.",
    ] * 3
    docs = [Document(f"d{i}", f"d{i}.txt", t) for i, t in enumerate(texts)]
    plain = Scorer(trained / "model", backend="onnx", precision="fp32", chunk_sentences=4)
    pooled = Scorer(trained / "model", backend="onnx", precision="fp32", chunk_sentences=4, workers=2)
    a, b = list(plain.score(docs, None)), list(pooled.score(docs, None))
    assert [r["record"] for r in b] == [r["record"] for r in a] and "error" in [r["record"] for r in a]
    for x, y in zip(a, b):
        assert x.get("doc_id") == y.get("doc_id") and x.get("text") == y.get("text")
        if x["record"] == "sentence":
            assert x["framing"]["score"] == pytest.approx(y["framing"]["score"], abs=FP32_ATOL)
            assert [t["text"] for t in x["loaded_terms"]] == [t["text"] for t in y["loaded_terms"]]
            assert x["voice"]["label"] == y["voice"]["label"]


def test_an_unwritable_cache_still_scores_and_says_how_to_keep_the_export(trained, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("STANCE_CACHE", str(blocker / "cache"))  # a folder inside a file: cannot be made
    path = onnx_model(trained / "model", "fp32")
    assert path.exists() and not str(path).startswith(str(blocker))
    assert "cannot write the ONNX cache" in caplog.text and "STANCE_CACHE" in caplog.text
