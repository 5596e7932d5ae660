from __future__ import annotations

from stance.summary import CorpusSummary, article_summary


def sentence(i: int, voice: str, score: float, flag: bool, terms=(), stance=()) -> dict:
    return {
        "record": "sentence",
        "doc_id": "d",
        "path": "d.txt",
        "sentence_index": i,
        "voice": {"label": voice, "source": None},
        "framing": {"score": score, "flag": flag},
        "loaded_terms": [
            {"text": t, "category": "loaded_language", "voice": {"label": voice, "source": None}} for t in terms
        ],
        "stance": [{"target": tg, "label": lb, "scores": sc} for tg, lb, sc in stance],
    }


def test_article_summary_framing_index_terms_and_stance_by_voice():
    against = {"against": 0.8, "neutral": 0.1, "favor": 0.1}
    favor = {"against": 0.1, "neutral": 0.2, "favor": 0.7}
    records = [
        sentence(0, "editorial", 0.9, True, ["Regime", "lies"], [("Iraq", "against", against)]),
        sentence(1, "editorial", 0.3, False),
        sentence(2, "quoted", 0.95, False, ["regime"], [("Iraq", "favor", favor)]),
    ]
    summary = article_summary(records)
    assert summary["record"] == "summary" and summary["sentences"] == 3
    assert summary["framing_index"] == {"editorial_sentences": 2, "flagged": 1, "share_flagged": 0.5, "mean_score": 0.6}
    assert summary["loaded_terms"]["count"] == 3
    assert summary["loaded_terms"]["top"][0] == {"text": "regime", "count": 2}
    assert summary["loaded_terms"]["by_voice"] == {"editorial": 2, "quoted": 1}
    (iraq,) = summary["stance"]
    assert iraq["by_voice"]["editorial"]["label"] == "against" and iraq["by_voice"]["quoted"]["label"] == "favor"
    assert iraq["overall"]["n"] == 2 and iraq["overall"]["counts"] == {"against": 1, "neutral": 0, "favor": 1}
    corpus = CorpusSummary()
    corpus.add(summary)
    corpus.add({"record": "error", "doc_id": "x", "path": "x.txt", "error": "empty"})
    assert (corpus.documents, corpus.failed, corpus.flagged, corpus.editorial) == (1, 1, 1, 2)


def test_corpus_summary_holds_fixed_memory_over_many_articles(monkeypatch):
    import stance.summary as summary_module

    monkeypatch.setattr(summary_module, "TALLY_CAP", 100)
    corpus = CorpusSummary()
    common = {"against": 1, "neutral": 0, "favor": 0}
    for i in range(1_000):
        record = article_summary(
            [
                sentence(
                    0,
                    "editorial",
                    0.9,
                    True,
                    ["regime", f"rare{i}"],
                    [
                        ("Iraq", "against", {"against": 0.8, "neutral": 0.1, "favor": 0.1}),
                        (f"Target {i}", "against", {"against": 0.8, "neutral": 0.1, "favor": 0.1}),
                    ],
                )
            ]
        )
        corpus.add(record)
        corpus.add({"record": "error", "doc_id": str(i), "path": f"{i}.txt", "error": "empty"})
    assert len(corpus.terms) <= 100 and len(corpus.stance) <= 100 and len(corpus.errors) == summary_module.SHOWN_ERRORS
    # Frequent entries survive pruning with exact counts; the failure count stays exact.
    assert corpus.terms["regime"] == 1_000 and corpus.stance["Iraq"] == {**common, "against": 1_000}
    assert corpus.failed == 1_000


def test_stance_splits_the_outlets_view_from_its_sources_and_names_them():
    against = {"against": 0.8, "neutral": 0.1, "favor": 0.1}
    favor = {"against": 0.1, "neutral": 0.2, "favor": 0.7}

    def entry(label, scores, voice, source=None):
        return {
            "target": "United States",
            "label": label,
            "scores": scores,
            "voice": {"label": voice, "source": source},
        }

    # One sentence holds both views: the outlet's words and a quote (each stance entry has its own voice).
    mixed = sentence(0, "quoted", 0.4, False)
    mixed["stance"] = [entry("against", against, "editorial"), entry("favor", favor, "quoted", "Khazali")]
    reported = sentence(1, "attributed", 0.2, False)
    reported["stance"] = [entry("favor", favor, "attributed", "Khazali"), entry("favor", favor, "attributed", "Berg")]
    (us,) = article_summary([mixed, reported])["stance"]
    assert us["outlet"]["counts"] == {"against": 1, "neutral": 0, "favor": 0}
    assert us["sources"]["label"] == "favor" and us["sources"]["n"] == 3
    assert us["top_sources"] == [{"source": "Khazali", "n": 2}, {"source": "Berg", "n": 1}]
    corpus = CorpusSummary()
    corpus.add(article_summary([mixed, reported]))
    corpus.add(article_summary([mixed]))
    (row,) = corpus.to_dict()["stance"]
    assert row["outlet"] == {"against": 2, "neutral": 0, "favor": 0}
    assert row["sources"] == {"against": 0, "neutral": 0, "favor": 4}
    assert row["top_sources"][0] == {"source": "Khazali", "n": 3}
