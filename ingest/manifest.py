"""The default papers: `ingest/manifest.tsv` (file, arXiv id, title, URL, sha256, role)."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from ingest.arxiv import base_id, pdf_url
from ingest.errors import IngestError

MANIFEST_PATH = Path(__file__).with_name("manifest.tsv")
ROLES = ("store", "corpus")
_COLUMNS = ("file", "arxiv_id", "title", "url", "sha256", "role")


@dataclass(frozen=True)
class ManifestEntry:
    """One default paper."""

    file: str  # file name in data/papers and in the mirrors
    arxiv_id: str  # with version ("2405.04517v2"); "" for papers not on arXiv
    title: str
    url: str  # canonical download URL
    sha256: str
    role: str  # "store" (ingested by default) or "corpus" (LM training corpus)

    @property
    def base_id(self) -> str:
        """The arXiv id without version ("" when not on arXiv)."""
        return base_id(self.arxiv_id) if self.arxiv_id else ""

    def download_url(self) -> str:
        """The URL to fetch: arXiv papers honour `$XRAG_ARXIV_URL`."""
        return pdf_url(self.arxiv_id) if self.arxiv_id else self.url


def load_manifest(path: Path | None = None) -> list[ManifestEntry]:
    """The entries of the manifest at `path` (default: the packaged `ingest/manifest.tsv`)."""
    return list(_load(Path(path or MANIFEST_PATH).resolve()))


@functools.cache
def _load(path: Path) -> tuple[ManifestEntry, ...]:
    try:
        lines = [
            ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")
        ]
    except OSError as e:
        msg = f"cannot read the paper manifest {path}: {e.strerror}"
        raise IngestError(msg) from e
    rows = list(csv.DictReader(lines, delimiter="\t"))
    entries = []
    for number, row in enumerate(rows, start=2):
        if tuple(row) != _COLUMNS or row["role"] not in ROLES or len(row["sha256"]) != 64:
            msg = f"{path.name} row {number} is malformed; expected columns {', '.join(_COLUMNS)}"
            raise IngestError(msg)
        entries.append(ManifestEntry(**{k: (row[k] or "").strip() for k in _COLUMNS}))
    return tuple(entries)


def entries_for(role: str | None = None) -> list[ManifestEntry]:
    """Entries with `role` ("store" or "corpus"), or all of them when None."""
    if role is not None and role not in ROLES:
        msg = f"unknown manifest role {role!r}; choose one of {', '.join(ROLES)}"
        raise ValueError(msg)
    return [e for e in load_manifest() if role is None or e.role == role]


def find_by_sha256(sha256: str) -> ManifestEntry | None:
    """The manifest entry whose file has this content, or None."""
    return next((e for e in load_manifest() if e.sha256 == sha256), None)


def find_by_arxiv_id(arxiv_id: str) -> ManifestEntry | None:
    """The entry for `arxiv_id`: exact version if given, else by id without version."""
    entries = load_manifest()
    exact = next((e for e in entries if e.arxiv_id and e.arxiv_id == arxiv_id), None)
    if exact or arxiv_id != base_id(arxiv_id):
        return exact
    return next((e for e in entries if e.base_id == arxiv_id), None)
