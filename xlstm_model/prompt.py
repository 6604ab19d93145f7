"""The prompt format shared by fine-tuning, answer generation and UPR scoring.

One QA example reads
``<|context|> {context} <|question|> {question} <|answer|> {answer}<|endoftext|>``.
Keeping every formatter here means training and inference cannot drift apart.
"""

from __future__ import annotations

ENDOFTEXT = "<|endoftext|>"
CONTEXT = "<|context|>"
QUESTION = "<|question|>"
ANSWER = "<|answer|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = (ENDOFTEXT, CONTEXT, QUESTION, ANSWER, PAD)


def clean_text(text: str) -> str:
    """Removes special-token literals from free text so it cannot fake the format."""
    for token in SPECIAL_TOKENS:
        text = text.replace(token, " ")
    return " ".join(text.split())


def format_prompt(context: str, question: str) -> str:
    """The prompt the model continues with an answer (the answer starts with a space)."""
    return f"{CONTEXT} {clean_text(context)} {QUESTION} {clean_text(question)} {ANSWER}"


def format_answer(answer: str) -> str:
    """The completion that follows `format_prompt` in a training example."""
    return f" {clean_text(answer)}{ENDOFTEXT}"


def format_passage_for_upr(passage: str) -> str:
    """The UPR scoring context: the passage, then the question marker the question follows."""
    return f"{CONTEXT} {clean_text(passage)} {QUESTION}"


def format_question_for_upr(question: str) -> str:
    """The UPR scoring target whose mean log-probability ranks the passage."""
    return f" {clean_text(question)}"
