"""The re-ranking study: every signal runs through the real answer path on the same evidence."""

from types import SimpleNamespace

import pytest

from app.answer import Answer, AnswerSettings
from app.generator import AnswerGenerator
from app.question_set import Question
from bench.rerank_study import main, model_signals, random_signal, study
from retrievers import RetrieverSettings, build_retriever
from tests.helpers.fake_store import FakePaperStore

QUESTIONS = [
    Question(
        "q1",
        "What does the mLSTM covariance update rule give?",
        "A matrix memory.",
        key_terms=["matrix memory"],
    ),
    Question("q2", "What memory does the sLSTM have?", "A scalar memory.", key_terms=["scalar"]),
]


@pytest.fixture()
def resources(tiny_run):
    store = FakePaperStore()
    calls = []

    def retriever(name, k=None):
        calls.append(name)
        return build_retriever(name, store, RetrieverSettings(k=3))

    return SimpleNamespace(
        generator=AnswerGenerator(embeddings=store.embeddings, run=tiny_run),
        retriever=retriever,
        settings=AnswerSettings(refusal_threshold=0.3),
        calls=calls,
    )


def test_the_model_signals_score_every_passage(tiny_run):
    passages = ["The mLSTM has a matrix memory.", "Cats sleep.", "A scalar memory with mixing."]
    for name, signal in model_signals(tiny_run).items():
        scores = signal("What memory does the mLSTM have?", passages)
        assert len(scores) == 3 and all(isinstance(s, float) for s in scores), name
    assert random_signal(1)("q", passages) == random_signal(1)("q", passages)
    assert random_signal(1)("q", passages) != random_signal(2)("q", passages)


def test_study_rows_cover_every_signal_and_weight(resources, capsys):
    rows = study(resources, QUESTIONS, "similarity", weights=[0.0, 0.5], seeds=2)
    names = [(r["signal"], r["weight"]) for r in rows]
    assert names[0] == ("none", 0.0) and len(rows) == 1 + 5 * 2
    assert {"upr", "upr-pmi", "reverse-pmi", "random-0", "random-1"} == {
        r["signal"] for r in rows[1:]
    }
    for r in rows:
        assert 0.0 <= r["answer_f1"] <= 1.0 and 0.0 <= r["key_terms"] <= 1.0
        if r["weight"] == 0.0:  # no re-ranking: the same answers as without a signal
            assert r["answer_f1"] == rows[0]["answer_f1"]
    assert resources.calls == ["similarity"]  # one retriever, retrievals replayed
    assert capsys.readouterr().out.count("| upr |") == 2


def test_signals_can_be_limited(resources, capsys):
    rows = study(resources, QUESTIONS, "similarity", weights=[0.5], seeds=1, only=["upr-pmi"])
    assert [r["signal"] for r in rows] == ["none", "upr-pmi", "random-0"]


def test_unknown_signals_are_a_one_line_error(capsys):
    assert main(["--signals", "upr,magic"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown --signals magic; use upr, ")


def test_bad_weights_are_a_one_line_error(capsys):
    assert main(["--weights", "0.1,heavy"]) == 2
    assert capsys.readouterr().err == (
        "error: --weights '0.1,heavy': use comma-separated numbers, e.g. 0.1,0.3\n"
    )


def test_every_signal_goes_through_the_upr_seam_even_for_a_model_with_a_reader(
    resources, monkeypatch
):
    import bench.rerank_study as rs

    used = []

    def spy(question, retriever, generator, settings):
        used.append(settings.upr_signal)
        return Answer(question=question, text="", refused=True, mode=settings.mode)

    monkeypatch.setattr(rs, "answer_question", spy)
    resources.settings = AnswerSettings(refusal_threshold=0.3)  # upr_signal "auto"
    study(resources, QUESTIONS, "similarity", weights=[0.3], seeds=1, only=["upr-pmi"])
    assert used and set(used) == {"upr-pmi"}  # "auto" would read a reader head, not the signal


def test_the_token_seam_runs_the_token_reader_and_random_at_its_weight(resources):
    seen = []

    class TokenReader:  # a stand-in for xlstm_model.token_reader.TokenReaderRun
        def scores(self, question, texts):
            seen.append(len(texts))
            return [float(len(t)) for t in texts]

    resources.generator.token_reader = TokenReader()
    rows = study(
        resources, QUESTIONS, "similarity", [0.5], seeds=1, only=["token-reader"], seam="token"
    )
    assert [r["signal"] for r in rows] == ["none", "token-reader", "random-0"]
    assert len(seen) == len(QUESTIONS) and all(0 < n <= 24 for n in seen)
