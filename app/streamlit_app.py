"""xLSTM-RAG in the browser: one question, answered side by side by each retriever.

`streamlit run app/streamlit_app.py` from the repo root. UI only: answers come from
`app.answer.answer_question`, resources from `app.resources.load_resources` — the same plain
functions the CLI (`python -m app.ask`) and the evaluation call.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # streamlit runs this file as a script
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from app import ui_sidebar  # noqa: E402
from app.answer import Answer, answer_question  # noqa: E402
from app.errors import UserError  # noqa: E402
from app.settings import answer_settings  # noqa: E402
from app.ui_evidence import answer_markdown  # noqa: E402
from app.ui_results import fill_results, render_results, result_layout  # noqa: E402
from app.validation import check_question  # noqa: E402
from ingest.paths import data_dir  # noqa: E402
from retrievers import RETRIEVER_LABELS  # noqa: E402

logger = logging.getLogger(__name__)

EXAMPLES = (
    "What are the major improvements over the previous or vanilla LSTM architecture?",
    "Why is the mLSTM parallelizable while the sLSTM is not?",
    "What does the notation xLSTM[7:1] mean?",
    "What three main limitations of LSTMs does the paper identify?",
)
COMPARED = ("similarity", "compression")
CSS = """<style>
.block-container {padding-top: 2.2rem; max-width: 1400px;}
mark {background: #fff3b0; padding: 0 .1em; border-radius: 3px;}
.xrag-source {font-size: .9rem; line-height: 1.5; color: #31333f;}
</style>"""


@st.cache_resource(show_spinner="Opening the paper store and loading the xLSTM…")
def get_resources(data_root: str, model_dir: str | None, embedding_model: str | None) -> Any:
    """Shared by every session; `data_root` keys the cache (it is where the store lives)."""
    from app.resources import load_resources

    logger.info("loading resources for %s", data_root)
    return load_resources(
        model_dir=model_dir,
        embedding_model=embedding_model,
        create_store=True,
        require_model=False,
    )


@st.cache_data(show_spinner=False, max_entries=32)
def list_papers(_store: Any, data_root: str, version: str) -> list[Any]:
    """The store's papers, re-read only when its version changes."""
    return list(_store.list_papers())


def header() -> None:
    st.html(CSS)
    st.title("xLSTM-RAG")
    st.caption(
        "Ask the papers; a locally trained xLSTM composes answers from the evidence, "
        "each sentence citing its page — retrievers side by side."
    )


def _use_example(question: str) -> None:
    st.session_state["question"] = question
    st.session_state["pending_question"] = question


def _example_chosen() -> None:
    question = st.session_state.get("examples")
    if question:
        _use_example(question)
    st.session_state["examples"] = None


def examples() -> None:
    st.pills(
        "Examples",
        EXAMPLES,
        key="examples",
        on_change=_example_chosen,
        label_visibility="collapsed",
    )


def question_form() -> str | None:
    """The question to answer in this run (typed + Enter, Ask, or an example), else None."""
    with st.form("ask_form", border=False, enter_to_submit=True):
        left, right = st.columns([8, 1], vertical_alignment="bottom")
        left.text_input(
            "Question",
            key="question",
            placeholder="Ask about the ingested papers, e.g. What is the sLSTM?",
            label_visibility="collapsed",
        )
        submitted = right.form_submit_button(
            "Ask", key="ask", type="primary", use_container_width=True
        )
    pending = st.session_state.pop("pending_question", None)
    if pending:
        return pending
    return st.session_state.get("question", "") if submitted else None


def ui_overrides(options: ui_sidebar.UiOptions) -> dict[str, Any]:
    """The sidebar's choices as answer-setting overrides (one slider sets prose and list length)."""
    return {
        "k": options.k,
        "mode": options.mode,
        "max_sentences": options.max_sentences,
        "list_items": max(options.max_sentences, 2),
        "compression_threshold": options.compression_threshold,
    }


def stream_into(
    placeholder: Any,
    question: str,
    name: str,
    resources: Any,
    settings: Any,
    papers: tuple[str, ...] = (),
) -> Any:
    """Streams one retriever's answer into `placeholder`; the Answer, or None after an error."""
    text = ""

    def show(piece: str) -> None:
        nonlocal text
        text += piece
        placeholder.markdown(answer_markdown(text) + " ▌")

    try:
        retriever = resources.retriever(
            name, settings.k, compression_threshold=settings.compression_threshold, papers=papers
        )
        return answer_question(question, retriever, resources.generator, settings, on_text=show)
    except UserError as e:
        placeholder.error(str(e))
    except Exception as e:  # shown as one line; the traceback goes to the server log
        logger.exception("answering with %s failed", name)
        placeholder.error(f"{RETRIEVER_LABELS[name]} failed: {e}. See the server log.")
    return None


def ask(
    question: str, names: list[str], resources: Any, settings: Any, papers: tuple[str, ...] = ()
) -> None:
    """Streams every retriever's answer into its column (from `papers`; all when empty), then
    draws the details."""
    summary, slots = result_layout(question, names)
    for answer_slot, _ in slots.values():
        answer_slot.caption("Waiting…")
    answers: dict[str, Answer | None] = {}
    for name in names:
        answers[name] = stream_into(slots[name][0], question, name, resources, settings, papers)
    fill_results(summary, slots, answers)
    st.session_state["results"] = (question, names, answers)


def setup_notices(resources: Any, papers: list[Any], options: ui_sidebar.UiOptions) -> str:
    """Warnings for a missing paper or model, each with the command that fixes it.

    Returns why a question cannot be answered now ("" when it can)."""
    blocker = ""
    if not papers:
        blocker = "The store holds no paper yet: run `make ingest` or upload a PDF in the sidebar."
        st.warning(blocker, icon=":material/library_books:")
    if resources.generator.run is None:
        hint = "Meanwhile answers use the extractive baseline."
        if options.mode != "extractive":
            hint = "Meanwhile pick the extractive baseline as answer mode in the sidebar."
        reason = resources.model_error or "No trained xLSTM model yet: run `make train`."
        message = f"{reason} {hint}"
        st.warning(message, icon=":material/model_training:")
        if options.mode != "extractive":
            blocker = blocker or message
    elif resources.model_error:  # the language model loaded, its token reader did not
        message = f"{resources.model_error}. Meanwhile the language model re-ranks the evidence."
        st.warning(message, icon=":material/model_training:")
    return blocker


def open_resources(root: str) -> Any:
    """The shared Resources, or an st.error saying what to run (and the script stops)."""
    try:
        return get_resources(root, None, None)
    except UserError as e:
        st.error(str(e), icon=":material/error:")
    except Exception as e:  # one line for the user; the traceback goes to the server log
        logger.exception("loading resources from %s failed", root)
        st.error(
            f"Could not open the paper store or the model in {root}: {e}. Check that "
            "`XRAG_DATA_DIR` is a writable folder, then run `make ingest`.",
            icon=":material/error:",
        )
    st.stop()


def main() -> None:
    st.set_page_config(page_title="xLSTM-RAG", page_icon=":material/neurology:", layout="wide")
    header()
    root = str(data_dir())
    resources = open_resources(root)
    papers = list_papers(resources.store, root, resources.store.version())
    options = ui_sidebar.render(resources, papers)
    blocker = setup_notices(resources, papers, options)
    question = question_form()
    examples()
    names = list(COMPARED) + (["hybrid"] if options.hybrid else [])
    if question is not None and not blocker:
        try:
            question = check_question(question)
        except UserError as e:
            st.error(str(e), icon=":material/edit:")
            return
        scope = ui_sidebar.conversation_scope(question, options.papers, papers)
        settings = answer_settings(ui_overrides(options), resources.settings)
        ask(question, names, resources, settings, scope)
    elif question is not None:
        st.error(blocker, icon=":material/block:")
    elif "results" in st.session_state:
        render_results(*st.session_state["results"])


main()
