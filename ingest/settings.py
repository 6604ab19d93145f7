"""One settings object for ingestion: chunking, embedding model, limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_COLLECTION = "papers"
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,48}[A-Za-z0-9]$")


@dataclass(frozen=True)
class IngestSettings:
    """How papers are chunked, embedded and limited.

    Chunk defaults: `python -m bench.tune_chunks` on the 68 evidence-labelled questions of
    app/questions/xlstm_v2.jsonl (hit@5 / MRR, dense | BM25 | hybrid): 400/80 had the best
    hybrid MRR (0.79) and the best mean over the three retrievers; 300/60 the best hit@5 (0.94);
    500/100 was 0.90/0.72 hybrid. See ingest/README.md.
    """

    collection: str = DEFAULT_COLLECTION  # Chroma collection holding the chunks
    chunk_size: int = 400  # characters per chunk (RecursiveCharacterTextSplitter)
    chunk_overlap: int = 80  # characters shared by neighbouring chunks of a page
    embedding_model: str | None = None  # sentence-transformers name or path; None = MiniLM
    max_bytes: int = 50 * 1024 * 1024  # larger PDFs are refused
    max_pages: int = 300  # PDFs with more pages are refused
    batch_size: int = 64  # chunks embedded and stored per write
    download_timeout: float = 30.0  # seconds per HTTP request when fetching papers

    def __post_init__(self) -> None:
        if not _COLLECTION_NAME.match(self.collection):
            msg = (
                f"collection name {self.collection!r} is invalid; use 3-50 letters, digits, "
                "'.', '_' or '-', starting and ending with a letter or digit"
            )
            raise ValueError(msg)
        if self.chunk_size < 50:
            msg = f"chunk_size {self.chunk_size} is too small; use at least 50 characters"
            raise ValueError(msg)
        if not 0 <= self.chunk_overlap < self.chunk_size:
            msg = (
                f"chunk_overlap {self.chunk_overlap} must be >= 0 and smaller than "
                f"chunk_size {self.chunk_size}"
            )
            raise ValueError(msg)
        for name in ("max_bytes", "max_pages", "batch_size"):
            if getattr(self, name) < 1:
                msg = f"{name} must be positive, got {getattr(self, name)}"
                raise ValueError(msg)
