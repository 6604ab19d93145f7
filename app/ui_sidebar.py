"""The sidebar: papers in the store (remove), PDF upload and ingestion, settings, model card.

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

logger = logging.getLogger(__name__)

MODE_LABELS = {
    "extractive-xlstm": "Extractive, re-ranked by the xLSTM",
    "extractive": "Extractive baseline (no language model)",
    "free-generation": "Free generation (exploratory)",
}
FLASH = "sidebar_flash"  # session key of a (kind, message) pair shown once


@dataclass
class UiOptions:
    k: int
    compression_threshold: float
    mode: str
    max_sentences: int
    hybrid: bool


def flash(kind: str, message: str) -> None:
    """Shows `message` at the top of the sidebar on the next run."""
    st.session_state[FLASH] = (kind, message)


def _show_flash() -> None:
    kind, message = st.session_state.pop(FLASH, (None, None))
    if kind:
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


def _progress_callback(bar: Any, label: str) -> Any:
    """Adapts `ingest_sources(progress=...)` calls to a Streamlit progress bar."""

    def update(done: Any = None, total: Any = None, message: Any = None, **_: Any) -> None:
        if isinstance(done, float) and total is None:
            fraction = done
        elif isinstance(done, int) and isinstance(total, int) and total:
            fraction = done / total
        else:
            return
        text = message if isinstance(message, str) else label
        bar.progress(min(max(fraction, 0.0), 1.0), text=text)

    return update


def ingest_files(files: list[Any], store: Any) -> None:
    """Stores the uploads, ingests them with a progress bar, reports the outcome."""
    from ingest.pipeline import ingest_sources
    from ingest.settings import IngestSettings

    saved = save_uploads(files)
    for message in saved.errors:
        st.error(message)
    if not saved.paths:
        return
    bar = st.progress(0.0, text=f"Ingesting {len(saved.paths)} PDF(s)…")
    sources = [str(p) for p in saved.paths]
    report = ingest_sources(sources, store, IngestSettings(), progress=_progress_callback(bar, ""))
    bar.empty()
    failures = list(getattr(report, "errors", []) or [])
    added = len(saved.paths) - len(failures)
    message = f"Ingested {added} of {len(saved.paths)} PDF(s); ask about them now."
    if failures:
        flash("warning", message + " " + " ".join(str(f) for f in failures))
    else:
        flash("success", message)


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
        st.error(f"Ingestion failed: {e}. Check the server log, then try again.")
        return
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
    )
    length = st.slider("Answer length (sentences)", 1, 8, int(defaults.max_sentences), key="length")
    hybrid = st.toggle("Also compare Hybrid (BM25 + dense)", key="hybrid")
    return UiOptions(k, threshold, mode, length, hybrid)


def model_card_section(card: dict | None) -> None:
    st.subheader("Model")
    if card is None:
        st.caption("No trained xLSTM yet: run `make train`.")
        return
    meta, config = card.get("meta", {}), card.get("config", {})
    with st.expander("xLSTM model card", expanded=False, key="model_card"):
        a, b, c = st.columns(3)
        a.metric("Parameters", format_count(meta.get("params")))
        b.metric("Tokens seen", format_count(meta.get("tokens_seen")))
        ppl = meta.get("val_ppl")
        c.metric("Val. ppl", f"{ppl:.1f}" if isinstance(ppl, int | float) else "–")
        if card.get("loss_png"):
            st.image(card["loss_png"], caption="Training and validation loss")
        if config:
            rows = "\n".join(f"| {k} | {v} |" for k, v in config.items())
            st.markdown("| config | value |\n| --- | --- |\n" + rows)
        st.caption(f"Run: `{card.get('path', '')}`")


def render(resources: Any, papers: list[Any]) -> UiOptions:
    """Draws the whole sidebar; returns the settings chosen there."""
    with st.sidebar:
        _show_flash()
        papers_section(resources.store, papers)
        upload_section(resources.store)
        st.divider()
        options = settings_section(resources.settings, resources.generator.run is not None)
        st.divider()
        model_card_section(resources.model_card())
    return options
