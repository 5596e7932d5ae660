"""The shipped default model on sentences written for this test (not from any training corpus)."""

from __future__ import annotations

import pytest
from conftest import DEFAULT_MODEL

from stance.documents import Document
from stance.targets import Target

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DEFAULT_MODEL / "config.json").exists(), reason="models/default has not been trained"),
]

OPINIONATED = [
    "This reckless and cowardly government has once again betrayed the hard-working people of this country.",
    "The senator's disgraceful tantrum proves that he is utterly unfit for office.",
    "Only a fool would believe the lies pushed by these radical extremists.",
    "The so-called experts have shamelessly peddled this ridiculous hoax for years.",
    "Liberal elites are waging a vicious war on ordinary families and their values.",
    "The administration's disastrous, incompetent response has been a national disgrace.",
]
FACTUAL = [
    "The city council voted 7 to 2 on Monday to approve the budget.",
    "The central bank held its main interest rate at 4.5 percent on Wednesday.",
    "The company reported revenue of $3.2 billion for the third quarter.",
    "The bill will be debated in the Senate next week, a spokesperson said.",
    "Officials said the bridge will reopen to traffic on July 1.",
    "The survey of 1,200 adults was conducted between March 3 and March 9.",
]


@pytest.fixture(scope="module")
def scorer():
    from stance.scoring import Scorer

    return Scorer(DEFAULT_MODEL)


def framing_scores(scorer, sentences: list[str]) -> list[float]:
    docs = [Document(doc_id=str(i), path=f"{i}.txt", text=s) for i, s in enumerate(sentences)]
    return [r["framing"]["score"] for r in scorer.score(docs) if r["record"] == "sentence"]


def test_default_model_separates_opinion_from_fact(scorer):
    opinion = framing_scores(scorer, OPINIONATED)
    fact = framing_scores(scorer, FACTUAL)
    assert min(opinion) > max(fact), (opinion, fact)
    assert sum(s >= 0.5 for s in opinion) >= 5 and sum(s < 0.5 for s in fact) >= 5


def test_default_model_marks_loaded_terms(scorer):
    docs = [Document(doc_id="x", path="x.txt", text=OPINIONATED[0] + " " + OPINIONATED[2])]
    terms = [t["text"].lower() for r in scorer.score(docs) if r["record"] == "sentence" for t in r["loaded_terms"]]
    assert any(
        w in " ".join(terms) for w in ("reckless", "cowardly", "betrayed", "fool", "lies", "radical", "extremists")
    )


def test_default_model_has_the_voice_head_and_reads_issue_10s_sentences(scorer):
    """The sentences the rules got wrong in issue 10, now read by the attribution head plus quotes."""
    from test_voice import ISSUE_10_CASES

    assert scorer.voice_head is not None
    for text, (label, source) in ISSUE_10_CASES:
        (record, _) = list(scorer.score([Document("d", "d.txt", text)]))
        voice = record["voice"]
        # reported speech may be read as quoted where its content is a quotation ("slammed X as "..."")
        reported = voice["label"] in ("quoted", "attributed")
        assert (reported, voice["source"]) == (label != "editorial", source), (text, voice)
        if source is not None:
            assert text[voice["source_start"] : voice["source_end"]] == source


SEED_ASSASSINATED = (
    "On January 3, 2020, the US assassinated Iran's anti-terror commander General Qassem Soleimani and his "
    "Iraqi trenchmate Abu Mahdi al-Muhandis."
)
SEED_OCCUPIED = "The United States has occupied Iraq and will not leave easily and without strong resistance."


@pytest.mark.xfail(
    strict=True,
    reason="issue 11, open: the shipped model misses these loaded verbs (P 0.05, 0.01) and reads 'occupied' as neutral; "
    "strict, so this fails once a retrained model gets them right and the marker must go",
)
def test_default_model_reads_the_seed_samples_loaded_verbs_and_stance(scorer):
    docs = [Document("a", "a.txt", SEED_ASSASSINATED), Document("o", "o.txt", SEED_OCCUPIED)]
    united_states = Target("United States", ("US",))
    records = [r for r in scorer.score(docs, [united_states]) if r["record"] == "sentence"]
    terms = {r["doc_id"]: " ".join(t["text"].lower() for t in r["loaded_terms"]) for r in records}
    assert "assassinated" in terms["a"] and "occupied" in terms["o"], terms
    (occupied,) = [r for r in records if r["doc_id"] == "o"]
    stance = {s["target"]: s["label"] for s in occupied["stance"]}
    assert stance.get("United States") == "against", occupied["stance"]


# Issue 22: the outlet's words stay the outlet's. Written for this test; the article is a new user's.
COUNCIL_ARTICLE = (
    "City Council Approves Housing Plan\n\n"
    "The Riverton city council voted 7 to 2 on Monday to approve the plan. "
    "The so-called affordability experts who opposed it never built a single home. "
    "The talks on the border deal collapsed on Friday, a UN spokesperson said. "
    "The Karvanian regime once again showed its contempt for peace. "
    "Critics slammed the radical bill, saying it would ruin the town."
)


def test_default_model_keeps_the_outlets_words_its_own(scorer):
    records = [r for r in scorer.score([Document("c", "c.txt", COUNCIL_ARTICLE)]) if r["record"] == "sentence"]
    voice = {r["text"][:24]: (r["voice"]["label"], r["voice"]["source"]) for r in records}
    # Headlines and sentences of deeds are the outlet's report, not someone's speech.
    assert voice["City Council Approves Ho"] == ("editorial", None)
    assert voice["The Riverton city counci"] == ("editorial", None)
    assert voice["The so-called affordabil"] == ("editorial", None)
    assert voice["The Karvanian regime onc"] == ("editorial", None)
    # The tagger splits "a" from "UN spokesperson": the source is read whole, never a determiner.
    assert voice["The talks on the border "] == ("attributed", "UN spokesperson")
    assert not {source for _, source in voice.values()} & {"The", "the", "a", "A", "an"}
    # A source does not excuse the outlet's own loaded words: "slammed" is the outlet's choice.
    critics = next(r for r in records if r["text"].startswith("Critics"))
    outlet_terms = [t["text"] for t in critics["loaded_terms"] if t["voice"]["label"] == "editorial"]
    assert critics["voice"]["label"] == "attributed" and outlet_terms
    assert critics["framing"]["flag"] == (critics["framing"]["score"] >= 0.5)
    regime = next(r for r in records if r["text"].startswith("The Karvanian"))
    assert regime["framing"]["flag"] == (regime["framing"]["score"] >= 0.5)
