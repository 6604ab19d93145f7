"""Training corpus: find documents, extract text, split train/validation, sample token blocks.

This is the model package's one seam to `ingest`: the paper files and data folders
(`ingest.paths`, `ingest.fetch`), the PDF text extractor (`ingest.pdf_text`), and the project's one
sentence splitter and stop-word set (`split_sentences`, `STOP_WORDS`, used by `qa_data`). No other
module of `xlstm_model` imports `ingest`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ingest.sentences import split_sentences
from ingest.words import STOP_WORDS, acronym_pairs  # noqa: F401  (the one seam to ingest)
from xlstm_model.errors import ModelError
from xlstm_model.files import atomic_write_text

logger = logging.getLogger(__name__)

__all__ = ["STOP_WORDS", "split_sentences"]  # for qa_data; the rest is public by name

UNITS_VERSION = "2"  # bump when `corpus_units` changes, so cached units are rebuilt

TEXT_SUFFIXES = (".txt", ".md")
CORPUS_SUFFIXES = (".pdf", *TEXT_SUFFIXES)


@dataclass(frozen=True)
class Document:
    """One corpus document as plain text."""

    name: str
    text: str


def resolve_run_dir(out: str) -> Path:
    """The run directory `out`; "default" is the app's model (`data/models/default`)."""
    if out == "default":
        from ingest.paths import default_model_dir

        return default_model_dir()
    return Path(out).expanduser().resolve()


def data_dir() -> Path:
    """The runtime data folder (`ingest.paths.data_dir`)."""
    from ingest.paths import data_dir as ingest_data_dir

    return ingest_data_dir()


def token_encoder():
    """The packaged MiniLM (`ingest.minilm.MiniLMEmbeddings`, with `embed_tokens`) whose token
    states the token reader reads; ModelError when it cannot be loaded."""
    from ingest.embeddings import load_embeddings
    from ingest.errors import IngestError

    try:
        return load_embeddings(None)
    except IngestError as e:
        raise ModelError(str(e)) from e


def read_corpus(spec: list[str]) -> tuple[list[Path], list[str]]:
    """(files, texts) of the corpus `spec` (see `resolve_corpus`); PDF text is cached."""
    from ingest.paths import data_dir

    files = resolve_corpus(spec)
    docs = load_documents(files, cache_dir=data_dir() / "cache" / "corpus_text")
    return files, [d.text for d in docs]


def resolve_corpus(spec: list[str]) -> list[Path]:
    """Corpus files from `spec`: ["default"], or files and folders (searched for .pdf/.txt/.md)."""
    if spec == ["default"]:
        paths = _default_corpus_files()
    else:
        paths = [p for item in spec for p in _files_under(Path(item).expanduser())]
    if not paths:
        msg = f"the corpus {' '.join(spec)!r} holds no .pdf, .txt or .md files; pass --corpus DIR"
        raise ModelError(msg)
    return paths


def _files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in CORPUS_SUFFIXES)
    msg = f"corpus path {path} does not exist"
    raise ModelError(msg)


def _default_corpus_files() -> list[Path]:
    """Every paper of the ingest manifest (local, mirrored or fetched), else every mirrored PDF."""
    try:
        from ingest.fetch import resolve_default_papers
    except ImportError:  # an ingest package without a manifest: glob the paper folders
        return _mirrored_pdfs()
    try:
        return list(resolve_default_papers())
    except Exception as e:  # ingest's FetchError/IngestError carry a one-line message
        msg = f"the default corpus is incomplete: {e}"
        raise ModelError(msg) from e


def _mirrored_pdfs() -> list[Path]:
    from ingest.paths import paper_mirrors, papers_dir

    by_name: dict[str, Path] = {}
    for folder in [papers_dir(), *paper_mirrors()]:
        for pdf in sorted(folder.glob("*.pdf")) if folder.is_dir() else []:
            by_name.setdefault(pdf.name, pdf)
    return _latest_versions(sorted(by_name.values(), key=lambda p: p.name))


def _latest_versions(paths: list[Path]) -> list[Path]:
    """Drops older arXiv versions (name-2405.04517v1.pdf when ...v2.pdf is present)."""
    latest: dict[str, tuple[int, Path]] = {}
    for path in paths:
        match = re.fullmatch(r"(.*\d{4}\.\d{4,5})v(\d+)", path.stem)
        key, version = (match.group(1), int(match.group(2))) if match else (path.stem, 0)
        if key not in latest or version > latest[key][0]:
            latest[key] = (version, path)
    return sorted((p for _, p in latest.values()), key=lambda p: p.name)


def load_documents(paths: list[Path], cache_dir: Path | None = None) -> list[Document]:
    """Reads every file as text (PDFs through the ingest text extractor), skipping empty ones."""
    docs = []
    for path in paths:
        text = _read_pdf_cached(path, cache_dir) if path.suffix.lower() == ".pdf" else None
        if text is None:
            text = path.read_text(encoding="utf-8", errors="replace")
        text = normalize_text(text)
        if text:
            docs.append(Document(name=path.name, text=text))
        else:
            logger.warning("skipping %s: no text", path)
    if not docs:
        msg = f"the corpus ({len(paths)} files) has no text; pass files with extractable text"
        raise ModelError(msg)
    return docs


def normalize_text(text: str) -> str:
    """Joins line-end hyphenation; collapses whitespace within lines, keeps line breaks."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line).strip()


def _read_pdf_cached(path: Path, cache_dir: Path | None) -> str:
    if cache_dir is None:
        return _extract_pdf_text(path)
    stat = path.stat()
    identity = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{_extractor_version()}"
    key = hashlib.sha1(identity.encode()).hexdigest()
    cached = cache_dir / f"{key}.txt"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    text = _extract_pdf_text(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cached, text)
    return text


def _extractor_version() -> str:
    """Which text extractor (and cleaning version) produced a cached text."""
    from ingest.pdf_text import TEXT_VERSION

    return f"ingest-{TEXT_VERSION}"


def _extract_pdf_text(path: Path) -> str:
    from ingest.pdf_text import extract_pages

    try:
        pages = extract_pages(path)
    except Exception as e:  # ingest raises IngestError with a one-line message
        msg = f"cannot read {path.name}: {e}"
        raise ModelError(msg) from e
    return "\n".join(page.text for page in pages)


@dataclass
class TokenSplit:
    """Concatenated token streams (documents separated by end-of-text)."""

    train: torch.Tensor  # (N_train,) int64
    val: torch.Tensor  # (N_val,) int64


def split_tokens(docs: list[list[int]], eot_id: int, val_fraction: float = 0.05) -> TokenSplit:
    """Holds out the last `val_fraction` of every document's tokens for validation."""
    train: list[int] = []
    val: list[int] = []
    for ids in docs:
        n_val = int(len(ids) * val_fraction)
        cut = len(ids) - n_val
        train += [*ids[:cut], eot_id]
        if n_val:
            val += [*ids[cut:], eot_id]
    return TokenSplit(torch.tensor(train, dtype=torch.long), torch.tensor(val, dtype=torch.long))


def check_split(split: TokenSplit, context_length: int, batch_size: int) -> None:
    """Raises ModelError when the corpus is smaller than a batch or has no validation block."""
    needed = batch_size * context_length + 1
    if len(split.train) < needed:
        msg = (
            f"the corpus has {len(split.train)} training tokens, fewer than one batch "
            f"({batch_size} x {context_length}); add text or use a smaller --config"
        )
        raise ModelError(msg)
    if len(split.val) < context_length + 1:
        msg = (
            f"the corpus holds out only {len(split.val)} validation tokens, fewer than one "
            f"block of {context_length + 1}; add text"
        )
        raise ModelError(msg)


def val_blocks(val: torch.Tensor, context_length: int, max_blocks: int) -> torch.Tensor:
    """Non-overlapping (x, y) windows of the validation stream: (n, context_length + 1)."""
    n = min((len(val) - 1) // context_length, max_blocks)
    starts = torch.arange(n) * context_length
    return torch.stack([val[s : s + context_length + 1] for s in starts.tolist()])


class BlockSampler:
    """Shuffled windows of the training stream, restartable from `state_dict()`.

    Every epoch shifts the window grid by a random offset and permutes the windows; a global
    batch of `batch_size * world_size` windows is split so that rank r takes the r-th slice.
    """

    def __init__(
        self,
        tokens: torch.Tensor,
        context_length: int,
        batch_size: int,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.tokens, self.context_length, self.batch_size = tokens, context_length, batch_size
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch, self.cursor = 0, 0
        self._starts = self._epoch_starts(0)

    def _epoch_starts(self, epoch: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        ctx, n = self.context_length, len(self.tokens)
        offset = int(torch.randint(0, ctx, (1,), generator=gen))
        if (n - 1 - offset) // ctx < self.batch_size * self.world_size:
            offset = 0
        starts = torch.arange(offset, n - ctx, ctx)
        return starts[torch.randperm(len(starts), generator=gen)]

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets), each (batch_size, context_length)."""
        global_batch = self.batch_size * self.world_size
        if self.cursor + global_batch > len(self._starts):
            self.epoch, self.cursor = self.epoch + 1, 0
            self._starts = self._epoch_starts(self.epoch)
        first = self.cursor + self.rank * self.batch_size
        starts = self._starts[first : first + self.batch_size]
        self.cursor += global_batch
        windows = torch.stack([self.tokens[s : s + self.context_length + 1] for s in starts])
        return windows[:, :-1], windows[:, 1:]

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._starts = self._epoch_starts(self.epoch)


# -- evidence units (the reader stage's data): sentences, captions, equations, table rows


@dataclass(frozen=True)
class Unit:
    """One evidence unit of a paper, as the answer path's reader sees it."""

    paper: str  # file name
    kind: str  # ingest.units.KINDS: text, table_row, caption, equation, reference, heading, table
    text: str
    section: str = ""
    page: int = 0
    caption: str = ""  # table rows: the table's caption
    table: str = ""  # table rows: "Table 1"


def corpus_units(files: list[Path], cache_dir: Path | None = None) -> list[Unit]:
    """Every paper's units in order: PDFs through ingest's unit kinds and table parser (each
    prose segment cut into sentences), text files as sentences of kind text. Cached per file."""
    units: list[Unit] = []
    for path in files:
        units += _units_cached(path, cache_dir)
    return units


def _units_cached(path: Path, cache_dir: Path | None) -> list[Unit]:
    import json

    if cache_dir is None:
        return _file_units(path)
    stat = path.stat()
    identity = (
        f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{_extractor_version()}:{UNITS_VERSION}"
    )
    cached = cache_dir / f"{hashlib.sha1(identity.encode()).hexdigest()}.units.json"
    if cached.is_file():
        return [Unit(**row) for row in json.loads(cached.read_text(encoding="utf-8"))]
    units = _file_units(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cached, json.dumps([u.__dict__ for u in units]))
    return units


def _file_units(path: Path) -> list[Unit]:
    if path.suffix.lower() != ".pdf":
        text = normalize_text(path.read_text(encoding="utf-8", errors="replace"))
        return _sentence_units(path.name, "text", text.replace("\n", " "), "", 0)
    from ingest.pdf_text import read_pdf
    from ingest.units import page_segments, table_units

    try:
        content = read_pdf(path)
    except Exception as e:  # ingest raises IngestError with a one-line message
        msg = f"cannot read {path.name}: {e}"
        raise ModelError(msg) from e
    units: list[Unit] = []
    for page in content.pages:
        for seg in page_segments(page):
            section = page.section_at(seg.start) or ""
            units += _sentence_units(path.name, seg.kind, seg.text, section, page.page)
    for table in content.tables:
        for kind, text, extra in table_units(table):
            if kind == "table_row":
                caption, name = extra.get("caption") or "", extra.get("table_name") or ""
                units.append(Unit(path.name, kind, text, "", table.page, caption, name))
    return units


def _sentence_units(paper: str, kind: str, text: str, section: str, page: int) -> list[Unit]:
    """A segment's sentences (prose that is display maths becomes kind equation)."""
    from ingest.units import chunk_kind

    text = " ".join(text.split())
    if kind in ("heading", "caption", "reference"):
        return [Unit(paper, kind, text, section, page)] if text else []
    return [
        Unit(paper, chunk_kind(kind, s), s, section, page)
        for s in split_sentences(text, min_chars=1)
    ]
