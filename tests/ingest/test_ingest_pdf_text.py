"""Text extraction and cleaning: generated PDFs and the cleaning steps one by one."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest

from ingest import text_clean
from ingest.errors import IngestError
from ingest.headings import HeadingTracker
from ingest.pdf_text import PageText, extract_pages, read_pdf
from tests.ingest.pdf_factory import (
    make_encrypted_pdf,
    make_image_pdf,
    make_text_pdf,
    make_truncated_pdf,
)


def test_text_pdf_round_trip(tmp_path: Path) -> None:
    pdf = make_text_pdf(
        tmp_path / "p.pdf", ["First page text.", "Second page text."], title="Tiny Paper"
    )
    pages = extract_pages(pdf)
    assert [(p.page, p.text) for p in pages] == [(1, "First page text."), (2, "Second page text.")]
    assert read_pdf(pdf).title == "Tiny Paper"


def test_pages_without_text_are_skipped_but_keep_physical_numbers(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    text = make_text_pdf(tmp_path / "t.pdf", ["Alpha page.", "Gamma page."])
    image = make_image_pdf(tmp_path / "i.pdf")
    writer = PdfWriter()
    reader = PdfReader(text)
    writer.add_page(reader.pages[0])
    writer.add_page(PdfReader(image).pages[0])
    writer.add_page(reader.pages[1])
    mixed = tmp_path / "mixed.pdf"
    writer.write(mixed)
    assert [(p.page, p.text) for p in extract_pages(mixed)] == [
        (1, "Alpha page."),
        (3, "Gamma page."),
    ]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "missing.pdf", "does not exist"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "notes.pdf", b"just some text, not a pdf"), "is not a PDF"),
        (lambda d: _write(d / "empty.pdf", b""), "is empty"),
        (lambda d: make_truncated_pdf(d / "cut.pdf", ["some text"] * 3), "damaged or truncated"),
        (lambda d: make_encrypted_pdf(d / "locked.pdf", ["secret"]), "password-protected"),
        (lambda d: make_image_pdf(d / "scan.pdf", 2), "no extractable text"),
    ],
    ids=["missing", "folder", "not-pdf", "empty", "truncated", "encrypted", "scanned"],
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path: Path, make, reason) -> None:
    path = make(tmp_path)
    with pytest.raises(IngestError, match=reason) as info:
        extract_pages(path)
    message = str(info.value)
    assert "\n" not in message and path.name in message


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_encrypted_with_empty_user_password_opens(tmp_path: Path) -> None:
    pdf = make_encrypted_pdf(tmp_path / "open.pdf", ["readable words"], user_password="")
    assert extract_pages(pdf)[0].text == "readable words"


def test_limits_on_pages_and_bytes(tmp_path: Path) -> None:
    pdf = make_text_pdf(tmp_path / "long.pdf", ["page"] * 5)
    with pytest.raises(IngestError, match="long.pdf has 5 pages, over the 4-page limit"):
        read_pdf(pdf, max_pages=4)
    with pytest.raises(IngestError, match="long.pdf is .* MB, over the"):
        read_pdf(pdf, max_bytes=100)


def test_pypdf_warnings_go_to_our_logger(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pdf = make_text_pdf(tmp_path / "w.pdf", ["Warned text."])
    data = pdf.read_bytes()
    broken = tmp_path / "broken-xref.pdf"
    broken.write_bytes(data.replace(b"startxref\n", b"startxref\n1").replace(b"%%EOF", b"%%EOF"))
    with caplog.at_level(logging.DEBUG, logger="ingest"):
        pages = extract_pages(broken)
    assert pages[0].text == "Warned text."
    assert any(r.name == "ingest.pdf_text" and "pypdf" in r.getMessage() for r in caplog.records)
    assert logging.getLogger("pypdf").propagate is False  # never printed by the root handler
    assert any(
        r.name == "ingest.pdf_text" and "2 pypdf warnings" in r.getMessage() for r in caplog.records
    )


# --- cleaning steps -------------------------------------------------------------------------


def test_normalize_ligatures_and_spaces() -> None:
    assert (
        text_clean.normalize("e\ufb03cient \ufb01eld\u00a0 of\u00adten\x00")
        == "efficient field often"
    )


def test_stamp_is_removed_and_its_id_kept() -> None:
    text, arxiv_id = text_clean.remove_stamp("Title\narXiv:2405.04517v2  [cs.LG]  6 Dec 2024\nBody")
    assert arxiv_id == "2405.04517v2" and "arXiv" not in text and "Body" in text


def test_running_headers_footers_and_page_numbers_are_dropped() -> None:
    bodies = [[f"{word} opens page.", "middle line", f"{word} ends page."] for word in "abcdef"]
    pages = [
        ["Published as a conference paper at ICLR 2022", *body, str(i)]
        for i, body in enumerate(bodies, start=1)
    ]
    repeated = text_clean.repeated_edge_lines(pages)
    cleaned = [text_clean.drop_page_furniture(lines, repeated) for lines in pages]
    assert cleaned == bodies


def test_hyphenation_joined_only_at_line_ends() -> None:
    words = Counter({"multi-layer": 2})
    blocks = text_clean.unwrap(
        ["We are build-", "ing xLSTM-7B with long-range memory and multi-", "layer gates."],
        set(),
        words,
    )
    assert blocks == [
        ("We are building xLSTM-7B with long-range memory and multi-layer gates.", False)
    ]
    assert text_clean.join_hyphenated("the xLSTM-", "7B model", Counter()) is None
    assert (
        text_clean.join_hyphenated("an xLSTM-", "based model", Counter()) == "an xLSTM-based model"
    )
    assert (
        text_clean.join_hyphenated("(Schmid-", "huber, 2015)", Counter()) == "(Schmidhuber, 2015)"
    )


def test_unwrap_keeps_paragraphs_captions_and_table_rows() -> None:
    lines = [
        "A paragraph that is wrapped over a long line of text in the PDF file",
        "and ends here.",
        "Figure 3: A caption.",
        "Model ppl params",
        "LSTM 2417.86 607.8",
        "xLSTM 13.48 408.4",
    ]
    blocks = text_clean.unwrap(lines, set(), Counter())
    assert [b for b, _ in blocks] == [
        "A paragraph that is wrapped over a long line of text in the PDF file and ends here.",
        "Figure 3: A caption.",
        "Model ppl params\nLSTM 2417.86 607.8\nxLSTM 13.48 408.4",
    ]


def test_a_figure_named_inside_a_sentence_starts_no_paragraph() -> None:
    lines = [
        "Finally, we measure the text generation time in",
        "Figure 9 and the maximal throughput for our variants.",
        "Figure 9 Generation times of the models (no colon, after a finished sentence)",
        "We compare the mLSTM in a post up-projection block (see",
        "Table 2: A caption after an unfinished line still opens a caption.",
    ]
    blocks = [b for b, _ in text_clean.unwrap(lines, set(), Counter())]
    assert blocks == [
        "Finally, we measure the text generation time in Figure 9 and the maximal throughput for "
        "our variants.",
        "Figure 9 Generation times of the models (no colon, after a finished sentence) We compare "
        "the mLSTM in a post up-projection block (see",
        "Table 2: A caption after an unfinished line still opens a caption.",
    ]


def test_headings_follow_the_paper_structure() -> None:
    tracker = HeadingTracker()
    lines = [
        "1 Introduction",
        "2 NXAI Lab, Linz, Austria, 3NXAI GmbH",
        "2 Extended Long Short-Term Memory",
        "2.2 sLSTM",
        "0 for i < j",
        "2.3 mLSTM",
        "4 Experiments",
        "A Extended Long Short-Term Memory 23",
        "A Extended Long Short-Term Memory",
        "A.1 Vanilla LSTM",
        "3 Related Work",
        "References",
    ]
    accepted = [line for line in lines if tracker.accept(line)]
    assert accepted == [
        "1 Introduction",
        "2 Extended Long Short-Term Memory",
        "2.2 sLSTM",
        "2.3 mLSTM",
        "4 Experiments",
        "A Extended Long Short-Term Memory",
        "A.1 Vanilla LSTM",
        "References",
    ]


def test_section_at_offsets() -> None:
    page = PageText(
        page=3, text="x" * 100, heading="2.1 A", sections=((40, "2.2 B"),), start_section="2.1 A"
    )
    assert page.section_at(0) == "2.1 A" and page.section_at(39) == "2.1 A"
    assert page.section_at(40) == "2.2 B" and page.section_at(99) == "2.2 B"


def test_generated_paper_has_headings_and_sections(tmp_path: Path) -> None:
    pages = [
        "My Paper Title\n1 Introduction\nWe study things in depth here.",
        "More introduction text.\n2 Method\nThe method is simple.",
    ]
    content = read_pdf(make_text_pdf(tmp_path / "h.pdf", pages))
    assert content.title == "My Paper Title"
    first, second = content.pages
    assert first.heading == "1 Introduction"
    assert (
        second.heading == "1 Introduction" and second.section_at(len(second.text) - 1) == "2 Method"
    )
