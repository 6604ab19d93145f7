"""`python -m ingest`: add papers to the store, list them, remove them.

python -m ingest                        # the default paper(s) of the manifest
python -m ingest paper.pdf https://... 2405.04517 [--collection NAME] [--chunk-size N]
python -m ingest --list
python -m ingest --remove PAPER         # paper_id, file name, arXiv id or title
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace

from tqdm import tqdm

from ingest.embeddings import LazyEmbeddings
from ingest.errors import IngestError
from ingest.fetch import resolve_default_papers
from ingest.pipeline import IngestReport, ingest_sources
from ingest.settings import IngestSettings
from ingest.store import open_store

logger = logging.getLogger("ingest")


def build_parser() -> argparse.ArgumentParser:
    defaults = IngestSettings()
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Ingest papers (PDF paths, URLs or arXiv ids) into the paper store. "
        "Without sources: the default paper(s) from ingest/manifest.tsv.",
    )
    parser.add_argument("sources", nargs="*", metavar="PDF|URL|ARXIV_ID")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the stored papers")
    action.add_argument(
        "--remove", metavar="PAPER", help="remove a paper (id, file, arXiv id, title)"
    )
    parser.add_argument("--collection", default=defaults.collection)
    parser.add_argument("--chunk-size", type=int, default=defaults.chunk_size, metavar="N")
    parser.add_argument("--chunk-overlap", type=int, default=defaults.chunk_overlap, metavar="N")
    parser.add_argument(
        "--embedding-model",
        default=None,
        metavar="NAME_OR_PATH",
        help="sentence-transformers model (default: the packaged MiniLM)",
    )
    parser.add_argument("--max-mb", type=float, default=defaults.max_bytes / 1e6, metavar="MB")
    parser.add_argument("--max-pages", type=int, default=defaults.max_pages, metavar="N")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, metavar="N")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (1 when any source failed)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = _settings(args)
    except ValueError as e:
        parser.error(str(e))
    if (args.list or args.remove) and args.sources:
        parser.error("--list and --remove take no sources")
    try:
        if args.list:
            return _list(settings)
        if args.remove:
            return _remove(settings, args.remove)
        return _ingest(settings, args.sources, quiet=args.quiet)
    except IngestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted; a partly ingested paper stays invisible and is purged on the next run",
            file=sys.stderr,
        )
        return 130


def _settings(args: argparse.Namespace) -> IngestSettings:
    return replace(
        IngestSettings(),
        collection=args.collection,
        chunk_size=args.chunk_size,
        chunk_overlap=args.chunk_overlap,
        embedding_model=args.embedding_model,
        max_bytes=int(args.max_mb * 1e6),
        max_pages=args.max_pages,
        batch_size=args.batch_size,
    )


def _ingest(settings: IngestSettings, sources: list[str], quiet: bool) -> int:
    if not sources:
        sources = [str(p) for p in resolve_default_papers("store", settings.download_timeout)]
    bars = _ProgressBars(disabled=quiet)
    # The model loads only if something needs embedding (a re-run of a stored paper does not).
    with open_store(settings, LazyEmbeddings(settings.embedding_model)) as store:
        report = ingest_sources(sources, store, settings, progress=bars)
    bars.close()
    _print_report(report)
    return 0 if report.ok else 1


def _print_report(report: IngestReport) -> None:
    for r in report.results:
        if r.status == "failed":
            print(f"error: {r.error}", file=sys.stderr)
        elif r.status == "duplicate":
            print(f"skipped {r.source}: {r.error}")
        else:
            detail = f"{r.chunks_added} chunks" if r.chunks_added else "already stored"
            print(f"{r.status} {r.file_name or r.source} ({r.title}): {detail}")
    print(f"ingest: {report.summary()}")


def _list(settings: IngestSettings) -> int:
    with open_store(settings, LazyEmbeddings(settings.embedding_model)) as store:
        papers = store.list_papers()
        location = store.location
    if not papers:
        print(f"no papers in collection {settings.collection!r} at {location}")
        return 0
    print(f"{'paper_id':16}  {'arXiv':12}  {'pages':>5}  {'chunks':>6}  title (file)")
    for p in papers:
        print(
            f"{p.paper_id:16}  {p.arxiv_id or '-':12}  {p.pages:5d}  {p.chunks:6d}  "
            f"{p.title} ({p.source})"
        )
    return 0


def _remove(settings: IngestSettings, paper: str) -> int:
    with open_store(settings, LazyEmbeddings(settings.embedding_model)) as store:
        matches = store.find_papers(paper)
        removed = store.remove_paper(paper)
    if not matches:
        print(
            f"error: no stored paper matches {paper!r}; see python -m ingest --list",
            file=sys.stderr,
        )
        return 1
    for p in matches:
        print(f"removed {p.title} ({p.source}, {p.paper_id})")
    print(f"ingest: {len(matches)} paper(s), {removed} chunks removed")
    return 0


class _ProgressBars:
    """One tqdm bar per paper, fed by the pipeline's progress callback."""

    def __init__(self, disabled: bool) -> None:
        self.disabled = disabled
        self.bar: tqdm | None = None
        self.source = ""

    def __call__(self, *, source: str, stage: str, done: int, total: int, **_: object) -> None:
        if self.disabled:
            return
        if source != self.source or self.bar is None:
            self.close()
            self.source = source
            self.bar = tqdm(
                total=total, desc=source[:40], unit="chunk", file=sys.stderr, dynamic_ncols=True
            )
        self.bar.set_postfix_str(stage, refresh=False)
        if self.bar.total != total:
            self.bar.reset(total=total)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
