"""Writing papers into the store: pending → chunks in batches → complete → drop old versions.

Crash safety: the registry record is written "pending" before any chunk and flipped to
"complete" (one record write) only after every chunk is stored and counted. Superseded
versions are hidden by that same flip and deleted afterwards. Whatever an interrupted run
leaves behind is removed by `purge()` when the store is next opened.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from chromadb import Collection
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from ingest.arxiv import base_id
from ingest.chunking import PaperMeta
from ingest.errors import StoreError
from ingest.registry import COMPLETE, PENDING, PaperRecord, PaperRegistry
from ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

STALE_AFTER_S = 15 * 60  # a pending ingest silent this long (server mode) is abandoned
_MIN_TITLE_FOR_MATCH = 12


class Progress(Protocol):
    """Progress callback, always called with keywords (extra keywords may be added later):
    progress(source=file name, stage="extract"|"embed", done=int, total=int, message=str)."""

    def __call__(self, *, source: str, stage: str, done: int, total: int, message: str) -> None: ...


def report_progress(
    progress: Progress | None, source: str, stage: str, done: int, total: int
) -> None:
    """Calls `progress` (if any) with keywords and a readable message."""
    if progress is not None:
        message = f"{source}: {stage} {done}/{total}" if stage == "embed" else f"{source}: {stage}"
        progress(source=source, stage=stage, done=done, total=total, message=message)


@dataclass
class AddOutcome:
    """What `PaperWriter.add` did."""

    status: str  # "added", "replaced" or "skipped"
    record: PaperRecord
    chunks_added: int = 0
    chunks_skipped: int = 0
    chunks_replaced: int = 0
    replaced: list[PaperRecord] = field(default_factory=list)
    embed_seconds: float = 0.0
    store_seconds: float = 0.0
    embed_cpu: float = 0.0  # process CPU seconds (all threads): the cost without contention
    store_cpu: float = 0.0


def _norm_title(title: str) -> str:
    return " ".join(title.lower().split())


class _Identity(Protocol):
    sha256: str
    arxiv_id: str
    title: str


def same_paper(old: _Identity, new: _Identity) -> bool:
    """Whether `new` is a version of `old`: same file, same arXiv id, or same (long) title."""
    if old.sha256 and old.sha256 == new.sha256:
        return True
    if old.arxiv_id and new.arxiv_id:
        return base_id(old.arxiv_id) == base_id(new.arxiv_id)
    title = _norm_title(old.title)
    return len(title) >= _MIN_TITLE_FOR_MATCH and title == _norm_title(new.title)


class PaperWriter:
    """Adds, deletes and purges papers; callers serialise calls (PaperStore's RLock)."""

    def __init__(
        self,
        chunks: Collection,
        registry: PaperRegistry,
        embeddings: Embeddings,
        settings: IngestSettings,
    ) -> None:
        self.chunks = chunks
        self.registry = registry
        self.embeddings = embeddings
        self.settings = settings

    def add(
        self,
        meta: PaperMeta,
        documents: list[Document],
        progress: Progress | None = None,
        batch_size: int | None = None,
    ) -> AddOutcome:
        """Stores `documents` (chunks of the paper `meta`), replacing older versions."""
        visible = self.registry.visible()
        current = next((r for r in visible if r.paper_id == meta.paper_id), None)
        if current is not None:
            return AddOutcome("skipped", current, chunks_skipped=current.chunks)
        if not documents:
            msg = f"{meta.source} produced no chunks; nothing to store"
            raise StoreError(msg)
        old = [r for r in visible if same_paper(r, meta)]
        now = time.time()
        record = PaperRecord(
            paper_id=meta.paper_id,
            source=meta.source,
            title=meta.title,
            arxiv_id=meta.arxiv_id,
            sha256=meta.sha256,
            pages=meta.pages,
            chunks=len(documents),
            state=PENDING,
            supersedes=tuple(r.paper_id for r in old),
            created_at=now,
            heartbeat=now,
            owner=f"{socket.gethostname()}:{os.getpid()}",
        )
        self.registry.put(record)
        try:
            outcome = self._write_chunks(record, documents, progress, batch_size)
        except BaseException:
            self._abandon(record)
            raise
        done = replace(record, state=COMPLETE, completed_at=time.time(), heartbeat=time.time())
        self.registry.put(done)  # the atomic flip: the paper appears, old versions disappear
        for previous in old:
            self.delete_paper(previous.paper_id)
        outcome.record = done
        outcome.status = "replaced" if old else "added"
        outcome.replaced = old
        outcome.chunks_replaced = sum(r.chunks for r in old)
        return outcome

    def _write_chunks(
        self,
        record: PaperRecord,
        documents: list[Document],
        progress: Progress | None,
        batch_size: int | None,
    ) -> AddOutcome:
        outcome = AddOutcome("added", record)
        size = batch_size or self.settings.batch_size
        # Similar lengths per batch: less padding for the transformer (order is irrelevant).
        documents = sorted(documents, key=lambda d: len(d.page_content))
        for start in range(0, len(documents), size):
            batch = documents[start : start + size]
            t0, c0 = time.perf_counter(), time.process_time()
            vectors = self.embeddings.embed_documents([d.page_content for d in batch])
            t1, c1 = time.perf_counter(), time.process_time()
            self.chunks.upsert(
                ids=[d.id for d in batch],
                embeddings=vectors,
                documents=[d.page_content for d in batch],
                metadatas=[{**d.metadata, "ingested_at": record.created_at} for d in batch],
            )
            self.registry.put(replace(record, heartbeat=time.time()))
            outcome.embed_seconds += t1 - t0
            outcome.store_seconds += time.perf_counter() - t1
            outcome.embed_cpu += c1 - c0
            outcome.store_cpu += time.process_time() - c1
            outcome.chunks_added += len(batch)
            report_progress(progress, record.source, "embed", outcome.chunks_added, len(documents))
            _test_hook_after_batch()
        stored = len(self.chunks.get(where={"paper_id": record.paper_id}, include=[])["ids"])
        if stored != len(documents):
            msg = f"{record.source}: stored {stored} of {len(documents)} chunks; ingest it again"
            raise StoreError(msg)
        return outcome

    def _abandon(self, record: PaperRecord) -> None:
        try:
            self.delete_paper(record.paper_id)
        except Exception as e:  # the next open purges what is left
            logger.warning("could not clean up the interrupted ingest of %s: %s", record.source, e)

    def delete_paper(self, paper_id: str) -> int:
        """Hides the paper (record first), then deletes its chunks; returns the chunks deleted."""
        where = {"paper_id": paper_id}
        count = len(self.chunks.get(where=where, include=[])["ids"])
        self.registry.delete(paper_id)
        self.chunks.delete(where=where)
        return count

    def purge(self, exclusive: bool) -> int:
        """Deletes interrupted ingests, superseded versions and orphan chunks.

        `exclusive` (the embedded store, locked): every pending record is abandoned. Otherwise
        (server) only pending records silent for `STALE_AFTER_S` and old orphan chunks are.
        """
        _, hidden, pending = self.registry.split()
        cutoff = time.time() - STALE_AFTER_S
        dead = hidden + [r for r in pending if exclusive or r.heartbeat < cutoff]
        removed = sum(self.delete_paper(r.paper_id) for r in dead)
        known = [r.paper_id for r in self.registry.all()] or ["__none__"]
        orphans: dict = {"paper_id": {"$nin": known}}
        if not exclusive:
            orphans = {"$and": [orphans, {"ingested_at": {"$lt": cutoff}}]}
        orphan_ids = self.chunks.get(where=orphans, include=[])["ids"]
        if orphan_ids:
            self.chunks.delete(ids=orphan_ids)
        removed += len(orphan_ids)
        if removed:
            logger.info("purged %d chunks of interrupted or superseded ingests", removed)
        return removed


def _test_hook_after_batch() -> None:
    """Test hook: `XRAG_TEST_BATCH_PAUSE` seconds of sleep after each stored batch, and
    `XRAG_TEST_BATCH_MARKER` (a path) touched after the first, so a test can kill mid-ingest."""
    marker = os.environ.get("XRAG_TEST_BATCH_MARKER")
    if marker:
        Path(marker).touch()
    pause = os.environ.get("XRAG_TEST_BATCH_PAUSE")
    if pause:
        time.sleep(float(pause))
