"""arXiv identifiers: parsing, version handling, and where to download from."""

from __future__ import annotations

import os
import re

DEFAULT_ARXIV_URL = "https://arxiv.org/pdf"

# New-style ids (0704.0001 onwards) and old-style ids such as hep-th/9901001.
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}"
_ID = rf"(?P<base>{_NEW_ID}|{_OLD_ID})(?P<version>v\d+)?"
_EXACT = re.compile(rf"^(?:arxiv:)?{_ID}$", re.IGNORECASE)
_IN_TEXT = re.compile(rf"(?<![\d.]){_NEW_ID}(?:v\d+)?(?![\d])")
_URL = re.compile(
    rf"^https?://(?:export\.|www\.)?arxiv\.org/(?:abs|pdf)/{_ID}(?:\.pdf)?/?$", re.IGNORECASE
)
# Something the user probably meant as an arXiv id ("2405.0451", "arXiv:2405.04517x").
_ID_LIKE = re.compile(r"^(?:arxiv:)?\d{3,5}\.\d{2,6}\S*$", re.IGNORECASE)
# The margin stamp arXiv puts on page 1: "arXiv:2405.04517v2 [cs.LG] 6 Dec 2024".
STAMP = re.compile(
    rf"arXiv:(?P<id>{_NEW_ID}v\d+|{_OLD_ID}v\d+)\s*\[[\w.-]+\]\s*\d{{1,2}}\s*[A-Z][a-z]{{2}}\s*\d{{4}}"
)


def parse_arxiv_id(text: str) -> str | None:
    """The arXiv id in `text` ("arXiv:2405.04517v2", "2405.04517", an arxiv.org URL), or None."""
    text = text.strip()
    match = _EXACT.match(text) or _URL.match(text)
    if not match:
        return None
    return match.group("base") + (match.group("version") or "")


def looks_like_arxiv_id(text: str) -> bool:
    """Whether `text` resembles an arXiv id (so a failed parse is worth a specific message)."""
    return bool(_ID_LIKE.match(text.strip()))


def base_id(arxiv_id: str) -> str:
    """The id without its version: "2405.04517v2" -> "2405.04517"."""
    return re.sub(r"v\d+$", "", arxiv_id)


def id_in_file_name(name: str) -> str | None:
    """An arXiv id embedded in a file name such as "xlstm-2405.04517v2.pdf", or None."""
    match = _IN_TEXT.search(name)
    return match.group(0) if match else None


def arxiv_base_url() -> str:
    """Where PDFs are downloaded from: `$XRAG_ARXIV_URL` or https://arxiv.org/pdf."""
    return (os.environ.get("XRAG_ARXIV_URL") or DEFAULT_ARXIV_URL).rstrip("/")


def pdf_url(arxiv_id: str) -> str:
    """The download URL of `arxiv_id` under the configured base URL."""
    return f"{arxiv_base_url()}/{arxiv_id}"
