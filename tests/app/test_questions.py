"""The question set: schema, ids, counts, and (integration) evidence pages against the paper."""

import json
import re
from collections import Counter

import pytest

from app.question_set import DEFAULT_QUESTIONS, QUESTION_TYPES, load_questions
from tests.conftest import mirror_pdf

PAPER = "xlstm-2405.04517v2.pdf"
PAPER_PAGES = 55
REQUIRED_QUESTIONS = (
    "What are the major improvements over the previous or vanilla LSTM architecture?",
    "What are the major improvements over the previous or vanilla LSTM architecture? "
    "Answer in bullet points.",
)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_schema(rows):
    for row in rows:
        assert isinstance(row["id"], str) and row["id"], row
        assert isinstance(row["question"], str) and row["question"].strip(), row
        assert isinstance(row["reference_answer"], str) and row["reference_answer"], row
        assert isinstance(row["answerable"], bool), row
        assert row["type"] in QUESTION_TYPES, row
        assert (row["type"] == "unanswerable") is (not row["answerable"]), row
        for item in row["evidence"]:
            assert set(item) == {"paper", "page"}, row
            assert item["paper"] == PAPER and 1 <= item["page"] <= PAPER_PAGES, row
        if row["answerable"]:
            assert row["evidence"] and row["key_terms"], row
            assert all(isinstance(t, str) and t for t in row["key_terms"]), row
        else:
            assert row["evidence"] == [], row


def test_ids_unique_and_loader_accepts_the_file(rows):
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    assert [q.id for q in load_questions(DEFAULT_QUESTIONS)] == ids


def test_counts_and_coverage(rows):
    types = Counter(row["type"] for row in rows)
    assert len(rows) >= 40
    assert types["unanswerable"] >= 4
    assert all(types[t] >= 4 for t in QUESTION_TYPES), types


def test_required_questions_present(rows):
    questions = {row["question"] for row in rows}
    assert set(REQUIRED_QUESTIONS) <= questions


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()


@pytest.fixture(scope="module")
def page_texts() -> dict[int, str]:
    path = mirror_pdf(PAPER)
    if path is None:
        pytest.skip(f"{PAPER} not in any paper mirror (XRAG_PAPER_MIRRORS or ../shared/papers)")
    from pypdf import PdfReader

    texts = {}
    for number, page in enumerate(PdfReader(path).pages, start=1):
        raw = page.extract_text() or ""
        dehyphenated = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", raw)
        texts[number] = _normalise(raw) + "\n" + _normalise(dehyphenated)
    return texts


@pytest.mark.integration
def test_every_key_term_is_on_an_evidence_page(rows, page_texts):
    assert len(page_texts) == PAPER_PAGES
    missing = []
    for row in rows:
        pages = [page_texts[item["page"]] for item in row["evidence"]]
        for term in row.get("key_terms", []):
            if not any(_normalise(term) in text for text in pages):
                missing.append((row["id"], term))
    assert not missing


@pytest.mark.integration
def test_every_evidence_page_holds_a_key_term(rows, page_texts):
    empty = []
    for row in rows:
        terms = [_normalise(t) for t in row.get("key_terms", [])]
        for item in row["evidence"]:
            if not any(term in page_texts[item["page"]] for term in terms):
                empty.append((row["id"], item["page"]))
    assert not empty
