"""`python -m app.ask --paper ID`: answers from the chosen papers only; unknown papers exit 2."""

import json

import pytest

from app import ask
from tests.helpers.fake_store import MAMBA, MAMBA_PAGES, XLSTM, FakePaperStore


def library_resources(tmp_path):
    """Real `Resources` over an in-memory store holding the fake xLSTM and Mamba papers."""
    from app.answer import AnswerSettings
    from app.generator import AnswerGenerator
    from app.resources import Resources
    from retrievers import BM25Index, RetrieverSettings

    store = FakePaperStore()
    store.add_pages(MAMBA_PAGES, paper=MAMBA)
    return Resources(
        store=store,
        generator=AnswerGenerator(embeddings=store.embeddings),
        settings=AnswerSettings(mode="extractive", refusal_threshold=0.0),
        retriever_settings=RetrieverSettings(k=4, compression_threshold=0.05),
        bm25=BM25Index(store),
        model_dir=tmp_path,
    )


@pytest.fixture()
def library(tmp_path, monkeypatch):
    resources = library_resources(tmp_path)
    monkeypatch.setattr("app.resources.load_resources", lambda **_: resources)
    return resources


def _sources(capsys) -> dict[str, set[str]]:
    out = json.loads(capsys.readouterr().out)
    return {name: {s["paper"] for s in r["sources"]} for name, r in out["results"].items()}


QUESTION = "What is the matrix memory?"


def test_without_paper_every_paper_is_searched(library, capsys):
    assert ask.main([QUESTION, "--retriever", "similarity", "--json"]) == 0
    assert _sources(capsys)["similarity"] == {XLSTM[0], MAMBA[0]}


@pytest.mark.parametrize("paper", ["2312.00752", "mamba-2312.00752.pdf", MAMBA[1], "mamba-231"])
def test_paper_by_arxiv_id_file_title_or_id_prefix(library, capsys, paper):
    argv = [QUESTION, "--retriever", "all", "--json", "--paper", paper]
    assert ask.main(argv) == 0
    assert _sources(capsys) == {
        name: {MAMBA[0]} for name in ("similarity", "compression", "hybrid")
    }


def test_paper_is_repeatable(library, capsys):
    argv = [QUESTION, "--json", "--k", "8", "--paper", "2405.04517", "--paper", "2312.00752v2"]
    assert ask.main(argv) == 0
    assert _sources(capsys)["similarity"] == {XLSTM[0], MAMBA[0]}


def test_unknown_paper_is_a_one_line_error_saying_how_to_list_papers(library, capsys):
    assert ask.main([QUESTION, "--paper", "2312.00752", "--paper", "bert"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: no stored paper matches 'bert'")
    assert "python -m ingest --list" in captured.err
