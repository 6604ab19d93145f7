"""The question set: schema, ids, counts, the dev/test split, paper scopes, and (integration)
evidence pages against the paper."""

import json
import re
from collections import Counter

import pytest

from app.errors import UserError
from app.question_set import (
    DEFAULT_QUESTIONS,
    QUESTION_TYPES,
    SPLITS,
    Question,
    load_questions,
    scope_papers,
    select_split,
)
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


# --- the dev/test split and the paper scope ------------------------------------------------


def write_set(tmp_path, *objects) -> list[Question]:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(o) for o in objects) + "\n", encoding="utf-8")
    return load_questions(path)


def test_every_question_is_in_a_split_and_test_holds_enough(rows):
    assert all(row.get("split") in SPLITS for row in rows)
    test = [row for row in rows if row["split"] == "test"]
    assert sum(not row["answerable"] for row in test) >= 6
    written_first = [row for row in test if row["id"].startswith("xlstm-t")]
    assert len(written_first) >= 36 and all(row["split"] == "test" for row in written_first)


def test_loader_reads_split_and_defaults_to_none(tmp_path):
    dev, test, loose = write_set(
        tmp_path,
        {"id": "a", "question": "Why?", "split": "dev"},
        {"id": "b", "question": "How?", "split": "test"},
        {"id": "c", "question": "What?"},
    )
    assert (dev.split, test.split, loose.split) == ("dev", "test", None)


@pytest.mark.parametrize("bad", ["train", "Dev", 1, ""])
def test_a_bad_split_value_is_a_one_line_error_naming_the_line(tmp_path, bad):
    with pytest.raises(UserError) as info:
        write_set(tmp_path, {"question": "Why?"}, {"question": "How?", "split": bad})
    message = str(info.value)
    assert "set.jsonl:line 2: field 'split' must be" in message and "\n" not in message


def test_select_split(tmp_path):
    questions = write_set(
        tmp_path,
        {"id": "a", "question": "Why?", "split": "dev"},
        {"id": "b", "question": "How?", "split": "test"},
        {"id": "c", "question": "What?"},
    )
    assert [q.id for q in select_split(questions, "dev")] == ["a"]
    assert [q.id for q in select_split(questions, "test")] == ["b"]
    assert [q.id for q in select_split(questions, "all")] == ["a", "b", "c"]
    with pytest.raises(UserError, match="unknown split 'train'; choose dev, test or all"):
        select_split(questions, "train")
    with pytest.raises(UserError, match='no question has "split": "dev"'):
        select_split(questions[1:], "dev")


def test_scope_papers_uses_evidence_and_the_set_for_questions_without_any(tmp_path):
    questions = write_set(
        tmp_path,
        {"id": "a", "question": "A?", "evidence": [{"paper": "x.pdf", "page": 1}]},
        {
            "id": "b",
            "question": "B?",
            "evidence": [{"paper": "y.pdf", "page": 2}, {"paper": "y.pdf", "page": 3}],
        },
        {"id": "u", "question": "U?", "answerable": False},
    )
    assert questions[1].papers() == ("y.pdf",)
    assert scope_papers(questions) == {"a": ("x.pdf",), "b": ("y.pdf",), "u": ("x.pdf", "y.pdf")}
    assert scope_papers(questions[2:]) == {"u": ()}  # no paper named anywhere: unscoped
