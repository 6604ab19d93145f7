"""Ingest sources (paths, URLs, arXiv ids) into an open PaperStore, one report line per source.

Per-source failures are collected in the report, never raised: one bad file does not stop the
others, and nothing already stored is touched by a failure.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import arxiv, fetch, manifest
from ingest.chunking import PaperMeta, chunk_pages, paper_id_for
from ingest.errors import IngestError
from ingest.pdf_text import PdfContent, read_pdf
from ingest.settings import IngestSettings
from ingest.writer import Progress, report_progress

if TYPE_CHECKING:
    from ingest.store import PaperStore

logger = logging.getLogger(__name__)


@dataclass
class SourceResult:
    """The outcome for one source."""

    source: str  # as given
    status: str  # "added", "replaced", "skipped", "duplicate" or "failed"
    paper_id: str = ""
    file_name: str = ""
    title: str = ""
    pages: int = 0
    chunks_added: int = 0
    chunks_skipped: int = 0
    chunks_replaced: int = 0
    error: str = ""  # one line, for "failed"
    # wall seconds: extract/chunk/embed/store/total; process CPU seconds: *_cpu
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class IngestReport:
    """Results of one `ingest_sources` call."""

    results: list[SourceResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[SourceResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def errors(self) -> list[str]:
        """One-line messages of the failed sources."""
        return [r.error for r in self.failed]

    @property
    def ok(self) -> bool:
        return not self.failed

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.results)

    def summary(self) -> str:
        """One line: papers, pages, chunks added/skipped/replaced, failures, seconds."""
        papers = sum(r.status in ("added", "replaced", "skipped") for r in self.results)
        return (
            f"{papers} paper{'s' * (papers != 1)}, {self.total('pages')} pages: "
            f"{self.total('chunks_added')} chunks added, {self.total('chunks_skipped')} skipped, "
            f"{self.total('chunks_replaced')} replaced; {len(self.failed)} failed; "
            f"{self.seconds:.1f} s"
        )


def ingest_sources(
    sources: list[str],
    store: PaperStore,
    settings: IngestSettings | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Fetches, extracts, chunks, embeds and stores every source; see `IngestReport`."""
    settings = settings or store.settings
    start = time.perf_counter()
    report = IngestReport()
    seen: dict[str, str] = {}  # sha256 → the source that brought it
    for source in sources:
        result = _ingest_one(source, store, settings, progress, seen)
        if result.status == "failed":  # reported in the result; callers decide how to show it
            logger.info("failed: %s", result.error)
        report.results.append(result)
    report.seconds = time.perf_counter() - start
    return report


def _ingest_one(
    source: str,
    store: PaperStore,
    settings: IngestSettings,
    progress: Progress | None,
    seen: dict[str, str],
) -> SourceResult:
    t0 = time.perf_counter()
    try:
        path = fetch.resolve_source(
            source, timeout=settings.download_timeout, max_bytes=settings.max_bytes
        )
        sha = fetch.sha256_file(path) if path.is_file() else ""
        if sha and sha in seen:
            return SourceResult(
                source,
                "duplicate",
                file_name=path.name,
                error=f"same file as {seen[sha]}; ingested once",
            )
        if sha:
            seen[sha] = source
        result = _ingest_file(path, sha, store, settings, progress)
    except IngestError as e:
        return SourceResult(source, "failed", error=str(e))
    except Exception as e:  # an unexpected bug in one file must not stop the others
        logger.debug("unexpected error on %s", source, exc_info=True)
        detail = " ".join(str(e).split())[:200]
        return SourceResult(source, "failed", error=f"{source}: {type(e).__name__}: {detail}")
    result.source = source
    result.timings["total"] = time.perf_counter() - t0
    return result


def _ingest_file(
    path: Path, sha: str, store: PaperStore, settings: IngestSettings, progress: Progress | None
) -> SourceResult:
    paper_id = paper_id_for(sha, settings.chunk_size, settings.chunk_overlap)
    present = store.has_paper(paper_id)
    if present is not None:  # same file, same chunking: nothing to do
        return SourceResult(
            str(path),
            "skipped",
            paper_id=paper_id,
            file_name=path.name,
            title=present.title,
            chunks_skipped=present.chunks,
        )
    t0, c0 = time.perf_counter(), time.process_time()
    report_progress(progress, path.name, "extract", 0, 1)
    content = read_pdf(path, max_pages=settings.max_pages, max_bytes=settings.max_bytes)
    t1, c1 = time.perf_counter(), time.process_time()
    meta = _paper_meta(path, sha, paper_id, content)
    documents = chunk_pages(
        content.pages, meta, settings.chunk_size, settings.chunk_overlap, content.tables
    )
    t2 = time.perf_counter()
    outcome = store.add_paper(meta, documents, progress, settings.batch_size)
    return SourceResult(
        str(path),
        outcome.status,
        paper_id=paper_id,
        file_name=path.name,
        title=meta.title,
        pages=content.num_pages,
        chunks_added=outcome.chunks_added,
        chunks_skipped=outcome.chunks_skipped,
        chunks_replaced=outcome.chunks_replaced,
        timings={
            "extract": t1 - t0,
            "chunk": t2 - t1,
            "embed": outcome.embed_seconds,
            "store": outcome.store_seconds,
            "extract_cpu": c1 - c0,
            "embed_cpu": outcome.embed_cpu,
            "store_cpu": outcome.store_cpu,
        },
    )


def _paper_meta(path: Path, sha: str, paper_id: str, content: PdfContent) -> PaperMeta:
    """Title and arXiv id: the manifest first, then the PDF (stamp, metadata, page 1), the name."""
    entry = manifest.find_by_sha256(sha)
    arxiv_id = (
        (entry.arxiv_id if entry else "")
        or content.arxiv_id
        or arxiv.id_in_file_name(path.name)
        or ""
    )
    title = (entry.title if entry else "") or content.title or path.stem
    return PaperMeta(
        paper_id=paper_id,
        source=path.name,
        sha256=sha,
        title=title,
        arxiv_id=arxiv_id,
        pages=content.num_pages,
    )
