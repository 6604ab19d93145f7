"""Page-aware chunking: every chunk comes from one page, is of one kind (see `ingest.units`)
and carries its metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.pdf_text import TEXT_VERSION, PageText
from ingest.tables import Table
from ingest.units import chunk_kind, page_segments, table_units

# Bump when splitting changes, so re-ingesting replaces old chunks. 2: units of one kind each.
CHUNKER_VERSION = "2"
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
    pages: list[PageText],
    meta: PaperMeta,
    chunk_size: int,
    chunk_overlap: int,
    tables: Sequence[Table] = (),
) -> list[Document]:
    """Splits each page's text into chunks (never across pages, never across kinds) with full
    metadata, and adds each table (`kind=table`) and each of its rows (`kind=table_row`)."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        add_start_index=True,
    )
    by_page: dict[int, list[Table]] = {}
    for table in tables:
        by_page.setdefault(table.page, []).append(table)
    documents: list[Document] = []
    section = ""  # in force at the end of the last page with text

    def add_tables(page: PageText, head: str) -> None:
        for table in by_page.pop(page.page, []):
            for kind, text, extra in table_units(table):
                documents.append(_chunk(text, page, meta, len(documents), kind, 0, head, extra))

    for page in pages:
        for number in sorted(n for n in by_page if n < page.page):  # pages with no text
            add_tables(PageText(page=number, text="", heading=None), section)
        for segment in page_segments(page):
            for piece in splitter.create_documents([segment.text]):
                start = segment.start + piece.metadata.get("start_index", 0)
                kind = chunk_kind(segment.kind, piece.page_content)
                documents.append(
                    _chunk(piece.page_content, page, meta, len(documents), kind, start)
                )
        add_tables(page, page.section_at(0) or "")
        section = page.section_at(len(page.text)) or section
    for number in sorted(by_page):
        add_tables(PageText(page=number, text="", heading=None), section)
    return documents


def _chunk(
    text: str,
    page: PageText,
    meta: PaperMeta,
    index: int,
    kind: str,
    start: int,
    section: str | None = None,
    extra: dict | None = None,
) -> Document:
    chunk_id = chunk_id_for(meta.paper_id, page.page, index)
    metadata = {
        "source": meta.source,
        "arxiv_id": meta.arxiv_id,
        "title": meta.title,
        "page": page.page,
        "chunk_index": index,
        "content_hash": hashlib.sha256(text.encode()).hexdigest()[:16],
        "section": (section if section is not None else page.section_at(start)) or "",
        "paper_id": meta.paper_id,
        "chunk_id": chunk_id,
        "kind": kind,
        **(extra or {}),
    }
    return Document(id=chunk_id, page_content=text, metadata=metadata)
