"""The sidebar: papers in the store (remove, choose which to search), PDF upload and ingestion,
settings, model card.

Rendering only: removal, storage and ingestion call the same functions as the CLI
(`PaperStore.remove_paper`, `app.uploads.save_uploads`, `ingest.pipeline.ingest_sources`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app.answer import MODES
from app.ui_evidence import format_count
from app.uploads import max_upload_bytes, save_uploads
from retrievers.scope import follow_up_scope, papers_named

logger = logging.getLogger(__name__)

MODE_LABELS = {
    "extractive-xlstm": "xLSTM-ranked evidence",
    "extractive": "Extractive baseline",
    "free-generation": "Free generation (exploratory)",
}
FLASH = "sidebar_flash"  # session key of (kind, message) pairs shown once
SCOPE_KEY = "paper_scope"  # the paper selector's widget key
LAST_SCOPE_KEY = "last_scope"  # the papers the previous question was about


@dataclass
class UiOptions:
    k: int
    compression_threshold: float
    mode: str
    max_sentences: int
    hybrid: bool
    papers: tuple[str, ...] = ()  # the papers searched (`source` names); empty = all


def flash(kind: str, message: str) -> None:
    """Shows `message` ("success", "warning" or "error") atop the sidebar on the next run."""
    st.session_state.setdefault(FLASH, []).append((kind, message))


def _show_flash() -> None:
    for kind, message in st.session_state.pop(FLASH, []):
        getattr(st, kind)(message)


def _remove(store: Any, paper_id: str, title: str) -> None:
    try:
        removed = store.remove_paper(paper_id)
    except Exception as e:  # the store's message, never a traceback
        logger.exception("removing %s failed", paper_id)
        flash("error", f"Could not remove {title}: {e}")
        return
    flash("success", f"Removed {title} ({removed} chunks).")


def papers_section(store: Any, papers: list[Any]) -> None:
    st.subheader("Papers")
    if not papers:
        st.caption("No paper yet: upload a PDF below or run `make ingest`.")
    for i, paper in enumerate(papers):
        title = paper.title or paper.source
        with st.container(key=f"paper_{i}"):
            st.markdown(f"**{title}**")
            meta = [f"arXiv {paper.arxiv_id}"] if paper.arxiv_id else [paper.source]
            meta += [f"{paper.pages} pages", f"{paper.chunks} chunks"]
            st.caption(" · ".join(meta))
            with st.popover("Remove", icon=":material/delete:", type="tertiary", key=f"remove_{i}"):
                st.write(f"Remove **{title}** from the store? Its chunks are deleted.")
                st.button(
                    "Yes, remove it",
                    key=f"confirm_remove_{i}",
                    type="primary",
                    on_click=_remove,
                    args=(store, paper.paper_id, title),
                )


def paper_label(paper: Any) -> str:
    """How the paper selector names a paper: its title (shortened) and arXiv id or file."""
    title = paper.title or paper.source
    title = title if len(title) <= 60 else title[:57].rstrip() + "…"
    return f"{title} ({paper.arxiv_id or paper.source})"


def scope_section(papers: list[Any]) -> tuple[str, ...]:
    """The paper selector: the papers questions are answered from (none chosen = all)."""
    labels = {p.source: paper_label(p) for p in papers}
    chosen = st.session_state.get(SCOPE_KEY) or []
    st.session_state[SCOPE_KEY] = [s for s in chosen if s in labels]  # removed papers drop out
    selected = st.multiselect(
        "Search in",
        list(labels),
        key=SCOPE_KEY,
        format_func=lambda source: labels.get(source, source),
        placeholder="All papers",
        help="Answer from these papers only. With none chosen a question goes to the paper "
        "its best evidence clearly comes from, else every paper is searched; a question "
        "naming two papers always searches them all.",
        disabled=not papers,
    )
    return tuple(selected)


def question_scope(
    question: str, selected: tuple[str, ...], papers: list[Any], previous: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(scope to search, scope to remember for the next question) in a conversation.

    Papers chosen in the selector win. Otherwise a question naming papers is searched unscoped
    (the retrievers prefer the named papers themselves) and its papers are remembered; a
    follow-up that names none but says "the paper" or "the authors" searches the previous
    question's papers; anything else searches every paper.
    """
    if selected:
        return selected, selected
    named = papers_named(question, papers)
    if named:
        return (), named
    carried = follow_up_scope(question, papers, previous)
    return carried, carried


def conversation_scope(
    question: str, selected: tuple[str, ...], papers: list[Any]
) -> tuple[str, ...]:
    """The papers to search for `question` in this session (see `question_scope`); says so
    under the question when a follow-up is kept to the previous question's papers."""
    previous = tuple(st.session_state.get(LAST_SCOPE_KEY, ()))
    scope, remembered = question_scope(question, selected, papers, previous)
    st.session_state[LAST_SCOPE_KEY] = remembered
    if scope and not selected:
        labels = {p.source: paper_label(p) for p in papers}
        names = "; ".join(labels.get(source, source) for source in scope)
        st.caption(f"Follow-up question: answered from {names}, as the previous one.")
    return scope


def _progress_callback(bar: Any, n_files: int) -> Any:
    """`ingest_sources(progress=...)` drawn as one bar over all files."""
    order: list[str] = []

    def update(*, source: str = "", stage: str = "", done: int = 0, total: int = 0, **_: Any):
        if source not in order:
            order.append(source)
        index = order.index(source)
        part = done / total if stage == "embed" and total else 0.0
        fraction = min((index + part) / max(n_files, 1), 1.0)
        what = "embedding" if stage == "embed" else "reading"
        bar.progress(fraction, text=f"{what} {source} ({index + 1} of {n_files})")

    return update


def ingest_outcome(report: Any, n_files: int) -> tuple[str, str]:
    """(kind, one-line message) for the flash shown after an ingestion."""
    statuses = [r.status for r in report.results]
    added = sum(s in ("added", "replaced") for s in statuses)
    already = sum(s in ("skipped", "duplicate") for s in statuses)
    message = f"Ingested {added} of {n_files} PDF(s) in {report.seconds:.0f} s"
    message += f", {already} already in the store" if already else ""
    if report.errors:
        return "warning", message + ". " + " ".join(report.errors)
    return "success", message + "; ask about them now."


def ingest_files(files: list[Any], store: Any) -> None:
    """Stores the uploads, ingests them with a progress bar, reports the outcome."""
    from ingest.pipeline import ingest_sources

    saved = save_uploads(files)
    for message in saved.errors:
        flash("error", message)
    if not saved.paths:
        return
    n = len(saved.paths)
    bar = st.progress(0.0, text=f"Ingesting {n} PDF(s)…")
    report = ingest_sources([str(p) for p in saved.paths], store, None, _progress_callback(bar, n))
    bar.empty()
    flash(*ingest_outcome(report, len(files)))


def upload_section(store: Any) -> None:
    st.subheader("Add papers")
    key = f"uploader_{st.session_state.setdefault('uploader_round', 0)}"
    limit_mb = max(1, -(-max_upload_bytes() // 2**20))  # rounded up
    files = st.file_uploader(
        "PDF files",
        type=["pdf"],
        accept_multiple_files=True,
        key=key,
        max_upload_size=limit_mb,
        help=f"Up to {limit_mb} MB each; they are ingested as soon as they are uploaded.",
        label_visibility="collapsed",
    )
    if not files:
        return
    try:
        ingest_files(list(files), store)
    except Exception as e:  # ingestion collects per-file errors; anything else is shown here
        logger.exception("ingestion failed")
        flash("error", f"Ingestion failed: {e}. Check the server log, then try again.")
    st.session_state["uploader_round"] += 1  # a fresh, empty uploader
    st.rerun()


def settings_section(defaults: Any, has_model: bool) -> UiOptions:
    st.subheader("Settings")
    k = st.slider("Passages per retriever (k)", 1, 10, int(defaults.k), key="k")
    threshold = st.slider(
        "Compression threshold",
        0.0,
        0.9,
        float(defaults.compression_threshold),
        0.05,
        key="compression_threshold",
        help="Contextual compression keeps sentences at least this similar to the question.",
    )
    modes = list(MODES)
    default_mode = defaults.mode if has_model else "extractive"
    mode = st.selectbox(
        "Answer mode",
        modes,
        index=modes.index(default_mode) if default_mode in modes else 0,
        format_func=lambda m: MODE_LABELS.get(m, m),
        key="mode",
        help="xLSTM-ranked: evidence sentences re-ranked by the local xLSTM, each citing its "
        "page. Baseline: the same without the model. Free generation: the xLSTM writes freely.",
    )
    length = st.slider("Answer length (sentences)", 1, 8, int(defaults.max_sentences), key="length")
    hybrid = st.toggle("Also compare Hybrid (BM25 + dense)", key="hybrid")
    return UiOptions(k, threshold, mode, length, hybrid)


def model_facts(card: dict) -> list[tuple[str, str]]:
    """(label, value) rows of the model card: architecture, size, training, perplexity."""
    meta, config = card.get("meta", {}) or {}, card.get("config", {}) or {}
    blocks, slstm = config.get("num_blocks"), len(config.get("slstm_at") or [])
    shape = f"xLSTM[{blocks - slstm}:{slstm}]" if blocks else "xLSTM"
    if blocks:
        shape += f", {blocks} blocks × {config.get('embedding_dim', '?')} wide"
    ppl, acc = meta.get("val_ppl"), meta.get("reader_acc")
    reader = []
    if isinstance(acc, int | float):  # a model trained with --qa reader (held-out papers)
        chance, span = meta.get("chance") or 0.0, meta.get("span_exact") or 0.0
        text = f"{acc:.2f} first (chance {chance:.2f}), exact span {span:.2f}"
        reader = [("Reader, held-out papers", text)]
    reader += token_reader_facts(card.get("token_reader"))
    return [
        ("Architecture", shape),
        ("Parameters", format_count(meta.get("params"))),
        ("Training tokens", format_count(meta.get("tokens_seen"))),
        ("Validation perplexity", f"{ppl:.1f}" if isinstance(ppl, int | float) else "–"),
        *reader,
        (
            "Context · vocabulary",
            f"{config.get('context_length', '–')} · {config.get('vocab_size', '–')}",
        ),
    ]


def token_reader_facts(card: dict | None) -> list[tuple[str, str]]:
    """The token reader's row: held-out accuracy next to chance, size, training."""
    if not card or not isinstance(card.get("heldout_first"), int | float):
        return []
    span = card.get("heldout_span_exact")
    text = (
        f"{card['heldout_first']:.2f} first (chance {card.get('chance') or 0:.2f}), "
        + (f"exact span {span:.2f}, " if isinstance(span, int | float) else "")
        + f"{format_count(card.get('params'))} parameters, {card.get('steps', 0):,} steps"
    )
    members = card.get("members", 1)
    if isinstance(members, int) and members > 1:
        text += f" ({members} readers of different seeds, averaged)"
    return [("Token reader (xLSTM on MiniLM states), held-out papers", text)]


def model_card_section(card: dict | None) -> None:
    st.subheader("Model")
    if card is None:
        st.caption("No trained xLSTM yet: run `make train`.")
        return
    with st.expander("xLSTM model card", expanded=False, key="model_card"):
        st.markdown("\n".join(f"- **{label}** {value}" for label, value in model_facts(card)))
        if card.get("loss_png"):
            st.image(card["loss_png"], caption="Training and validation loss")
        st.caption(f"Run: `{card.get('path', '')}`")
        st.json(card.get("config", {}), expanded=False)


def render(resources: Any, papers: list[Any]) -> UiOptions:
    """Draws the whole sidebar; returns the settings chosen there."""
    with st.sidebar:
        _show_flash()
        papers_section(resources.store, papers)
        scope = scope_section(papers)
        upload_section(resources.store)
        st.divider()
        options = settings_section(resources.settings, resources.generator.run is not None)
        options.papers = scope
        st.divider()
        model_card_section(resources.model_card())
    return options
