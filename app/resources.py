"""What the CLI, the UI and the evaluation share: the store, embeddings, the model, retrievers."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.retrievers import BaseRetriever

from app.answer import AnswerSettings
from app.errors import UserError
from app.generator import AnswerGenerator
from app.settings import answer_settings
from ingest.paths import chroma_dir, default_model_dir
from retrievers import BM25Index, CachedEmbeddings, RetrieverSettings, build_retriever

logger = logging.getLogger(__name__)


@dataclass
class Resources:
    """Opened once per process (the UI caches it); safe to share between threads."""

    store: Any  # ingest.store.PaperStore
    generator: AnswerGenerator
    settings: AnswerSettings
    retriever_settings: RetrieverSettings
    bm25: BM25Index
    model_dir: Path
    model_error: str | None = None  # why no model is loaded, when loading one failed

    def retriever(self, name: str, k: int | None = None, **overrides: Any) -> BaseRetriever:
        """A retriever by name with the shared settings (`k` and any field overridden)."""
        if k is not None:
            overrides["k"] = k
        settings = dataclasses.replace(self.retriever_settings, **overrides)
        return build_retriever(
            name, self.store, settings, bm25_index=self.bm25, embeddings=self.generator.embeddings
        )

    def require_papers(self) -> None:
        """A `UserError` saying how to ingest when the store holds no paper."""
        if not self.store.list_papers():
            msg = "the store holds no paper yet; run `make ingest` (or `python -m ingest FILE.pdf`)"
            raise UserError(msg)

    def model_card(self) -> dict | None:
        """Config, size, training tokens and validation perplexity of the loaded model."""
        run = self.generator.run
        if run is None:
            return None
        meta = dict(getattr(run, "meta", {}) or {})
        config = getattr(run, "config", None)
        config_dict = config.to_dict() if hasattr(config, "to_dict") else {}
        loss_png = self.model_dir / "loss.png"
        token_reader = getattr(self.generator.token_reader, "card", None)
        return {
            "path": str(self.model_dir),
            "config": config_dict,
            "meta": meta,
            "loss_png": str(loss_png) if loss_png.exists() else None,
            "token_reader": token_reader,  # its held-out accuracy and training figures
        }

    def close(self) -> None:
        self.store.close()


def load_model(model_dir: Path, device: str = "cpu") -> Any:
    """The trained run in `model_dir` on `device` ("cpu", "cuda", "auto"), or None when nothing
    was trained there yet."""
    from xlstm_model.checkpoint import load_run
    from xlstm_model.devices import resolve_device
    from xlstm_model.errors import ModelError

    if not (model_dir / "config.json").exists():
        logger.info("no trained model at %s", model_dir)
        return None
    try:
        return load_run(model_dir, device=resolve_device(device))
    except ModelError as e:
        raise UserError(f"{e} (`make train` trains a new default model)") from e


def load_token_reader(model_dir: Path) -> Any:
    """The xLSTM token reader saved beside the model (`make train` trains it), or None."""
    from xlstm_model.data import token_encoder
    from xlstm_model.errors import ModelError
    from xlstm_model.token_reader import has_token_reader, load_token_reader

    if not has_token_reader(model_dir):
        return None
    try:
        return load_token_reader(model_dir, token_encoder())
    except ModelError as e:
        raise UserError(str(e)) from e


def load_resources(
    model_dir: str | Path | None = None,
    embedding_model: str | None = None,
    settings: AnswerSettings | None = None,
    retriever_settings: RetrieverSettings | None = None,
    create_store: bool = False,
    require_model: bool = True,
    device: str = "cpu",
) -> Resources:
    """Open the store (taking its lock), the embeddings and the model (if trained).

    Args:
        create_store: open (and so create) an empty store when there is none yet, for a UI
            that lets the user upload the first paper; otherwise that is a `UserError`.
        require_model: a model that fails to load is a `UserError`; when False the error is
            kept in `Resources.model_error` and answers need the "extractive" mode.
        device: where the model runs ("cpu", "cuda", "cuda:N" or "auto"); scoring batches there.
    """
    from ingest.errors import IngestError
    from ingest.store import open_store

    settings = settings or answer_settings()
    retriever_settings = retriever_settings or RetrieverSettings(
        k=settings.k, compression_threshold=settings.compression_threshold
    )
    model_path = Path(model_dir) if model_dir else default_model_dir()
    if not create_store:
        require_store_folder()
    run, token_reader, model_error = None, None, None
    try:
        run = load_model(model_path, device)
        token_reader = load_token_reader(model_path)
    except UserError as e:
        if require_model:
            raise
        model_error = str(e)
    try:
        store = open_store(embeddings=_embeddings(embedding_model))
    except IngestError as e:
        raise UserError(str(e)) from e
    embeddings = CachedEmbeddings(store.embeddings)
    bm25 = BM25Index(store)  # also the in-memory view of the stored chunks
    generator = AnswerGenerator(
        embeddings=embeddings,
        run=run,
        token_reader=token_reader,
        run_dir=str(model_path),
        chunk=bm25.chunk,
        mentions=bm25.mentions,
        table_rows=bm25.table_rows,
        tables=bm25.tables,
        acronyms=bm25.acronyms,
    )
    return Resources(
        store=store,
        generator=generator,
        settings=settings,
        retriever_settings=retriever_settings,
        bm25=bm25,
        model_dir=model_path,
        model_error=model_error,
    )


def require_store_folder() -> None:
    """A `UserError` when there is no embedded store yet (opening would create an empty one)."""
    if os.environ.get("CHROMA_HOST") or os.environ.get("CHROMA_PORT"):
        return
    if not chroma_dir().is_dir():
        msg = f"no paper store at {chroma_dir()} yet; run `make ingest` (or `python -m ingest`)"
        raise UserError(msg)


def _embeddings(name: str | None) -> Any:
    from ingest.embeddings import load_embeddings

    return load_embeddings(name) if name else None
