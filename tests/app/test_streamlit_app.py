"""The Streamlit page with AppTest on the real backend: a tiny store in a temp data dir
(generated PDFs) and the tiny trained xLSTM. Widgets are found by key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.ingest.pdf_factory import make_text_pdf

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"
TITLE = "xLSTM: Extended Long Short-Term Memory"
XLSTM_PAGES = [
    "xLSTM: Extended Long Short-Term Memory. We introduce exponential gating with appropriate "
    "normalization and stabilization techniques. We modify the LSTM memory structure.",
    "The sLSTM has a scalar memory, a scalar update, and new memory mixing. Memory mixing "
    "happens within each head through recurrent connections.",
    "The mLSTM has a matrix memory and a covariance update rule. The mLSTM is fully "
    "parallelizable because it has no memory mixing.",
    "Ablation study: the perplexity of the vanilla LSTM baseline is 2417.86 in Table 2. "
    "Adding exponential gating reduces it strongly.",
]
IMPROVEMENTS = "What are the major improvements over the previous or vanilla LSTM architecture?"
ZEBRAFISH = [
    "Zebrafish heart regeneration relies on cardiomyocyte proliferation after injury. "
    "The regenerating zebrafish ventricle restores its muscle within sixty days.",
]


@pytest.fixture(scope="module")
def base_data(tmp_path_factory: pytest.TempPathFactory, tiny_run_dir: Path) -> Path:
    """A data dir with the generated xLSTM-like paper ingested and the tiny model as default."""
    from ingest.pipeline import ingest_sources
    from ingest.settings import IngestSettings
    from ingest.store import open_store

    root = tmp_path_factory.mktemp("app-data")
    pdf = make_text_pdf(root / "xlstm-tiny.pdf", XLSTM_PAGES, title=TITLE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XRAG_DATA_DIR", str(root))
        with open_store() as store:
            ingest_sources([str(pdf)], store, IngestSettings())
            assert store.list_papers()
    shutil.copytree(tiny_run_dir, root / "models" / "default")
    return root


@pytest.fixture
def data_dir(base_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the base data dir (tests may add or remove papers)."""
    root = tmp_path / "data"
    shutil.copytree(base_data, root)
    monkeypatch.setenv("XRAG_DATA_DIR", str(root))
    yield root
    close_cached_resources()


def close_cached_resources() -> None:
    """Drops the app's cached Resources (each test has its own data dir and store)."""
    st.cache_data.clear()
    st.cache_resource.clear()


def start(timeout: float = 180) -> AppTest:
    at = AppTest.from_file(str(SCRIPT), default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    return at


def messages(elements) -> list[str]:  # noqa: ANN001 (AppTest element lists)
    return [str(e.value) for e in elements]


def column_text(at: AppTest, name: str) -> str:
    return "\n".join(messages(at.get_by_key(f"result_{name}").markdown))


def test_page_lists_papers_model_and_examples(data_dir: Path) -> None:
    at = start()
    assert at.title[0].value == "xLSTM-RAG"
    assert not at.warning and not at.error
    sidebar = "\n".join(messages(at.sidebar.markdown) + messages(at.sidebar.caption))
    assert TITLE in sidebar and "4 pages" in sidebar
    assert IMPROVEMENTS in at.pills(key="examples").options
    card = "\n".join(messages(at.get_by_key("model_card").markdown))
    assert "**Parameters**" in card and "**Validation perplexity**" in card, card
    assert at.get_by_key("model_card").image  # the loss curve


def test_example_answers_in_both_columns_with_citations(data_dir: Path) -> None:
    at = start()
    at.pills(key="examples").set_value(IMPROVEMENTS).run()
    assert not at.exception and not at.error, messages(at.error)
    assert at.text_input(key="question").value == IMPROVEMENTS
    for name in ("similarity", "compression"):
        text = column_text(at, name)
        assert "-badge[" in text and "p. " in text, text
        captions = messages(at.get_by_key(f"result_{name}").caption)
        assert any(" · retrieve " in c for c in captions), captions
    assert any(m.startswith("**Evidence** · shared:") for m in messages(at.markdown))

    at.slider(key="k").set_value(3).run()  # any sidebar change redraws the stored answers
    assert not at.exception
    assert "-badge[" in column_text(at, "similarity")


def test_typed_question_with_hybrid(data_dir: Path) -> None:
    at = start()
    at.toggle(key="hybrid").set_value(True)
    at.text_input(key="question").input("Why is the mLSTM parallelizable?")
    at.button(key="ask").click().run()
    assert not at.exception and not at.error, messages(at.error)
    for name in ("similarity", "compression", "hybrid"):
        assert "parallelizable" in column_text(at, name)


@pytest.mark.parametrize(
    ("question", "needle"), [("   ", "empty"), ("what\x07is this", "control character")]
)
def test_bad_question_shows_what_to_fix(data_dir: Path, question: str, needle: str) -> None:
    at = start()
    at.text_input(key="question").input(question)
    at.button(key="ask").click().run()
    assert not at.exception
    assert any(needle in m for m in messages(at.error)), messages(at.error)


def test_upload_is_ingested_and_askable(data_dir: Path, tmp_path: Path) -> None:
    at = start()
    pdf = make_text_pdf(tmp_path / "zebrafish.pdf", ZEBRAFISH, title="Zebrafish Hearts")
    at.file_uploader(key="uploader_0").upload(
        "../zebra fish.pdf", pdf.read_bytes(), "application/pdf"
    )
    at.run()
    assert not at.exception
    assert any("Ingested 1 of 1" in m for m in messages(at.sidebar.success)), at.sidebar
    assert (data_dir / "papers" / "zebra_fish.pdf").is_file()
    assert "Zebrafish" in "\n".join(messages(at.sidebar.markdown))
    at.text_input(key="question").input("How long does the zebrafish ventricle take to restore?")
    at.button(key="ask").click().run()
    assert not at.exception and not at.error
    assert "sixty days" in column_text(at, "similarity")


def test_non_pdf_upload_is_refused(data_dir: Path) -> None:
    at = start()
    at.file_uploader(key="uploader_0").upload("notes.pdf", b"<html>hello</html>", "application/pdf")
    at.run()
    assert not at.exception
    assert any("not a PDF" in m for m in messages(at.sidebar.error)), messages(at.sidebar.error)
    assert not (data_dir / "papers" / "notes.pdf").exists()


def test_remove_paper_after_confirmation(data_dir: Path) -> None:
    at = start()
    at.button(key="confirm_remove_0").click().run()
    assert not at.exception
    assert any("Removed" in m for m in messages(at.sidebar.success))
    assert any("make ingest" in m for m in messages(at.warning)), messages(at.warning)


def test_empty_data_dir_says_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAG_DATA_DIR", str(tmp_path / "empty"))
    try:
        at = start()
        assert not at.exception and not at.error, messages(at.error)
        assert any("make ingest" in m for m in messages(at.warning)), messages(at.warning)
        assert any("upload" in m.lower() for m in messages(at.warning))
    finally:
        close_cached_resources()


def test_unloadable_model_is_a_warning_and_baseline_still_answers(data_dir: Path) -> None:
    for weights in (data_dir / "models" / "default").rglob("*.safetensors"):
        weights.write_bytes(b"not safetensors")
    at = start()
    assert any("make train" in m for m in messages(at.warning)), messages(at.warning)
    at.pills(key="examples").set_value(IMPROVEMENTS).run()
    assert not at.exception and not at.error, messages(at.error)


def test_unloadable_token_reader_is_a_warning_and_the_model_still_answers(data_dir: Path) -> None:
    model_dir = data_dir / "models" / "default"
    (model_dir / "token_reader.pt").write_bytes(b"damaged")
    (model_dir / "token_reader.json").write_text("{}", encoding="utf-8")
    at = start()
    warning = [m for m in messages(at.warning) if "token reader" in m]
    assert warning and "make train" in warning[0], messages(at.warning)
    assert at.selectbox(key="mode").value == "extractive-xlstm"
    at.pills(key="examples").set_value(IMPROVEMENTS).run()
    assert not at.exception and not at.error, messages(at.error)


def test_missing_model_says_make_train_and_baseline_answers(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "models" / "default")
    at = start()
    assert any("make train" in m for m in messages(at.warning)), messages(at.warning)
    assert at.selectbox(key="mode").value == "extractive"
    at.pills(key="examples").set_value(IMPROVEMENTS).run()
    assert not at.exception and not at.error, messages(at.error)
    assert "-badge[" in column_text(at, "compression")
    at.selectbox(key="mode").set_value("extractive-xlstm")
    at.button(key="ask").click().run()
    assert not at.exception
    assert any("make train" in m for m in messages(at.error)), messages(at.error)


def test_unusable_data_dir_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    monkeypatch.setenv("XRAG_DATA_DIR", str(not_a_dir))
    try:
        at = start()
        assert at.error, "expected an st.error"
    finally:
        close_cached_resources()


GPT3_ROW = (
    "Table 1 (Method comparison on SlimPajama 15B): Model = GPT-3; #Params M = 356; "
    "SlimPajama (15B) ppl ↓ = 14.26"
)


def add_table_row(text: str = GPT3_ROW) -> None:
    """Stores one table-row unit as ingest marks them (kind, table, caption) in the paper."""
    from ingest.store import open_store

    with open_store() as store:
        first = store.all_documents()[0]
        meta = {**first.metadata, "kind": "table_row", "table": "Table 1", "chunk_id": "row-1"}
        meta |= {"caption": "Method comparison on SlimPajama 15B", "chunk_index": 999}
        # the public vectorstore is read-only; write the unit as ingest's writer would
        vector = store.embeddings.embed_documents([text])
        store._chunks.add(ids=["row-1"], documents=[text], metadatas=[meta], embeddings=vector)


def test_short_answer_opens_each_column_and_quotes_show_their_scores(data_dir: Path) -> None:
    at = start()
    at.text_input(key="question").input("What perplexity does the vanilla LSTM baseline reach?")
    at.button(key="ask").click().run()
    assert not at.exception and not at.error, messages(at.error)
    for name in ("similarity", "compression"):
        answer = messages(at.get_by_key(f"result_{name}").markdown)[1]
        assert answer.startswith("**2417.86**"), answer
        captions = messages(at.get_by_key(f"result_{name}").caption)
        assert any(c.startswith("quoted: score ") and "reader" in c for c in captions), captions


def test_a_table_row_shows_as_a_chip_and_a_small_table(data_dir: Path) -> None:
    add_table_row()
    at = start()
    at.text_input(key="question").input("Which perplexity does GPT-3 reach on SlimPajama?")
    at.button(key="ask").click().run()
    assert not at.exception and not at.error, messages(at.error)
    text = column_text(at, "similarity")
    assert "**14.26 — GPT-3, Table 1, SlimPajama (15B) ppl ↓**" in text, text
    assert "Table 1, row GPT-3" in text and "p. 1" in text, text
    assert at.get_by_key("result_similarity").table, "expected the row as a small table"
