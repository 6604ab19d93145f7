"""Two processes and one embedded store: refused, not corrupted; a killed ingest leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.errors import StoreBusyError
from ingest.pipeline import ingest_sources
from ingest.store import open_store
from tests.ingest.fakes import paper_pages
from tests.ingest.pdf_factory import make_text_pdf
from tests.ingest.store_worker import SETTINGS

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _worker(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.store_worker", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _ask(proc: subprocess.Popen, command: str) -> str:
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def test_second_process_is_refused_and_first_keeps_working(
    tmp_path: Path, data_dir: Path, fake_embeddings
) -> None:
    first = make_text_pdf(tmp_path / "zebras.pdf", paper_pages("zebras"), title="Zebra Stripes")
    with open_store(SETTINGS, fake_embeddings) as store:
        assert ingest_sources([str(first)], store).ok
    holder = _worker("hold")
    try:
        assert holder.stdout.readline().strip() == "READY", holder.stderr.read()
        with pytest.raises(StoreBusyError) as info:
            open_store(SETTINGS, fake_embeddings)
        message = str(info.value)
        assert f"in use by PID {holder.pid}" in message and "CHROMA_HOST" in message
        assert str(data_dir / "chroma") in message
        # The refused open touched nothing: the holder still reads and writes.
        assert _ask(holder, "query zebras") == "HITS 2"
        second = make_text_pdf(tmp_path / "glaciers.pdf", paper_pages("glaciers"), title="Glaciers")
        added = _ask(holder, f"add {second}")
        assert added.startswith("ADDED ") and added.endswith(" 1") and added != "ADDED 0 1"
        total = int(_ask(holder, "count").split()[1])
        _ask(holder, "quit")
        assert holder.wait(timeout=30) == 0
    finally:
        holder.kill()
    with open_store(SETTINGS, fake_embeddings) as store:  # free again, and intact
        assert len(store.all_documents()) == total
        assert sorted(p.source for p in store.list_papers()) == ["glaciers.pdf", "zebras.pdf"]


def test_killed_ingest_leaves_no_half_paper(
    tmp_path: Path, data_dir: Path, fake_embeddings
) -> None:
    keep = make_text_pdf(tmp_path / "keep.pdf", paper_pages("glaciers"), title="Glacier Ice Cores")
    with open_store(SETTINGS, fake_embeddings) as store:
        assert ingest_sources([str(keep)], store).ok
        kept = store.all_documents()
    big = make_text_pdf(tmp_path / "big.pdf", paper_pages("zebras", 8, 6), title="Zebra Stripes")
    marker = tmp_path / "first-batch-stored"
    proc = _worker(
        "ingest",
        str(big),
        env={"XRAG_TEST_BATCH_PAUSE": "0.3", "XRAG_TEST_BATCH_MARKER": str(marker)},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the worker never stored a batch"
            time.sleep(0.05)
        time.sleep(0.5)  # a few more batches
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    with open_store(SETTINGS, fake_embeddings) as store:
        assert [p.source for p in store.list_papers()] == ["keep.pdf"]
        assert store.all_documents() == kept
        assert store.count_chunks() == len(kept)  # the half paper's chunks were purged
        report = ingest_sources([str(big)], store)
        assert report.ok and report.results[0].status == "added"
        [added] = [p for p in store.list_papers() if p.source == "big.pdf"]
        assert store.count_chunks() == len(kept) + added.chunks
