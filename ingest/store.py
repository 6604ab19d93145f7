"""The paper store: chunks in Chroma, a paper registry beside them, safe to share.

- Embedded (default): a `chromadb.PersistentClient` at `paths.chroma_dir()`, guarded by an
  exclusive per-folder lock (`ingest.locking`): a second process gets `StoreBusyError`.
- Server: with `CHROMA_HOST`/`CHROMA_PORT` set, a `chromadb.HttpClient`; many processes share it.
- A paper is visible only when all its chunks are stored (`ingest.registry`); leftovers of
  interrupted ingests are purged on open.
- One `PaperStore` may be shared by threads: writes are serialised by an RLock, reads are free.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.config import Settings
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from ingest import embeddings as embedding_models
from ingest import paths
from ingest.arxiv import base_id, parse_arxiv_id
from ingest.chunking import PaperMeta
from ingest.errors import EmbeddingMismatchError, StoreError
from ingest.locking import StoreLock
from ingest.registry import PaperRecord, PaperRegistry, visible_where
from ingest.settings import IngestSettings
from ingest.vectorstore import PaperVectorStore
from ingest.writer import AddOutcome, PaperWriter

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
REGISTRY_SUFFIX = "__papers"
_PAGE = 2000  # records per `get` when reading the whole collection


@dataclass(frozen=True)
class PaperInfo:
    """A paper as the store lists it."""

    paper_id: str
    source: str
    title: str
    arxiv_id: str
    pages: int
    chunks: int
    sha256: str = ""
    added_at: float = 0.0

    @classmethod
    def from_record(cls, r: PaperRecord) -> PaperInfo:
        return cls(
            r.paper_id, r.source, r.title, r.arxiv_id, r.pages, r.chunks, r.sha256, r.completed_at
        )


class PaperStore:
    """Chunks of complete papers, their registry, and a filtered LangChain vectorstore."""

    def __init__(
        self,
        client: chromadb.ClientAPI,
        settings: IngestSettings,
        embeddings: Embeddings,
        location: str,
        lock: StoreLock | None = None,
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.location = location  # folder path, or http://host:port
        self.lock = lock  # None in server mode
        self._client = client
        self._write_lock = threading.RLock()
        self._chunks = _open_chunk_collection(client, settings.collection, embeddings, location)
        self._registry = PaperRegistry(
            client.get_or_create_collection(
                settings.collection + REGISTRY_SUFFIX, embedding_function=None
            )
        )
        self._writer = PaperWriter(self._chunks, self._registry, embeddings, settings)
        self.vectorstore = PaperVectorStore(
            client=client,
            collection_name=settings.collection,
            embedding_function=embeddings,
            visible_filter=self.search_filter,
        )
        self._closed = False

    # -- reading ---------------------------------------------------------------------------
    def search_filter(self) -> dict:
        """The Chroma `where` filter admitting only complete, current papers."""
        return visible_where(self._registry.visible())

    def list_papers(self) -> list[PaperInfo]:
        """Complete papers, by title."""
        records = sorted(self._registry.visible(), key=lambda r: (r.title.lower(), r.source))
        return [PaperInfo.from_record(r) for r in records]

    def find_papers(self, paper: str) -> list[PaperInfo]:
        """Papers matching `paper`: paper_id (or a prefix of 6+), file name, arXiv id, title."""
        return [p for p in self.list_papers() if _matches(p, paper)]

    def has_paper(self, paper_id: str) -> PaperInfo | None:
        """The complete paper with this id, or None."""
        return next((p for p in self.list_papers() if p.paper_id == paper_id), None)

    def all_documents(self) -> list[Document]:
        """Every chunk of every complete paper, in (source, page, chunk_index) order."""
        where = self.search_filter()
        docs: list[Document] = []
        offset = 0
        while True:
            batch = self._chunks.get(
                where=where, include=["documents", "metadatas"], limit=_PAGE, offset=offset
            )
            for chunk_id, text, meta in zip(
                batch["ids"], batch["documents"], batch["metadatas"], strict=True
            ):
                docs.append(Document(id=chunk_id, page_content=text, metadata=dict(meta)))
            if len(batch["ids"]) < _PAGE:
                break
            offset += _PAGE
        docs.sort(
            key=lambda d: (d.metadata["source"], d.metadata["page"], d.metadata["chunk_index"])
        )
        return docs

    def version(self) -> str:
        """Changes whenever a paper is added or removed (for caches such as BM25)."""
        ids = ",".join(sorted(r.paper_id for r in self._registry.visible()))
        return hashlib.sha256(f"{self.settings.collection}:{ids}".encode()).hexdigest()[:16]

    def count_chunks(self) -> int:
        """All stored chunks, complete or not (diagnostics and tests)."""
        return self._chunks.count()

    # -- writing ---------------------------------------------------------------------------
    def add_paper(
        self,
        meta: PaperMeta,
        documents: list[Document],
        progress=None,
        batch_size: int | None = None,
    ) -> AddOutcome:
        """Stores a paper's chunks and makes it visible atomically; see `writer.PaperWriter`."""
        with self._write_lock:
            return self._writer.add(meta, documents, progress, batch_size)

    def remove_paper(self, paper: str) -> int:
        """Removes papers matching `paper` (see `find_papers`); returns the chunks removed."""
        with self._write_lock:
            removed = 0
            for info in self.find_papers(paper):
                removed += self._writer.delete_paper(info.paper_id)
            return removed

    def purge_leftovers(self) -> int:
        """Deletes chunks of interrupted ingests and of superseded versions; returns the count."""
        with self._write_lock:
            return self._writer.purge(exclusive=self.lock is not None)

    # -- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        """Releases the client and the folder lock (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._client.close()  # reference counted by chromadb per folder
        except Exception as e:  # closing must not mask the caller's error
            logger.debug("closing the Chroma client failed: %s", e)
        finally:
            if self.lock is not None:
                self.lock.release()

    def __enter__(self) -> PaperStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PaperStore({self.location!r}, collection={self.settings.collection!r})"


def _matches(info: PaperInfo, query: str) -> bool:
    q = query.strip().lower()
    if not q:
        return False
    wanted_id = parse_arxiv_id(q)
    have_id = info.arxiv_id.lower()
    same_id = bool(wanted_id and have_id) and (
        wanted_id == have_id or (wanted_id == base_id(wanted_id) == base_id(have_id))
    )
    return (
        same_id
        or info.paper_id == q
        or (len(q) >= 6 and info.paper_id.startswith(q))
        or info.source.lower() == q
        or Path(info.source).stem.lower() == q
        or info.title.lower() == q
    )


def _open_chunk_collection(
    client: chromadb.ClientAPI, name: str, embeddings: Embeddings, location: str
) -> chromadb.Collection:
    """The chunk collection, created with our model/dimension metadata or checked against it."""
    model = embedding_models.model_name(embeddings)
    dim = embedding_models.dimension(embeddings)
    wanted = {
        "hnsw:space": "cosine",
        "embedding_model": model,
        "embedding_dim": dim,
        "xrag_schema": SCHEMA_VERSION,
    }
    collection = client.get_or_create_collection(name, embedding_function=None, metadata=wanted)
    have = collection.metadata or {}
    if have.get("embedding_model") != model or have.get("embedding_dim") != dim:
        msg = (
            f"collection {name!r} at {location} holds vectors of embedding model "
            f"{have.get('embedding_model')!r} (dim {have.get('embedding_dim')}), not {model!r} "
            f"(dim {dim}); use that model, another --collection, or remove the collection"
        )
        raise EmbeddingMismatchError(msg)
    return collection


def open_store(
    settings: IngestSettings | None = None, embeddings: Embeddings | None = None
) -> PaperStore:
    """Opens the paper store: the Chroma server if `CHROMA_HOST` is set, else the embedded one.

    Raises:
        StoreBusyError: another process has the embedded store open.
        EmbeddingMismatchError: the collection was built with another embedding model.
        StoreError: the server is unreachable or the store folder cannot be opened.
    """
    settings = settings or IngestSettings()
    embeddings = embeddings or embedding_models.load_embeddings(settings.embedding_model)
    host = os.environ.get("CHROMA_HOST")
    if host or os.environ.get("CHROMA_PORT"):
        return _open_server(host or "127.0.0.1", settings, embeddings)
    return _open_embedded(paths.chroma_dir(), settings, embeddings)


def _client_settings() -> Settings:
    return Settings(anonymized_telemetry=False)


def _open_server(host: str, settings: IngestSettings, embeddings: Embeddings) -> PaperStore:
    port = int(os.environ.get("CHROMA_PORT") or 8000)
    location = f"http://{host}:{port}"
    hint = f"start it with `chroma run --path DIR --host {host} --port {port}` or unset CHROMA_HOST"
    store = _build(
        lambda: chromadb.HttpClient(host=host, port=port, settings=_client_settings()),
        settings,
        embeddings,
        location,
        lock=None,
        failure=lambda e: f"cannot use the Chroma server at {location} ({_brief(e)}); {hint}",
    )
    store.purge_leftovers()  # only stale pending ingests: other processes may be writing
    return store


def _open_embedded(directory: Path, settings: IngestSettings, embeddings: Embeddings) -> PaperStore:
    try:
        lock = StoreLock.acquire(directory)  # before the client exists: never two processes
    except OSError as e:
        msg = (
            f"cannot use the store folder {directory} ({e.strerror or e}); "
            "set XRAG_DATA_DIR to a writable local folder"
        )
        raise StoreError(msg) from e
    store = _build(
        lambda: chromadb.PersistentClient(path=str(directory), settings=_client_settings()),
        settings,
        embeddings,
        str(directory),
        lock=lock,
        failure=lambda e: f"cannot open the Chroma store at {directory} ({_brief(e)})",
    )
    if lock.first:
        store.purge_leftovers()  # we are alone: whatever is pending was interrupted
    return store


def _build(
    make_client: Callable[[], chromadb.ClientAPI],
    settings: IngestSettings,
    embeddings: Embeddings,
    location: str,
    lock: StoreLock | None,
    failure: Callable[[Exception], str],
) -> PaperStore:
    """Client + PaperStore; on any failure the client is closed and the lock released."""
    client = None
    try:
        client = make_client()
        client.heartbeat()
        return PaperStore(client, settings, embeddings, location, lock)
    except BaseException as e:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        if lock is not None:
            lock.release()
        if isinstance(e, StoreError) or not isinstance(e, Exception):
            raise
        raise StoreError(failure(e)) from e


def _brief(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:160]}"
