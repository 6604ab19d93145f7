"""The answer-settings grid: every combination reads the same cached retrievals."""

from types import SimpleNamespace

import pytest

from app.answer import AnswerSettings
from app.errors import UserError
from app.generator import AnswerGenerator
from app.question_set import Question
from bench.tune_answers import format_line, parse_grid, run_grid
from retrievers import RetrieverSettings, build_retriever
from tests.helpers.fake_store import FakePaperStore

QUESTIONS = [
    Question("q1", "What memory does the mLSTM have?", "A matrix memory.", key_terms=["matrix"]),
    Question(
        "q2",
        "What perplexity has the vanilla LSTM?",
        "2417.86",
        type="numeric",
        key_terms=["2417.86"],
    ),
    Question("q3", "How fast do giraffes run?", "", answerable=False, type="unanswerable"),
]


def test_parse_grid_gives_every_combination_cast_to_the_setting_types():
    grid = parse_grid(["margin=0.04,0.3", "k=5,8"])
    assert grid == [
        {"margin": 0.04, "k": 5},
        {"margin": 0.04, "k": 8},
        {"margin": 0.3, "k": 5},
        {"margin": 0.3, "k": 8},
    ]
    assert parse_grid([]) == [{}]
    with pytest.raises(UserError):
        parse_grid(["margin"])
    with pytest.raises(UserError):
        parse_grid(["no_such_setting=1"])


def test_run_grid_scores_each_point_and_retrieves_each_question_once():
    store, built = FakePaperStore(), []

    def retriever(name, k=None, **overrides):
        built.append((name, k))
        return build_retriever(name, store, RetrieverSettings(k=k or 3, **overrides))

    resources = SimpleNamespace(
        generator=AnswerGenerator(embeddings=store.embeddings, run=None),
        retriever=retriever,
        settings=AnswerSettings(mode="extractive", refusal_threshold=0.3),
    )
    grid = [{"margin": 0.04}, {"margin": 0.3}]
    results = run_grid(QUESTIONS, resources, ["similarity", "compression"], grid, {})
    assert [r["overrides"] for r in results] == grid
    assert built == [("similarity", 5), ("compression", 5)]  # one scope, cached after
    scores = results[0]["scores"]["similarity"]
    assert 0 < scores["key_terms"] <= 1 and scores["key_terms_numeric"] == 1.0
    assert scores["refusal_accuracy"] in (0.0, 1.0)
    assert format_line(results[0]).startswith("margin=0.04 | simi kt ")
