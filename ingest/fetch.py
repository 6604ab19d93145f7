"""Finding papers: data/papers, then mirror folders, then download (verified by sha256).

Sources given to the CLI or the UI are local paths, http(s) URLs or arXiv ids. Downloads go to
`data/papers` through a temporary file, so a partial download never looks like a paper.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ingest import paths
from ingest.arxiv import looks_like_arxiv_id, parse_arxiv_id, pdf_url
from ingest.errors import FetchError, IngestError
from ingest.manifest import ManifestEntry, entries_for, find_by_arxiv_id

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_USER_AGENT = "xlstm-rag-ingest/1.0 (research prototype)"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def search_folders() -> list[Path]:
    """Where papers are looked for, in order: data/papers, then `$XRAG_PAPER_MIRRORS`."""
    return [paths.papers_dir(), *paths.paper_mirrors()]


def find_local(file_name: str, sha256: str | None = None) -> Path | None:
    """The first copy of `file_name` in the search folders (with the right sha256 when given)."""
    for folder in search_folders():
        candidate = folder / file_name
        if not candidate.is_file():
            continue
        if sha256 is None or sha256_file(candidate) == sha256:
            return candidate
        logger.warning("ignoring %s: its sha256 differs from the manifest's", candidate)
    return None


def _where_to_put(file_name: str) -> str:
    return f"put {file_name} in {paths.papers_dir()} or in a folder listed in $XRAG_PAPER_MIRRORS"


def fetch_entry(
    entry: ManifestEntry, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES
) -> Path:
    """A verified local copy of a manifest paper: data/papers, a mirror, or a fresh download."""
    local = find_local(entry.file, entry.sha256)
    if local is not None:
        return local
    url = entry.download_url()
    try:
        return download(
            url,
            paths.papers_dir() / entry.file,
            sha256=entry.sha256,
            timeout=timeout,
            max_bytes=max_bytes,
        )
    except FetchError as e:
        msg = f"{entry.file} is not available locally and {e}; {_where_to_put(entry.file)}"
        raise FetchError(msg) from e


def resolve_default_papers(role: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """Local paths of the manifest's papers with `role` ("store", "corpus" or None = all).

    Raises:
        FetchError: naming every paper that is neither local nor downloadable.
    """
    found: list[Path] = []
    missing: list[str] = []
    reason = ""
    offline = False
    for entry in entries_for(role):
        local = find_local(entry.file, entry.sha256)
        if local is None and not offline:
            try:
                local = fetch_entry(entry, timeout=timeout)
            except FetchError as e:
                reason = str(e)
                offline = "cannot reach" in reason  # don't wait on every paper when offline
        if local is None:
            missing.append(entry.file)
        else:
            found.append(local)
    if missing:
        if len(missing) == 1:
            raise FetchError(reason or f"{missing[0]} is missing; {_where_to_put(missing[0])}")
        msg = (
            f"{len(missing)} default papers are missing ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}); put them in {paths.papers_dir()} or in a "
            f"folder listed in $XRAG_PAPER_MIRRORS (first error: {reason})"
        )
        raise FetchError(msg)
    return found


def download(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Path:
    """Downloads the PDF at `url` to `dest` atomically, checking size, PDF header and sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        digest = _stream_to(url, part, timeout=timeout, max_bytes=max_bytes)
        if sha256 is not None and digest != sha256:
            msg = f"the download from {url} has sha256 {digest[:12]}…, expected {sha256[:12]}…"
            raise FetchError(msg)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    logger.info("downloaded %s to %s", url, dest)
    return dest


def _stream_to(url: str, part: Path, *, timeout: float, max_bytes: int) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(part, "wb") as f:
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                msg = f"{url} is {declared / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit"
                raise FetchError(msg)
            while block := response.read(_CHUNK):
                size += len(block)
                if size > max_bytes:
                    msg = f"{url} is over the {max_bytes / 1e6:.0f} MB limit"
                    raise FetchError(msg)
                if size == len(block) and not block.startswith(b"%PDF-"):
                    msg = f"{url} did not return a PDF (it starts with {block[:15]!r})"
                    raise FetchError(msg)
                digest.update(block)
                f.write(block)
    except urllib.error.HTTPError as e:
        msg = f"downloading {url} failed with HTTP {e.code} {e.reason}"
        raise FetchError(msg) from e
    except urllib.error.URLError as e:
        msg = f"cannot reach {url} ({_reason(e.reason)})"
        raise FetchError(msg) from e
    except TimeoutError as e:
        msg = f"cannot reach {url} (no answer within {timeout:g} s)"
        raise FetchError(msg) from e
    except (OSError, ValueError) as e:
        if isinstance(e, FetchError):
            raise
        msg = f"downloading {url} failed ({type(e).__name__}: {e})"
        raise FetchError(msg) from e
    if size == 0:
        msg = f"{url} returned an empty file"
        raise FetchError(msg)
    return digest.hexdigest()


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def resolve_source(
    source: str, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES
) -> Path:
    """A local PDF path for `source`: a path, an http(s) URL or an arXiv id.

    Raises:
        IngestError: the path does not exist, the id is malformed, or the download failed.
    """
    text = source.strip()
    arxiv_id = parse_arxiv_id(text)
    if arxiv_id is not None and not Path(text).expanduser().exists():
        return _fetch_arxiv(arxiv_id, timeout=timeout, max_bytes=max_bytes)
    if re.match(r"^https?://", text, re.IGNORECASE):
        return download(
            text, paths.papers_dir() / _file_name_for(text), timeout=timeout, max_bytes=max_bytes
        )
    path = Path(text).expanduser()
    if path.exists():
        return path
    if looks_like_arxiv_id(text):
        msg = f"{text!r} is not a valid arXiv id (expected e.g. 2405.04517 or 2405.04517v2)"
        raise IngestError(msg)
    msg = f"{text}: no such file (pass a PDF path, an http(s) URL or an arXiv id)"
    raise IngestError(msg)


def _fetch_arxiv(arxiv_id: str, *, timeout: float, max_bytes: int) -> Path:
    entry = find_by_arxiv_id(arxiv_id)
    if entry is not None:
        return fetch_entry(entry, timeout=timeout, max_bytes=max_bytes)
    file_name = arxiv_id.replace("/", "_") + ".pdf"
    local = find_local(file_name)
    if local is not None:
        return local
    try:
        return download(
            pdf_url(arxiv_id), paths.papers_dir() / file_name, timeout=timeout, max_bytes=max_bytes
        )
    except FetchError as e:
        msg = f"arXiv {arxiv_id}: {e}; {_where_to_put(file_name)}"
        raise FetchError(msg) from e


def _file_name_for(url: str) -> str:
    """A safe local file name for a downloaded URL ("paper.pdf" when the URL has none)."""
    arxiv_id = parse_arxiv_id(url)
    if arxiv_id:
        return arxiv_id.replace("/", "_") + ".pdf"
    name = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path)).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "paper"
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"
