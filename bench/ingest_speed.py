"""Ingestion speed: `python -m bench.ingest_speed [--all]`.

Ingests the default paper (or, with --all, every PDF in the mirrors) into a throwaway store and
prints pages/s, chunks/s and where the time goes: extraction (pypdf + cleaning), chunking,
embedding, storing. The embedding model is loaded once up front and timed separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ingest import fetch
from ingest.embeddings import DEFAULT_BATCH_SIZE, load_embeddings
from ingest.errors import IngestError
from ingest.pipeline import SourceResult, ingest_sources
from ingest.settings import IngestSettings


def _papers(all_papers: bool) -> list[Path]:
    if not all_papers:
        return fetch.resolve_default_papers("store")
    by_name: dict[str, Path] = {}
    for folder in fetch.search_folders():
        for pdf in sorted(folder.glob("*.pdf")) if folder.is_dir() else []:
            by_name.setdefault(pdf.name, pdf)
    return sorted(by_name.values(), key=lambda p: p.name)


def _row(name: str, r: SourceResult) -> str:
    t = r.timings
    total = sum(t.get(k, 0.0) for k in ("extract", "chunk", "embed", "store"))
    cpu = sum(t.get(k, 0.0) for k in ("extract_cpu", "embed_cpu", "store_cpu"))
    return (
        f"{name[:32]:32} {r.pages:5d} {r.chunks_added:6d} {t.get('extract', 0):8.2f} "
        f"{t.get('embed', 0):7.2f} {t.get('store', 0):7.2f} {total:7.2f} "
        f"{r.pages / total if total else 0:7.1f} {r.chunks_added / total if total else 0:8.1f}"
        f"   | cpu s: {t.get('extract_cpu', 0):6.2f} {t.get('embed_cpu', 0):7.2f} "
        f"{t.get('store_cpu', 0):6.2f} {cpu:7.2f}"
    )


def run(papers: list[Path], settings: IngestSettings) -> Iterator[SourceResult]:
    """Ingests `papers` into a temporary store, yielding each paper's result as it is done."""
    from ingest.store import open_store

    embeddings = load_embeddings(settings.embedding_model)
    with tempfile.TemporaryDirectory(prefix="xrag-bench-") as tmp:
        saved = {
            k: os.environ.pop(k, None) for k in ("CHROMA_HOST", "CHROMA_PORT", "XRAG_DATA_DIR")
        }
        os.environ["XRAG_DATA_DIR"] = tmp
        try:
            with open_store(settings, embeddings) as store:
                for paper in papers:
                    yield ingest_sources([str(paper)], store, settings).results[0]
        finally:
            os.environ.pop("XRAG_DATA_DIR")
            os.environ.update({k: v for k, v in saved.items() if v is not None})


def _chunk_texts(paper: Path, settings: IngestSettings) -> list[str]:
    """The texts ingestion embeds for `paper`."""
    from ingest.chunking import PaperMeta, chunk_pages
    from ingest.pdf_text import read_pdf

    content = read_pdf(paper)
    meta = PaperMeta("bench", paper.name, "", "", "", content.num_pages)
    size, overlap = settings.chunk_size, settings.chunk_overlap
    return [d.page_content for d in chunk_pages(content.pages, meta, size, overlap, content.tables)]


def compare_batch_sizes(texts: list[str], sizes: list[int]) -> None:
    """Embedding throughput of the packaged model per batch size (wall and CPU seconds)."""
    model = load_embeddings()
    default = model.batch_size
    for size in sizes:
        model.batch_size = size
        t0, c0 = time.perf_counter(), time.process_time()
        model.embed_documents(texts)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"batch_size {size:4d}: {len(texts) / wall:6.1f} chunks/s "
            f"({wall:.1f} s wall, {cpu:.1f} s cpu)"
        )
    model.batch_size = default


def _since(t0: float) -> float:
    return time.perf_counter() - t0


def compare_embedders(texts: list[str], batch_size: int) -> None:
    """The packaged MiniLM in plain torch (`ingest.minilm`) against sentence-transformers on
    the same texts and forward batch size, side by side in one process: load (import
    included), embed, agreement."""
    import numpy as np

    from ingest.embeddings import _default_model_path
    from ingest.minilm import MiniLMEmbeddings

    folder = _default_model_path()
    t0 = time.perf_counter()
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(folder), device="cpu")
    load_st = _since(t0)
    t0 = time.perf_counter()
    plain = MiniLMEmbeddings(folder, batch_size)
    load_plain = _since(t0)
    t0 = time.perf_counter()
    expected = reference.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    print(f"{'sentence-transformers':28} load {load_st:5.1f} s  embed {_since(t0):5.1f} s")
    t0 = time.perf_counter()
    vectors = np.array(plain.embed_documents(texts))
    print(f"{'plain torch (ingest.minilm)':28} load {load_plain:5.1f} s  embed {_since(t0):5.1f} s")
    cosine = (vectors * expected).sum(axis=1).min()
    print(f"{len(texts)} texts, batch {batch_size}: min cosine between the two {cosine:.7f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_speed", description=__doc__)
    parser.add_argument("--all", action="store_true", help="every PDF in the mirrors")
    parser.add_argument("--batch-size", type=int, default=IngestSettings().batch_size)
    parser.add_argument(
        "--compare-batch-sizes",
        metavar="N,N,...",
        help="also time embedding alone at these batch sizes",
    )
    parser.add_argument(
        "--compare-embedders",
        action="store_true",
        help="also time plain-torch MiniLM against sentence-transformers on the paper's chunks",
    )
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    settings = replace(IngestSettings(), batch_size=args.batch_size)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        papers = _papers(args.all)
    except IngestError as e:  # FetchError: no mirror, no network
        print(f"error: {e}", file=sys.stderr)
        return 2
    load1, load5, load15 = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load1:.1f} {load5:.1f} {load15:.1f}; "
        f"chunk {settings.chunk_size}/{settings.chunk_overlap}, batch {settings.batch_size}"
    )
    t0 = time.perf_counter()
    load_embeddings(settings.embedding_model).embed_query("warm up")
    print(f"embedding model load: {time.perf_counter() - t0:.1f} s (once per process)")
    print(
        f"{'paper':32} {'pages':>5} {'chunks':>6} {'extract':>8} {'embed':>7} {'store':>7} "
        f"{'total':>7} {'pages/s':>7} {'chunks/s':>8}   | cpu s: extract embed store total"
    )
    results = []
    for path, result in zip(papers, run(papers, settings), strict=True):
        results.append(result)
        failed = result.status == "failed"
        print(f"{path.name}: {result.error}" if failed else _row(path.name, result), flush=True)
    ok = [r for r in results if r.status != "failed"]
    if len(ok) > 1:
        total = SourceResult(
            "all",
            "added",
            pages=sum(r.pages for r in ok),
            chunks_added=sum(r.chunks_added for r in ok),
        )
        keys = ("extract", "chunk", "embed", "store", "extract_cpu", "embed_cpu", "store_cpu")
        total.timings = {k: sum(r.timings.get(k, 0.0) for r in ok) for k in keys}
        print(_row(f"TOTAL ({len(ok)} papers)", total))
    if args.compare_batch_sizes or args.compare_embedders:
        texts = _chunk_texts(papers[0], settings)
        if args.compare_batch_sizes:
            compare_batch_sizes(texts, [int(s) for s in args.compare_batch_sizes.split(",")])
        if args.compare_embedders:
            compare_embedders(texts, DEFAULT_BATCH_SIZE)
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
