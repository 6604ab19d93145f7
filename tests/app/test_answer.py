import dataclasses
import re

import pytest

from app.answer import (
    REFUSAL,
    Answer,
    AnswerSettings,
    answer_question,
    content_query,
)
from app.errors import UserError
from app.generator import AnswerGenerator
from retrievers import RetrieverSettings, build_retriever
from tests.helpers.fake_store import FakePaperStore

CITATION = re.compile(r"\[xLSTM, p\. \d+\]")


@pytest.fixture()
def store():
    return FakePaperStore()


def ask(store, question, mode="extractive", retriever="hybrid", **settings):
    settings.setdefault("refusal_threshold", 0.3)  # hashed bag-of-words scores run lower
    generator = AnswerGenerator(embeddings=store.embeddings)
    answer_settings = AnswerSettings(mode=mode, **settings)
    r = build_retriever(retriever, store, RetrieverSettings(k=4, compression_threshold=0.1))
    return answer_question(question, r, generator, answer_settings)


@pytest.mark.parametrize("retriever", ["similarity", "compression", "hybrid"])
def test_every_sentence_cites_its_page(store, retriever):
    answer = ask(store, "What does the mLSTM covariance update rule give?", retriever=retriever)
    assert not answer.refused
    sentences = [s for s in re.split(r"(?<=\])\s+", answer.text) if s]
    assert sentences and all(CITATION.search(s) for s in sentences)
    assert "covariance update rule" in answer.text
    assert {(c.paper, c.page) for c in answer.citations} <= {
        (s.paper, s.page) for s in answer.sources
    }
    assert answer.groundedness == 1.0
    assert set(answer.latency_ms) == {"retrieve", "generate", "total"}


def test_list_questions_get_bullets(store):
    answer = ask(store, "What are the major improvements over the vanilla LSTM? Answer in bullets.")
    lines = answer.text.splitlines()
    assert len(lines) >= 2 and all(line.startswith("- ") for line in lines)
    assert all(CITATION.search(line) for line in lines)


@pytest.mark.parametrize(
    ("question", "query"),
    [
        (
            "What are the major improvements? Answer in bullet points.",
            "What are the major improvements?",
        ),
        ("List the improvements in bullet points.", "List the improvements."),
        ("What is sLSTM? Please answer briefly.", "What is sLSTM?"),
        ("Which tasks, as a list?", "Which tasks?"),
        ("What is in a list of results?", "What is in a list of results?"),
        ("Why is the list short?", "Why is the list short?"),
        ("Answer in bullet points.", "Answer in bullet points."),  # nothing else to search for
    ],
)
def test_format_instructions_stay_out_of_the_search(question, query):
    assert content_query(question) == query


def test_the_retriever_gets_the_question_without_its_format_instruction(store):
    seen = []
    inner = build_retriever("hybrid", store, RetrieverSettings(k=4))

    class Spy:
        def invoke(self, query):
            seen.append(query)
            return inner.invoke(query)

    generator = AnswerGenerator(embeddings=store.embeddings)
    settings = AnswerSettings(mode="extractive", refusal_threshold=0.3)
    answer = answer_question(
        "What is the mLSTM? Answer in bullet points.", Spy(), generator, settings
    )
    assert seen == ["What is the mLSTM?"]
    assert answer.question == "What is the mLSTM? Answer in bullet points."
    assert answer.text.startswith("- ")  # still a list answer


def test_weak_evidence_is_refused(store):
    answer = ask(store, "Who won the football world cup in 1954?", refusal_threshold=0.3)
    assert answer.refused and answer.text.startswith(REFUSAL) and not answer.citations
    assert answer.text.endswith("Nothing retrieved is about it.")


def test_a_question_naming_what_the_paper_never_mentions_is_refused(store):
    question = "What memory does the mLSTM reach on GSM8K?"
    answer = ask(store, question)
    assert answer.refused and answer.text.endswith("never mention GSM8K.")
    assert not ask(store, question, refuse_unnamed=False).refused  # the test can be switched off
    assert not ask(store, "What memory does the mLSTM have?").refused


def test_empty_store_refuses():
    answer = ask(FakePaperStore(pages={}), "What is the sLSTM?", retriever="similarity")
    assert answer.refused


def test_on_text_streams_the_answer_text(store):
    generator = AnswerGenerator(embeddings=store.embeddings)
    r = build_retriever("similarity", store, RetrieverSettings(k=3))
    pieces = []
    settings = AnswerSettings(mode="extractive")
    answer = answer_question("What is the sLSTM memory?", r, generator, settings, pieces.append)
    assert isinstance(answer, Answer) and pieces
    assert "".join(pieces) == answer.text


@pytest.mark.parametrize("signal", ["upr-pmi", "upr"])
def test_xlstm_mode_uses_the_model_scores(store, signal):
    calls = []

    def fake_upr(question, passages, signal):
        calls.append(signal)
        return [10.0 if "parallelizable" in p else 0.0 for p in passages]

    generator = AnswerGenerator(embeddings=store.embeddings, run=object())
    generator.upr_scores = fake_upr  # type: ignore[method-assign]
    r = build_retriever("similarity", store, RetrieverSettings(k=4))
    settings = AnswerSettings(
        mode="extractive-xlstm", max_sentences=1, upr_weight=5.0, upr_signal=signal
    )
    answer = answer_question("What does the mLSTM memory do?", r, generator, settings)
    assert calls == [signal] and "parallelizable" in answer.text


def test_unknown_upr_signal_is_an_error(store):
    with pytest.raises(UserError, match="unknown upr_signal"):
        ask(store, "What is the sLSTM?", upr_signal="vibes")
    with pytest.raises(UserError, match="unknown short_source .* rules, rules"):
        ask(store, "What is the sLSTM?", short_source="model")


def test_xlstm_mode_without_a_model_says_how_to_train(store):
    with pytest.raises(UserError, match="make train"):
        ask(store, "What is the sLSTM?", mode="extractive-xlstm")


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 2001, "2000"),
        ("what\x07 is it", "control character"),
        (b"\xff\xfe what", "UTF-8"),
        ("bad \udcff bytes", "UTF-8"),
    ],
)
def test_bad_questions_are_one_line_errors(store, question, message):
    with pytest.raises(UserError, match=message) as err:
        ask(store, question)
    assert "\n" not in str(err.value)


def test_unknown_mode_is_an_error(store):
    with pytest.raises(UserError, match="unknown answer mode"):
        ask(store, "What is the sLSTM?", mode="poetry")


class _Fixed:
    """A retriever that returns the same documents for every query."""

    def __init__(self, docs):
        self.docs = docs

    def invoke(self, query):
        return self.docs


def _table_docs():
    from langchain_core.documents import Document

    meta = {"source": "xlstm-2405.04517v2.pdf", "title": "xLSTM: Extended", "page": 9}
    rows = [
        (
            "Table 1 (Method comparison on SlimPajama 15B): Model = GPT-3; #Params M = 356; "
            "SlimPajama (15B) ppl ↓ = 14.26"
        ),
        (
            "Table 1 (Method comparison on SlimPajama 15B): Model = Llama; #Params M = 407; "
            "SlimPajama (15B) ppl ↓ = 14.25"
        ),
    ]
    caption = "Table 1: Method comparison on next token prediction when trained on SlimPajama."
    return [
        Document(caption, metadata={**meta, "kind": "caption"}),
        *(Document(r, metadata={**meta, "kind": "table_row", "table": "Table 1"}) for r in rows),
    ]


def test_a_table_answer_opens_with_the_cell_traceable_to_its_quoted_row(store):
    generator = AnswerGenerator(embeddings=store.embeddings)
    settings = AnswerSettings(mode="extractive", refusal_threshold=0.1)
    q = "Which SlimPajama perplexity does GPT-3 reach in Table 1?"
    answer = answer_question(q, _Fixed(_table_docs()), generator, settings)
    assert answer.short_answer == "14.26 — GPT-3, Table 1, SlimPajama (15B) ppl ↓"
    assert answer.short_answer_by == "rules"
    assert answer.text.startswith(answer.short_answer + "\n\n")
    first = answer.citations[0]
    assert first.kind == "table_row" and "GPT-3" in first.quote
    words = re.findall(r"[^\s,;]+", answer.short_answer)
    assert all(w == "—" or w in first.quote for w in words)
    assert "caption" not in {c.kind for c in answer.citations[:1]}


def test_a_table_question_without_its_row_gets_the_closest_row_marked(store):
    generator = AnswerGenerator(embeddings=store.embeddings)
    settings = AnswerSettings(mode="extractive", refusal_threshold=0.1)
    q = "Which SlimPajama perplexity does Mamba reach in Table 1?"
    answer = answer_question(q, _Fixed(_table_docs()), generator, settings)
    assert answer.short_answer.startswith("closest row (no row for Mamba): ")


def test_short_answers_can_be_switched_off(store):
    generator = AnswerGenerator(embeddings=store.embeddings)
    settings = AnswerSettings(mode="extractive", refusal_threshold=0.1, short_answer=False)
    q = "Which SlimPajama perplexity does GPT-3 reach in Table 1?"
    answer = answer_question(q, _Fixed(_table_docs()), generator, settings)
    assert answer.short_answer is None and not answer.text.startswith("14.26")


def test_quotes_stop_at_the_word_budget_but_the_first_is_kept():
    from app.compose import within_words
    from app.evidence import Candidate

    units = [Candidate(" ".join(["word"] * n), 0, {}) for n in (30, 20, 15)]
    assert [len(u.text.split()) for u in within_words(units, 60)] == [30, 20]
    assert [len(u.text.split()) for u in within_words(units, 10)] == [30]
    answer = ask(store=FakePaperStore(), question="What memory does the mLSTM have?", max_words=5)
    assert len(answer.citations) == 1


def test_a_table_row_is_quoted_with_the_cells_the_question_asks_for():
    from app.compose import quoted
    from app.evidence import Candidate

    row = Candidate(
        "Table 3 (Downstream tasks), 1.3B: Model = xLSTM[7:1]; #Params M = 1420.1; "
        "LAMBADA ppl ↓ = 7.04; LAMBADA acc ↑ = 56.69; HellaSwag acc ↑ = 60.26",
        0,
        {},
        kind="table_row",
    )
    assert quoted(row, "What LAMBADA accuracy does xLSTM[7:1] reach?") == (
        "Table 3 (1.3B): Model = xLSTM[7:1]; #Params M = 1420.1; LAMBADA acc ↑ = 56.69; …"
    )
    whole = "Table 3 (1.3B): Model = xLSTM[7:1]; #Params M = 1420.1; LAMBADA ppl ↓ = 7.04; "
    assert quoted(row, "Which tasks are in Table 3?").startswith(whole)  # no column named
    assert quoted(row).endswith("HellaSwag acc ↑ = 60.26")  # no question: the whole row
    bare = Candidate("Table 6 (Recall): Llama; Acc ↑ = 0.61", 0, {}, kind="table_row")
    assert quoted(bare) == "Table 6: Llama; Acc ↑ = 0.61"  # a label without a column stays bare


def test_the_xlstm_short_answer_opens_the_answer_and_leaves_the_quotes_as_ranked(store):
    from xlstm_model.reading import Reading

    class TokenGenerator(AnswerGenerator):
        def token_read(self, question, passages):  # the span: the row's perplexity cell
            return [Reading(float("GPT-3" in p), p.rsplit("= ", 1)[-1], 0, 1) for p in passages]

    generator = TokenGenerator(embeddings=store.embeddings, run=object(), token_reader=object())
    q = "Which SlimPajama perplexity does GPT-3 reach in Table 1?"
    settings = AnswerSettings(
        refusal_threshold=0.1, short_source="xlstm", margin=5.0, short_support=0
    )
    answer = answer_question(q, _Fixed(_table_docs()), generator, settings)
    plain = answer_question(
        q, _Fixed(_table_docs()), generator, dataclasses.replace(settings, short_answer=False)
    )
    assert (answer.short_answer, answer.short_answer_by) == ("14.26", "xlstm")
    assert answer.text.startswith("14.26\n\n") and "GPT-3" in answer.citations[0].quote
    assert [c.quote for c in answer.citations] == [c.quote for c in plain.citations]
    assert len(plain.citations) > 1 + settings.short_support  # more than a rule-cut answer keeps
