"""The ingest measurement tools: chunk-size tuning metrics and the ingestion-speed bench."""

from __future__ import annotations

import json
from pathlib import Path

from bench import ingest_speed, tune_chunks
from ingest.pdf_text import extract_pages
from tests.ingest.fakes import FakeEmbeddings
from tests.ingest.pdf_factory import make_text_pdf


def test_tune_chunks_scores_evidence_pages(tmp_path: Path) -> None:
    topics = ["zebras graze on savanna grass", "glaciers store ancient ice", "volcanoes erupt lava"]
    pdf = make_text_pdf(tmp_path / "p.pdf", [f"{t}. " * 12 for t in topics])
    pages = {"p.pdf": extract_pages(pdf)}
    questions_file = tmp_path / "q.jsonl"
    lines = [
        {"question": "where is ancient ice stored?", "evidence": [{"paper": "p.pdf", "page": 2}]},
        {"question": "what do volcanoes do?", "evidence": [{"paper": "p.pdf", "page": 3}]},
        {"question": "unanswerable", "evidence": []},
    ]
    questions_file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    questions = tune_chunks.load_questions(questions_file)
    assert len(questions) == 2  # the one without evidence is not scored
    result = tune_chunks.evaluate_size(pages, questions, FakeEmbeddings(), 120, 20, k=1)
    assert result["bm25"] == {"hit": 1.0, "mrr": 1.0}
    assert result["hybrid"]["hit"] == 1.0 and result["chunks"] >= 3


def test_bench_without_the_paper_is_a_one_line_error(data_dir: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XRAG_PAPER_MIRRORS", str(data_dir / "no-mirror"))
    assert ingest_speed.main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: xlstm-2405.04517v2.pdf") and "XRAG_PAPER_MIRRORS" in err
    assert len(err.splitlines()) == 1
