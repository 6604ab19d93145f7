"""Page-aware chunking: every chunk comes from one page and carries its metadata."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.pdf_text import TEXT_VERSION, PageText

CHUNKER_VERSION = "1"  # bump when splitting changes, so re-ingesting replaces old chunks
_SEPARATORS = ["\n\n", "\n", ". ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class PaperMeta:
    """What a paper's chunks say about the paper."""

    paper_id: str  # content-derived: file sha256 + chunking parameters + text/chunker versions
    source: str  # original file name
    sha256: str
    title: str
    arxiv_id: str  # "" when unknown
    pages: int  # physical pages in the PDF


def paper_id_for(sha256: str, chunk_size: int, chunk_overlap: int) -> str:
    """Identity of one ingest of one file: changes with the content or the chunking."""
    key = f"{sha256}:{chunk_size}:{chunk_overlap}:{TEXT_VERSION}:{CHUNKER_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def chunk_id_for(paper_id: str, page: int, chunk_index: int) -> str:
    """Stable chunk id naming its paper, page and position: "<paper_id>:p10:c0042"."""
    return f"{paper_id}:p{page}:c{chunk_index:04d}"


def chunk_pages(
    pages: list[PageText], meta: PaperMeta, chunk_size: int, chunk_overlap: int
) -> list[Document]:
    """Splits each page's text into chunks (never across pages) with full metadata."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        add_start_index=True,
    )
    documents: list[Document] = []
    for page in pages:
        for piece in splitter.create_documents([page.text]):
            documents.append(_chunk(piece, page, meta, len(documents)))
    return documents


def _chunk(piece: Document, page: PageText, meta: PaperMeta, index: int) -> Document:
    text = piece.page_content
    chunk_id = chunk_id_for(meta.paper_id, page.page, index)
    metadata = {
        "source": meta.source,
        "arxiv_id": meta.arxiv_id,
        "title": meta.title,
        "page": page.page,
        "chunk_index": index,
        "content_hash": hashlib.sha256(text.encode()).hexdigest()[:16],
        "section": page.section_at(piece.metadata.get("start_index", 0)) or "",
        "paper_id": meta.paper_id,
        "chunk_id": chunk_id,
    }
    return Document(id=chunk_id, page_content=text, metadata=metadata)
