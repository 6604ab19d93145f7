"""Checks on user input before anything runs or is written."""

from __future__ import annotations

import unicodedata

from app.errors import UserError

MAX_QUESTION_CHARS = 2000


def check_question(question: str | bytes) -> str:
    """The question, stripped and NFC-normalised, or a `UserError` saying what is wrong."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as e:
            msg = f"the question is not valid UTF-8 (byte {e.start}); re-type it as plain text"
            raise UserError(msg) from e
    if any(0xD800 <= ord(c) <= 0xDFFF for c in question):  # undecodable bytes from argv
        msg = "the question is not valid UTF-8; re-type it as plain text"
        raise UserError(msg)
    text = unicodedata.normalize("NFC", question).strip()
    if not text:
        raise UserError("the question is empty; type a question about the ingested papers")
    if len(text) > MAX_QUESTION_CHARS:
        msg = f"the question has {len(text)} characters; shorten it to {MAX_QUESTION_CHARS} at most"
        raise UserError(msg)
    bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"]
    if bad:
        msg = f"the question contains a control character ({bad[0]!r}); remove it and ask again"
        raise UserError(msg)
    return " ".join(text.split())
