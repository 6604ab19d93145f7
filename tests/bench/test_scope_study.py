"""The scope study: off-paper share and passage key terms on a two-paper store."""

import dataclasses
from types import SimpleNamespace

import pytest

from app.errors import UserError
from app.question_set import Question
from bench.scope_study import measure, parse_variant
from retrievers import RetrieverSettings, build_retriever
from tests.helpers.fake_store import MAMBA, MAMBA_PAGES, FakePaperStore

QUESTION = Question(
    "q1",
    "What matrix memory does the mLSTM have?",
    "A matrix memory with a covariance update rule.",
    evidence=[{"paper": "xlstm-2405.04517v2.pdf", "page": 5}],
    key_terms=["covariance update rule"],
)


def _resources():
    store = FakePaperStore()
    store.add_pages(MAMBA_PAGES, paper=MAMBA)

    def retriever(name, k=None, **overrides):
        settings = dataclasses.replace(RetrieverSettings(k=3), **overrides)
        return build_retriever(name, store, settings)

    return SimpleNamespace(retriever=retriever)


def test_parse_variant_reads_scoped_and_settings():
    assert parse_variant("scoped=scoped") == ("scoped", {"scoped": True})
    assert parse_variant("r=named_papers:filter,route_share:0.5") == (
        "r",
        {"named_papers": "filter", "route_share": 0.5},
    )
    assert parse_variant("d=route_depth:80") == (
        "d",
        {"route_depth": 80},
    )  # an int, as chroma needs
    with pytest.raises(UserError):
        parse_variant("x=no_such_field:1")


def test_scoping_removes_other_papers_and_keeps_the_key_terms():
    resources = _resources()
    plain = measure([QUESTION], resources, "similarity", {"route_share": 2.0})  # no routing
    scoped = measure([QUESTION], resources, "similarity", {"scoped": True})
    routed = measure([QUESTION], resources, "similarity", {})  # only xLSTM writes "mLSTM"
    assert plain["off_paper"] > 0  # Mamba's "matrix memory" page comes up unscoped
    assert scoped["off_paper"] == 0 and routed["off_paper"] == 0
    assert scoped["passage_key_terms"] == 1.0
