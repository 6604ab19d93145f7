"""Text of a PDF, page by page, cleaned for retrieval (see `text_clean`, `text_repair`).

`extract_pages(path)` is the public entry point; `read_pdf(path)` also returns what the PDF says
about itself (title, arXiv id from the margin stamp) for chunk metadata.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from ingest import table_layout, table_pages, text_clean, text_repair
from ingest import tables as table_parser
from ingest.errors import IngestError
from ingest.headings import HeadingTracker
from ingest.words import Lexicon

logger = logging.getLogger(__name__)

# Bump when cleaning changes, so re-ingesting replaces old chunks. 2: tables parsed into rows.
# 3: a line opening "Figure 9 and ..." inside a sentence no longer starts a paragraph.
# 4: tables continued over pages (header repeated or not) parsed part by part; stacked headers
# pypdf cannot split named from the page layout (`ingest.table_layout`).
TEXT_VERSION = "4"


@dataclass(frozen=True)
class PageText:
    """Cleaned text of one page."""

    page: int  # 1-based physical page number
    text: str
    heading: str | None  # section in force at the top of the page, else the page's first heading
    sections: tuple[tuple[int, str], ...] = field(default=())  # (offset in text, heading) on page
    start_section: str | None = None  # section in force at the top of the page

    def section_at(self, offset: int) -> str | None:
        """The section heading in force at character `offset` of this page's text."""
        section = self.start_section
        for start, heading in self.sections:
            if start <= offset:
                section = heading
        return section


@dataclass(frozen=True)
class PdfContent:
    """A PDF's cleaned pages and what it says about itself."""

    pages: list[PageText]  # pages with text only
    num_pages: int
    title: str | None  # from the PDF metadata or the first page
    arxiv_id: str | None  # from the arXiv margin stamp
    tables: list[table_parser.Table] = field(default_factory=list)  # their lines left the text


def extract_pages(path: str | Path, max_pages: int | None = None) -> list[PageText]:
    """Cleaned text of every page of the PDF at `path` that has text.

    Raises:
        IngestError: one line naming the file and the reason (missing, not a PDF, damaged,
            encrypted, no extractable text, too many pages).
    """
    return read_pdf(path, max_pages=max_pages).pages


def read_pdf(
    path: str | Path, max_pages: int | None = None, max_bytes: int | None = None
) -> PdfContent:
    """Reads, checks and cleans the PDF at `path`; see `extract_pages` for the errors."""
    path = Path(path)
    _check_file(path, max_bytes)
    with _quiet_pypdf(path.name):
        reader = _open(path)
        if max_pages is not None and len(reader.pages) > max_pages:
            msg = f"{path.name} has {len(reader.pages)} pages, over the {max_pages}-page limit"
            raise IngestError(msg)
        raw = [_page_text(reader, i, path.name) for i in range(len(reader.pages))]
        meta_title = _metadata_title(reader)
    content = _clean_document(raw, meta_title, path.name)
    content.tables[:] = table_layout.align_tables(path, content.tables)
    if not any(any(ch.isalnum() for ch in page.text) for page in content.pages):
        msg = (
            f"{path.name} has no extractable text (a scanned or image-only PDF?); "
            "run OCR on it first (e.g. ocrmypdf) and ingest the result"
        )
        raise IngestError(msg)
    return content


def _check_file(path: Path, max_bytes: int | None) -> None:
    if not path.is_file():
        reason = "is a folder, not a PDF" if path.is_dir() else "does not exist"
        msg = f"{path}: {reason}"
        raise IngestError(msg)
    size = path.stat().st_size
    if size == 0:
        msg = f"{path.name} is empty (0 bytes); re-download or re-export it"
        raise IngestError(msg)
    if max_bytes is not None and size > max_bytes:
        msg = f"{path.name} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit"
        raise IngestError(msg)
    with open(path, "rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        msg = f"{path.name} is not a PDF (it starts with {head[:12]!r}); pass a .pdf file"
        raise IngestError(msg)


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            msg = f"{path.name} is password-protected; remove the password (e.g. qpdf --decrypt)"
            raise IngestError(msg)
        _ = len(reader.pages)  # forces the page tree to load: damage shows up here
        return reader
    except IngestError:
        raise
    except FileNotDecryptedError as e:
        msg = f"{path.name} is password-protected; remove the password (e.g. qpdf --decrypt)"
        raise IngestError(msg) from e
    except DependencyError as e:
        msg = (
            f"{path.name} uses AES encryption, which needs pypdf[crypto] (pip install cryptography)"
        )
        raise IngestError(msg) from e
    except (PdfReadError, Exception) as e:  # pypdf raises many types on damaged files
        msg = (
            f"{path.name} is damaged or truncated ({type(e).__name__}: {_short(e)}); re-download it"
        )
        raise IngestError(msg) from e


def _short(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:120] + ("…" if len(text) > 120 else "")


def _page_text(reader: PdfReader, index: int, name: str) -> str:
    try:
        return reader.pages[index].extract_text() or ""
    except Exception as e:  # one bad page must not lose the others
        logger.warning("%s: page %d has unreadable text (%s); skipping it", name, index + 1, e)
        return ""


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # broken info dictionaries are common and harmless
        return None
    title = " ".join(str(title or "").split())
    bad = title.lower().endswith((".dvi", ".pdf", ".doc", ".docx", ".tex"))
    if len(title) < 4 or bad or title.lower().startswith(("untitled", "microsoft word")):
        return None
    return title


def _clean_document(raw: list[str], meta_title: str | None, name: str = "") -> PdfContent:
    slash_broken = text_repair.is_slash_broken("".join(raw))
    if slash_broken:
        raw = [text_repair.decode_ot1(text) for text in raw]
    arxiv_id = None
    page_lines = []
    for text in raw:
        text, stamped = text_clean.remove_stamp(text_clean.normalize(text))
        arxiv_id = arxiv_id or stamped
        page_lines.append(text.split("\n"))
    repeated = text_clean.repeated_edge_lines(page_lines)
    page_lines = [text_clean.drop_page_furniture(lines, repeated) for lines in page_lines]
    if slash_broken:
        page_lines = _repair_lines(page_lines)
    tables, page_lines = table_pages.extract_tables(page_lines, name or "PDF")
    words = text_clean.document_words(page_lines)
    splitter = _run_together_lexicon(page_lines)
    tracker = HeadingTracker()
    pages = []
    for number, lines in enumerate(page_lines, start=1):
        page = _layout_page(number, lines, tracker, words, splitter)
        if page.text:
            pages.append(page)
    title = meta_title or _first_page_title(page_lines[0] if page_lines else [])
    if title and splitter is not None:
        title = text_repair.split_run_together(title, splitter)
    return PdfContent(
        pages=pages, num_pages=len(raw), title=title, arxiv_id=arxiv_id, tables=tables
    )


def _repair_lines(page_lines: list[list[str]]) -> list[list[str]]:
    """Repairs a broken DVI text layer line by line: "/" artefacts, words split at kerning."""
    lexicon = Lexicon()  # English only: this document's own words include the broken pieces

    def fix(line: str) -> str:
        return text_repair.join_split_words(text_repair.repair_slashes(line, lexicon), lexicon)

    return [[fix(ln) for ln in lines] for lines in page_lines]


def _run_together_lexicon(page_lines: list[list[str]]) -> Lexicon | None:
    """A lexicon for splitting run-together words, when the document needs it (else None)."""
    tokens = [t for lines in page_lines for ln in lines for t in ln.split()]
    if not text_repair.is_run_together(tokens, Lexicon()):
        return None
    spaced = [[ln for ln in lines if _mean_token_length(ln) <= 7] for lines in page_lines]
    counts = text_clean.document_words(spaced)
    return Lexicon(w for w, n in counts.items() if n >= 2)


def _mean_token_length(line: str) -> float:
    tokens = line.split()
    return len(line) / len(tokens) if tokens else 0.0


def _layout_page(
    number: int,
    lines: list[str],
    tracker: HeadingTracker,
    words: Counter[str],
    splitter: Lexicon | None,
) -> PageText:
    start_section = tracker.current
    heading_lines = {i for i, line in enumerate(lines) if tracker.accept(line)}
    blocks = text_clean.unwrap(lines, heading_lines, words)
    if splitter is not None:
        blocks = [(text_repair.split_run_together(b, splitter), h) for b, h in blocks]
    parts: list[str] = []
    sections: list[tuple[int, str]] = []
    offset = 0
    for block, is_heading in blocks:
        if is_heading:
            sections.append((offset, block))
        parts.append(block)
        offset += len(block) + 2
    text = "\n\n".join(parts).strip()
    first = sections[0][1] if sections else None
    opens_with_heading = bool(sections) and sections[0][0] == 0
    return PageText(
        page=number,
        text=text,
        heading=first if opens_with_heading else (start_section or first),
        sections=tuple(sections),
        start_section=start_section,
    )


_NOT_TITLE = ("published as", "preprint", "under review", "journal of", "proceedings", "arxiv")


def _first_page_title(lines: list[str]) -> str | None:
    """A guess at the title: the first substantial line of page 1, plus its continuation."""
    for i, line in enumerate(lines[:8]):
        words = line.split()
        if len(words) < 2 or line.lower().startswith(_NOT_TITLE) or not line[0].isalpha():
            continue
        title = line
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if _continues_title(title, following):
            title = f"{title} {following}"
        return title[:200]
    return None


def _continues_title(title: str, line: str) -> bool:
    """A second title line: not an author line (names only), no affiliation marks."""
    words = line.split()
    return (
        len(title) >= 25
        and 2 <= len(words) <= 10
        and not any(ch.isdigit() or ch in "∗*@,†‡" for ch in line)
        and not title.endswith((".", ":"))
        and any(w.islower() for w in words)  # "for", "with", ...: author lines have none
    )


class _ForwardPypdf(logging.Handler):
    """Sends pypdf's log records to our logger at DEBUG level, counting them per thread."""

    local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        name = getattr(self.local, "name", "?")
        self.local.count = getattr(self.local, "count", 0) + 1
        logger.debug("pypdf (%s): %s", name, record.getMessage())


_handler = _ForwardPypdf()
_pypdf_logger = logging.getLogger("pypdf")
if _handler not in _pypdf_logger.handlers:
    _pypdf_logger.addHandler(_handler)
    _pypdf_logger.propagate = False


@contextmanager
def _quiet_pypdf(name: str) -> Iterator[None]:
    """Routes pypdf's warnings (fonts, xref repairs) to our logger; one summary line per file."""
    _ForwardPypdf.local.name, _ForwardPypdf.local.count = name, 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    count = _ForwardPypdf.local.count + len(caught)
    for warning in caught:
        logger.debug("pypdf (%s): %s", name, warning.message)
    if count:
        logger.info("%s: %d pypdf warnings (details at DEBUG level)", name, count)
