"""The paper selector and follow-up questions in the Streamlit page (AppTest, real store of two
generated papers, extractive answers)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.ui_sidebar import question_scope
from ingest.store import PaperInfo
from tests.ingest.pdf_factory import make_text_pdf

SCRIPT = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"
PAPERS = {
    "xlstm-tiny.pdf": (
        "xLSTM: Extended Long Short-Term Memory",
        [
            "The mLSTM has a matrix memory and a covariance update rule. The mLSTM is fully "
            "parallelizable because it has no memory mixing.",
            "The authors propose exponential gating with normalization and stabilization.",
        ],
    ),
    "mamba-tiny.pdf": (
        "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
        [
            "The matrix memory of Mamba is a structured state space with a diagonal matrix. "
            "The selective scan runs in linear time.",
            "The authors propose a selection mechanism that makes the parameters depend on the "
            "input.",
        ],
    ),
}
MATRIX = "What is the matrix memory?"


@pytest.fixture(scope="module")
def base_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.pipeline import ingest_sources
    from ingest.settings import IngestSettings
    from ingest.store import open_store

    root = tmp_path_factory.mktemp("scope-data")
    pdfs = [
        str(make_text_pdf(root / name, pages, title=title))
        for name, (title, pages) in PAPERS.items()
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XRAG_DATA_DIR", str(root))
        with open_store() as store:
            ingest_sources(pdfs, store, IngestSettings())
            assert len(store.list_papers()) == 2
    return root


@pytest.fixture
def data_dir(base_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "data"
    shutil.copytree(base_data, root)
    monkeypatch.setenv("XRAG_DATA_DIR", str(root))
    yield root
    st.cache_data.clear()
    st.cache_resource.clear()


def start() -> AppTest:
    at = AppTest.from_file(str(SCRIPT), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> None:
    at.text_input(key="question").input(question)
    at.button(key="ask").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def cited_papers(at: AppTest) -> set[str]:
    text = "\n".join(
        str(m.value)
        for name in ("similarity", "compression")
        for m in at.get_by_key(f"result_{name}").markdown
    )
    return {
        label for label in ("xLSTM", "Mamba") if f"{label}, p." in text or f"{label} p." in text
    }


@pytest.mark.slow
def test_selector_lists_papers_and_keeps_answers_to_the_chosen_one(data_dir: Path) -> None:
    at = start()
    selector = at.multiselect(key="paper_scope")
    assert set(selector.options) == {
        "Mamba: Linear-Time Sequence Modeling with Selective State… (mamba-tiny.pdf)",
        "xLSTM: Extended Long Short-Term Memory (xlstm-tiny.pdf)",
    }
    ask(at, MATRIX)
    assert cited_papers(at) == {"xLSTM", "Mamba"}
    at.multiselect(key="paper_scope").select("mamba-tiny.pdf").run()
    ask(at, MATRIX)
    assert cited_papers(at) == {"Mamba"}
    at.multiselect(key="paper_scope").unselect("mamba-tiny.pdf")
    at.multiselect(key="paper_scope").select("xlstm-tiny.pdf").run()
    ask(at, MATRIX)
    assert cited_papers(at) == {"xLSTM"}


@pytest.mark.slow
def test_named_paper_then_a_follow_up_about_the_authors(data_dir: Path) -> None:
    at = start()
    ask(at, "What is the matrix memory in the Mamba paper?")
    assert "Mamba" in cited_papers(at)  # named_papers is "off" by default (measured on dev)
    ask(at, "What do the authors propose?")
    assert cited_papers(at) == {"Mamba"}
    assert any("Follow-up question: answered from Mamba" in str(c.value) for c in at.caption)
    ask(at, "What is a covariance update rule?")  # no longer a follow-up
    assert "xLSTM" in cited_papers(at)


@pytest.mark.slow
def test_removing_a_chosen_paper_drops_it_from_the_selection(data_dir: Path) -> None:
    at = start()
    at.multiselect(key="paper_scope").select("mamba-tiny.pdf").run()
    at.button(key="confirm_remove_0").click().run()  # Mamba sorts first
    assert not at.exception
    selector = at.multiselect(key="paper_scope")
    assert selector.value == [] and len(selector.options) == 1


# -- the plain function behind follow-ups ---------------------------------------------------
def _info(source: str) -> PaperInfo:
    title, _ = PAPERS[source]
    return PaperInfo(source[:6], source, title, "", 2, 2)


LIBRARY = [_info("xlstm-tiny.pdf"), _info("mamba-tiny.pdf")]


@pytest.mark.parametrize(
    ("question", "selected", "previous", "expected"),
    [
        # the selector wins and is remembered
        (
            "What do the authors propose?",
            ("xlstm-tiny.pdf",),
            ("mamba-tiny.pdf",),
            (("xlstm-tiny.pdf",), ("xlstm-tiny.pdf",)),
        ),
        # a named paper: unscoped search (the retriever prefers it), remembered
        ("What does the Mamba paper propose?", (), (), ((), ("mamba-tiny.pdf",))),
        # a follow-up carries the previous papers
        (
            "What do the authors propose?",
            (),
            ("mamba-tiny.pdf",),
            (("mamba-tiny.pdf",), ("mamba-tiny.pdf",)),
        ),
        # a new topic forgets them
        ("What is a covariance update rule?", (), ("mamba-tiny.pdf",), ((), ())),
    ],
)
def test_question_scope(question, selected, previous, expected):
    assert question_scope(question, selected, LIBRARY, previous) == expected
