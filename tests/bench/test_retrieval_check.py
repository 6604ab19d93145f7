"""The retrieval check: key terms in the top-k passages, by question type, on a fake store."""

import argparse

from app.question_set import Question
from bench.retrieval_check import report
from retrievers import RetrieverSettings, build_retriever
from tests.helpers.fake_store import FakePaperStore

QUESTIONS = [
    Question("q1", "What memory does the mLSTM have?", key_terms=["matrix memory"]),
    Question("q2", "What perplexity has the vanilla LSTM?", type="numeric", key_terms=["2417.86"]),
    Question("q3", "Which animal is mentioned?", key_terms=["giraffe"]),
]


def test_report_counts_key_terms_per_type_and_kinds():
    retriever = build_retriever("similarity", FakePaperStore(), RetrieverSettings(k=3))
    args = argparse.Namespace(k=3, show_kinds=True)
    line = report(retriever, "similarity", QUESTIONS, args)
    assert line.startswith("similarity: key terms in top 3 = 0.667; ")
    assert "factoid 0.50 (n=2)" in line and "numeric 1.00 (n=1)" in line
    assert "kinds retrieved:" in line
