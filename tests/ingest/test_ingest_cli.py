"""`python -m ingest`: ingest, list, remove, bad input, summary, exit codes."""

from __future__ import annotations

import re

import pytest

from ingest import cli
from ingest.settings import IngestSettings
from ingest.store import open_store
from tests.ingest.fakes import paper_pages
from tests.ingest.pdf_factory import (
    make_encrypted_pdf,
    make_image_pdf,
    make_text_pdf,
    make_truncated_pdf,
)


def _summary(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("ingest: "))


def test_ingest_list_remove(tmp_path, data_dir, fake_models, capsys) -> None:
    pdf = make_text_pdf(
        tmp_path / "zebra-2301.01234v1.pdf", paper_pages("zebras"), title="Zebra Stripes Explained"
    )
    assert cli.main([str(pdf), "-q", "--chunk-size", "200", "--chunk-overlap", "20"]) == 0
    summary = _summary(capsys.readouterr().out)
    assert re.fullmatch(
        r"ingest: 1 paper, 3 pages: \d+ chunks added, 0 skipped, 0 replaced; "
        r"0 failed; [\d.]+ s",
        summary,
    ), summary
    assert cli.main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert (
        "Zebra Stripes Explained (zebra-2301.01234v1.pdf)" in listing and "2301.01234v1" in listing
    )
    assert cli.main(["--remove", "2301.01234"]) == 0
    assert "removed Zebra Stripes Explained" in capsys.readouterr().out
    assert cli.main(["--remove", "2301.01234"]) == 1
    assert "no stored paper matches" in capsys.readouterr().err
    assert cli.main(["--list"]) == 0
    assert "no papers" in capsys.readouterr().out


def test_bad_inputs_fail_alone(tmp_path, data_dir, fake_models, capsys) -> None:
    settings = IngestSettings(chunk_size=300, chunk_overlap=50)
    kept = make_text_pdf(tmp_path / "kept.pdf", paper_pages("glaciers"), title="Glacier Ice Cores")
    assert cli.main([str(kept), "-q", "--chunk-size", "300", "--chunk-overlap", "50"]) == 0
    with open_store(settings) as store:
        before = store.all_documents()
    capsys.readouterr()
    good = make_text_pdf(tmp_path / "good.pdf", paper_pages("zebras"), title="Zebra Stripes")
    (tmp_path / "notes.pdf").write_text("plain text, not a PDF")
    (tmp_path / "empty.pdf").write_bytes(b"")
    bad = {
        "missing.pdf": str(tmp_path / "missing.pdf"),
        "notes.pdf": str(tmp_path / "notes.pdf"),
        "empty.pdf": str(tmp_path / "empty.pdf"),
        "cut.pdf": str(make_truncated_pdf(tmp_path / "cut.pdf", ["text"] * 3)),
        "locked.pdf": str(make_encrypted_pdf(tmp_path / "locked.pdf", ["secret"])),
        "scan.pdf": str(make_image_pdf(tmp_path / "scan.pdf")),
        "long.pdf": str(make_text_pdf(tmp_path / "long.pdf", ["page"] * 6)),
        "127.0.0.1:9": "http://127.0.0.1:9/paper.pdf",
        "2405.0451x": "2405.0451x",
    }
    argv = [
        str(good),
        *bad.values(),
        str(good),
        "-q",
        "--max-pages",
        "5",
        "--chunk-size",
        "300",
        "--chunk-overlap",
        "50",
    ]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(bad)
    for name, line in zip(bad, errors, strict=True):
        assert name in line, (name, line)
    summary = _summary(captured.out)
    assert "1 paper," in summary and f"; {len(bad)} failed;" in summary
    assert "same file as" in captured.out  # the good file given twice is ingested once
    with open_store(settings) as store:
        assert sorted(p.source for p in store.list_papers()) == ["good.pdf", "kept.pdf"]
        assert [d for d in store.all_documents() if d.metadata["source"] == "kept.pdf"] == before


def test_progress_bar_per_paper(tmp_path, data_dir, fake_models, capsys) -> None:
    pdf = make_text_pdf(tmp_path / "zebras.pdf", paper_pages("zebras"), title="Zebra Stripes")
    assert cli.main([str(pdf)]) == 0
    err = capsys.readouterr().err
    assert "zebras.pdf" in err and "chunk" in err  # tqdm's bar on stderr


def test_invalid_options_are_usage_errors(data_dir, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--chunk-size", "100", "--chunk-overlap", "100"])
    assert info.value.code == 2
    assert "chunk_overlap 100 must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--collection", "ab"])


def test_store_busy_is_one_line_error(tmp_path, data_dir, fake_models, capsys, monkeypatch) -> None:
    from ingest.errors import StoreBusyError

    def busy(*args, **kwargs):
        raise StoreBusyError("the store at X is in use by PID 1; stop it or use the Chroma server")

    monkeypatch.setattr(cli, "open_store", busy)
    assert cli.main(["--list"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: the store at X is in use by PID 1; stop it or use the Chroma server"
    )
