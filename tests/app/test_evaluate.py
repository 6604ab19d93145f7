"""The question loader's errors, an end-to-end run on fakes, and (slow) the real pipeline."""

import csv
import dataclasses
import json
import math
from types import SimpleNamespace

import pytest

from app.answer import extractive_baseline
from app.errors import UserError
from app.evaluate import (
    answer_words,
    evaluate,
    load_questions,
    main,
    question_row,
    short_hit,
    write_outputs,
)
from app.question_set import Question, scope_papers
from app.report import key_terms_by_type_table
from app.scoping import question_scopes

XLSTM = "xlstm-2405.04517v2.pdf"
GOOD = {"id": "q1", "question": "What is the sLSTM?", "evidence": [{"paper": XLSTM, "page": 4}]}


def write_lines(tmp_path, *lines):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loader_reads_fields_ignores_unknown_and_blank_lines(tmp_path):
    extra = {**GOOD, "key_terms": ["scalar"], "colour": "blue", "reference_answer": "A cell."}
    path = write_lines(tmp_path, json.dumps(extra), "", json.dumps({"question": "Why?"}))
    first, second = load_questions(path)
    assert first == Question(
        "q1", "What is the sLSTM?", "A cell.", [{"paper": XLSTM, "page": 4}], key_terms=["scalar"]
    )
    assert second.id == "line-3" and second.answerable and second.evidence == []


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "q2", "question": ', "line 2: invalid JSON"),
        ('["a list"]', "line 2: expected a JSON object"),
        ('{"id": "q2"}', "line 2: missing field 'question'"),
        ('{"id": "q2", "question": 7}', "line 2: field 'question' must be str"),
        ('{"id": "q2", "question": "  "}', "line 2: field 'question' is empty"),
        ('{"id": 2, "question": "Why?"}', "line 2: field 'id' must be str"),
        ('{"question": "Why?", "answerable": "yes"}', "line 2: field 'answerable' must be bool"),
        ('{"question": "Why?", "evidence": "p. 4"}', "line 2: field 'evidence' must be list"),
        ('{"question": "Why?", "evidence": [4]}', "line 2: each evidence entry must be an object"),
        (
            '{"question": "Why?", "evidence": [{"paper": "x.pdf", "page": "4"}]}',
            "line 2: field 'evidence.page' must be int",
        ),
        (
            '{"question": "Why?", "evidence": [{"paper": "x.pdf", "page": true}]}',
            "line 2: field 'evidence.page' must be int",
        ),
        ('{"id": "q1", "question": "Again?"}', "line 2: duplicate id 'q1'"),
        ('{"question": "Why?", "key_terms": "scalar"}', "line 2: field 'key_terms' must be list"),
        ('{"question": "Why?", "key_terms": [1]}', "line 2: field 'key_terms[]' must be str"),
    ],
)
def test_loader_errors_name_the_line(tmp_path, bad_line, message):
    path = write_lines(tmp_path, json.dumps(GOOD), bad_line)
    with pytest.raises(UserError, match="questions.jsonl:") as info:
        load_questions(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_loader_empty_and_missing_files(tmp_path):
    with pytest.raises(UserError, match="holds no questions"):
        load_questions(write_lines(tmp_path, ""))
    with pytest.raises(UserError, match="cannot read questions file"):
        load_questions(tmp_path / "absent.jsonl")


def test_main_reports_a_bad_line_in_one_line(tmp_path, capsys):
    path = write_lines(tmp_path, json.dumps(GOOD), "{oops")
    assert main(["--questions", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: questions.jsonl:line 2: invalid JSON") and "\n" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--retrievers", "similarity,magic"], "unknown retriever 'magic'"),
        (["--k", "0"], "--k must be at least 1"),
        (["--limit", "-1"], "--limit must be at least 1"),
    ],
)
def test_main_rejects_bad_options(tmp_path, capsys, args, message):
    path = write_lines(tmp_path, json.dumps(GOOD))
    assert main(["--questions", str(path), "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


# --- end to end on fakes -------------------------------------------------------------------


class WordEmbeddings:
    """Vectors over a tiny vocabulary: sentences sharing words are close."""

    VOCAB = ("slstm", "scalar", "memory", "mlstm", "matrix", "cats", "sleep", "perplexity")

    def _embed(self, text):
        words = text.lower().replace(".", " ").replace("?", " ").split()
        return [float(words.count(w)) for w in self.VOCAB]

    def embed_query(self, text):
        return self._embed(text)

    def embed_documents(self, texts):
        return [self._embed(t) for t in texts]


PAGES = {
    4: "Cats sleep a lot during the day. The sLSTM has a scalar memory and memory mixing.",
    5: "The mLSTM has a matrix memory. It is fully parallelizable.",
    7: "Cats are small mammals. They sleep often.",
}
QUESTIONS = [
    Question(
        "q1",
        "What memory does the sLSTM have?",
        "A scalar memory.",
        [{"paper": XLSTM, "page": 4}],
        key_terms=["scalar memory", "memory mixing", "exponential gating"],
    ),
    Question(
        "q2",
        "What memory does the mLSTM have?",
        "A matrix memory.",
        [{"paper": "2405.04517", "page": 5}],
    ),
    Question("q3", "What is the MMLU score?", "The paper does not say.", [], False, "unanswerable"),
]
# per question: the pages retrieved in order, the answer text, refused, latency
PLAN = {
    "q1": ([7, 4], "The sLSTM has a scalar memory and memory mixing [xLSTM, p. 4].", False, 10.0),
    "q2": ([5, 7], "Cats are small mammals.", False, 30.0),
    "q3": ([7], "The ingested papers do not answer this question.", True, 20.0),
}


@dataclasses.dataclass
class FakeSettings:
    k: int = 5
    mode: str = "extractive-xlstm"


class FakeResources:
    def __init__(self):
        self.settings = FakeSettings()
        self.generator = SimpleNamespace(run=object(), embeddings=WordEmbeddings())
        self.store = SimpleNamespace(embeddings=None)
        self.model_dir = "data/models/fake"

    def retriever(self, name, k):
        return (name, k)


CALLS = []


def fake_answer(question, retriever, generator, settings):
    CALLS.append((question, retriever[0]))
    q = next(q for q in QUESTIONS if q.question == question)
    pages, text, refused, latency = PLAN[q.id]
    sources = [
        SimpleNamespace(paper=XLSTM, page=p, text=PAGES[p], arxiv_id="2405.04517v2", score=1.0)
        for p in pages[: settings.k]
    ]
    total = latency + (100.0 if retriever[0] == "hybrid" else 0.0)
    timings = {"retrieve": total / 4, "generate": total * 3 / 4, "total": total}
    if len([c for c in CALLS if c[1] == retriever[0]]) == 1:
        timings = {"retrieve": 5000.0, "generate": 5000.0, "total": 10000.0}  # a cold first call
    short = "scalar memory" if q.id == "q1" else None
    return SimpleNamespace(
        text=text, refused=refused, sources=sources, read=[], latency_ms=timings, short_answer=short
    )


@pytest.fixture()
def result():
    CALLS.clear()
    return evaluate(
        QUESTIONS,
        FakeResources(),
        ["similarity", "hybrid"],
        k=2,
        progress=False,
        answer_fn=fake_answer,
    )


def test_evaluate_metrics_by_hand(result):
    metrics = result["retrievers"]["similarity"]
    assert metrics["n_questions"] == 3
    assert metrics["hit_at_k"] == 1.0 and metrics["mrr"] == 0.75  # ranks 2 and 1
    assert metrics["refusal_accuracy"] == 1.0 and metrics["false_refusal_rate"] == 0.0
    # q1: answer (citation stripped) sLSTM has scalar memory and memory mixing vs scalar memory:
    # pred 7 tokens, ref 2, overlap 2 -> F1 = 2 * (2/7) * 1 / (2/7 + 1) = 4/9; q2: 0.
    assert metrics["answer_f1"] == pytest.approx(round((4 / 9 + 0) / 2, 4))
    assert metrics["grounded"] == 1.0  # both answered questions quote a retrieved page
    # q1 states 2 of its 3 key terms; q2 has none (not counted)
    assert metrics["key_terms"] == pytest.approx(round(2 / 3, 4))
    assert metrics["short_answer_hit"] == 1.0  # q1 only: q2 has no key terms, q3 no answer
    tokens = [len((PAGES[7] + " " + PAGES[4]).split()), len((PAGES[5] + " " + PAGES[7]).split())]
    assert metrics["context_tokens"] == pytest.approx(
        round((sum(tokens) + len(PAGES[7].split())) / 3, 4)
    )
    assert metrics["latency_ms_p50"] == 20.0 and metrics["latency_ms_p95"] == 29.0
    assert result["retrievers"]["hybrid"]["latency_ms_p50"] == 120.0
    # per stage, over the same questions; the untimed warm-up call (cold: 10 s) is left out
    assert metrics["retrieve_ms_p50"] == 5.0 and metrics["generate_ms_p50"] == 15.0
    assert metrics["retrieve_ms_p95"] == pytest.approx(7.25, abs=0.06)  # rounded to 0.1 ms
    assert [c[1] for c in CALLS].count("similarity") == len(QUESTIONS) + 1


def test_evaluate_rows_config_and_baselines(result):
    rows = result["questions"]
    assert [(r["id"], r["retriever"]) for r in rows][:3] == [
        ("q1", "similarity"),
        ("q2", "similarity"),
        ("q3", "similarity"),
    ]
    assert (rows[0]["hit"], rows[0]["rank"], rows[2]["hit"], rows[2]["rank"]) == (
        True,
        2,
        None,
        None,
    )
    assert rows[2]["answer_f1"] is None and rows[2]["grounded"] is None and rows[2]["refused"]
    assert result["config"]["k"] == 2 and result["config"]["settings"]["mode"] == "extractive-xlstm"
    assert set(result["baselines"]) == {
        "similarity/first",
        "similarity/embedding",
        "hybrid/first",
        "hybrid/embedding",
    }
    first = result["baselines"]["similarity/first"]
    # first sentences: q1 "Cats are small mammals." (F1 0), q2 "The mLSTM has a matrix memory." vs
    # "A matrix memory.": pred mlstm has matrix memory (4), ref 2 -> F1 = 2/3.
    assert first["answer_f1"] == pytest.approx(round(1 / 3, 4)) and first["grounded"] == 1.0
    # embedding: q1 picks "The sLSTM has a scalar memory and memory mixing." -> 2*(2/7)/(9/7) = 4/9
    assert result["baselines"]["similarity/embedding"]["answer_f1"] == pytest.approx(
        round((4 / 9 + 2 / 3) / 2, 4)
    )


def test_evaluate_falls_back_to_extractive_without_a_model():
    resources = FakeResources()
    resources.generator.run = None
    result = evaluate(
        QUESTIONS[:1], resources, ["similarity"], progress=False, answer_fn=fake_answer
    )
    assert result["config"]["settings"]["mode"] == "extractive" and result["config"]["k"] == 5


def test_write_outputs(result, tmp_path):
    result["config"].update(questions_file="questions.jsonl", n_questions=3)
    paths = write_outputs(result, tmp_path / "out")
    assert json.loads(paths["metrics"].read_text())["retrievers"] == result["retrievers"]
    with paths["results"].open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and rows[0]["id"] == "q1" and rows[0]["rank"] == "2"
    report = paths["report"].read_text()
    for name in ("answer_metrics", "retrieval_metrics", "latency"):
        assert f"({name}.png)" in report and paths[name].stat().st_size > 1000
    assert "| similarity |" in report and "| hybrid/embedding |" in report


def test_grounded_counts_the_units_read_beyond_the_sources():
    q = Question("q9", "What memory does the mLSTM have?", "a matrix memory", key_terms=["matrix"])
    sources = [SimpleNamespace(paper=XLSTM, page=7, text=PAGES[7], score=1.0)]
    quote = "The mLSTM has a matrix memory."  # from the chunk after the retrieved one
    answer = SimpleNamespace(
        text=f"Cats are small mammals. [xLSTM, p. 7] {quote} [xLSTM, p. 5]",
        refused=False,
        sources=sources,
        read=[],
        latency_ms={"total": 1.0},
        short_answer=None,
    )
    half = question_row(q, "similarity", answer)["grounded"]
    answer.read = [SimpleNamespace(paper=XLSTM, page=5, text=quote, score=0.0)]
    row = question_row(q, "similarity", answer)
    assert half < 1.0 and row["grounded"] == 1.0
    assert row["passage_key_terms"] == 0.0 and row["key_terms"] == 1.0


def test_baselines_on_plain_sources():
    sources = [SimpleNamespace(text=PAGES[7]), SimpleNamespace(text=PAGES[5])]
    assert extractive_baseline("", sources, "first", None) == "Cats are small mammals."
    picked = extractive_baseline("Which matrix memory?", sources, "embedding", WordEmbeddings())
    assert picked == "The mLSTM has a matrix memory."
    assert extractive_baseline("x", [], "first", None) == ""
    assert extractive_baseline("x", [], "embedding", WordEmbeddings()) == ""
    with pytest.raises(ValueError, match="unknown baseline 'last'"):
        extractive_baseline("x", sources, "last", None)


# --- the real answer path on the in-memory store ---------------------------------------


def memory_resources(model_dir):
    """Real `Resources` (retrievers, answer generator) over the in-memory fake store."""
    from app.answer import AnswerSettings
    from app.generator import AnswerGenerator
    from app.resources import Resources
    from retrievers import BM25Index, RetrieverSettings
    from tests.helpers.fake_store import FakePaperStore

    store = FakePaperStore()
    return Resources(
        store=store,
        generator=AnswerGenerator(embeddings=store.embeddings),
        settings=AnswerSettings(),
        retriever_settings=RetrieverSettings(k=3, compression_threshold=0.1),
        bm25=BM25Index(store),
        model_dir=model_dir,
    )


MEMORY_QUESTIONS = [
    {
        "id": "m",
        "question": "What does the mLSTM covariance update rule give?",
        "reference_answer": "A matrix memory.",
        "evidence": [{"paper": "2405.04517", "page": 5}],
        "type": "factoid",
    },
    {
        "id": "w",
        "question": "Who won the football world cup in 1954?",
        "reference_answer": "The paper does not say.",
        "evidence": [],
        "answerable": False,
        "type": "unanswerable",
    },
]


def test_evaluate_with_the_real_answer_path(tmp_path):
    path = write_lines(tmp_path, *(json.dumps(q) for q in MEMORY_QUESTIONS))
    names = ["similarity", "compression", "hybrid"]
    resources = memory_resources(tmp_path / "no-model")
    result = evaluate(load_questions(path), resources, names, k=3, progress=False)
    assert result["config"]["settings"]["mode"] == "extractive"
    for name in names:
        metrics = result["retrievers"][name]
        assert metrics["hit_at_k"] == 1.0 and metrics["refusal_accuracy"] == 1.0, name
        assert metrics["answer_f1"] > 0 and metrics["grounded"] == 1.0, name


def test_main_end_to_end_with_memory_resources(tmp_path, monkeypatch, capsys):
    import app.resources

    loaded = []

    def fake_load_resources(model_dir=None, embedding_model=None, settings=None, **_):
        loaded.append((model_dir, embedding_model))
        resources = memory_resources(tmp_path / "no-model")
        resources.settings = settings
        return resources

    monkeypatch.setattr(app.resources, "load_resources", fake_load_resources)
    path = write_lines(tmp_path, *(json.dumps(q) for q in MEMORY_QUESTIONS))
    out = tmp_path / "out"
    argv = ["--questions", str(path), "--out", str(out), "--retrievers", "hybrid", "--limit", "1"]
    overrides = ["--set", "max_sentences=2", "--set", "lexical_weight=0.25"]
    assert main([*argv, "--k", "2", "--model-dir", "m", "--no-progress", *overrides]) == 0
    assert loaded == [("m", None)]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["k"] == 2 and metrics["config"]["n_questions"] == 1
    assert metrics["config"]["settings"]["max_sentences"] == 2
    assert metrics["config"]["settings"]["lexical_weight"] == 0.25
    assert metrics["config"]["questions_file"] == str(path)
    assert list(metrics["retrievers"]) == ["hybrid"] and len(metrics["questions"]) == 1
    printed = capsys.readouterr().out
    assert "| hybrid |" in printed and "report.md" in printed


# --- the real pipeline ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.integration
def test_real_pipeline_three_questions(tmp_path, monkeypatch):
    from app.question_set import DEFAULT_QUESTIONS
    from app.resources import load_resources
    from ingest import pipeline
    from ingest import settings as settings_module
    from ingest import store as store_module
    from tests.conftest import mirror_pdf

    paper = mirror_pdf(XLSTM)
    if paper is None:
        pytest.skip(f"{XLSTM} not in any paper mirror")
    monkeypatch.setenv("XRAG_DATA_DIR", str(tmp_path / "data"))
    with store_module.open_store() as store:
        pipeline.ingest_sources([str(paper)], store, settings_module.IngestSettings())
    questions = load_questions(DEFAULT_QUESTIONS)[:3]
    resources = load_resources(model_dir=tmp_path / "no-model")
    try:
        result = evaluate(questions, resources, ["similarity", "hybrid"], k=5, progress=False)
    finally:
        resources.close()
    assert result["config"]["settings"]["mode"] == "extractive"
    for name in ("similarity", "hybrid"):
        metrics = result["retrievers"][name]
        assert metrics["hit_at_k"] > 0 and metrics["answer_f1"] > 0
        assert not math.isnan(metrics["latency_ms_p50"])
    paths = write_outputs(result, tmp_path / "out")
    assert paths["report"].exists()


@pytest.mark.parametrize("bad", ["max_sentences", "colour=blue", "max_sentences=two"])
def test_bad_setting_override_is_a_one_line_error(tmp_path, capsys, bad):
    path = write_lines(tmp_path, *(json.dumps(q) for q in MEMORY_QUESTIONS))
    assert main(["--questions", str(path), "--out", str(tmp_path / "o"), "--set", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set") and err.count("\n") == 1


# --- key terms in answers and passages, by type; words; split; paper scope -----------------


def test_rows_carry_passage_key_terms_and_words(result):
    q1, q2, q3 = result["questions"][:3]
    # q1 retrieves pages 7 and 4; page 4 states "scalar memory" and "memory mixing", not
    # "exponential gating"; the answer states the same two
    assert q1["key_terms"] == pytest.approx(2 / 3) and q1["passage_key_terms"] == pytest.approx(
        2 / 3
    )
    assert q2["passage_key_terms"] is None and q3["passage_key_terms"] is None  # no key terms
    # "The sLSTM has a scalar memory and memory mixing [xLSTM, p. 4]." -> 9 words, citation out
    assert (q1["words"], q2["words"]) == (9, 4)
    metrics = result["retrievers"]["similarity"]
    assert metrics["key_terms_passages"] == pytest.approx(round(2 / 3, 4))
    assert metrics["words_per_answer"] == 6.5  # q3 is refused: not counted
    assert metrics["key_terms_numeric"] is None  # no numeric question here


def test_answer_words():
    assert answer_words("- 14.26 — GPT-3 [xLSTM, p. 9]\n- Llama .") == 3  # 14.26, GPT-3, Llama
    assert answer_words("") == 0


@pytest.fixture()
def typed_result():
    CALLS.clear()
    numeric = dataclasses.replace(QUESTIONS[1], type="numeric", key_terms=["matrix memory"])
    return evaluate(
        [QUESTIONS[0], numeric, QUESTIONS[2]],
        FakeResources(),
        ["similarity"],
        k=2,
        progress=False,
        answer_fn=fake_answer,
    )


def test_key_terms_by_question_type(typed_result):
    types = typed_result["by_type"]["similarity"]
    assert list(types) == ["factoid", "numeric", "unanswerable"]  # QUESTION_TYPES order
    assert types["factoid"]["key_terms"] == pytest.approx(round(2 / 3, 4))
    # q2's answer "Cats are small mammals." misses "matrix memory"; its page 5 states it
    assert types["numeric"]["key_terms"] == 0.0 and types["numeric"]["key_terms_passages"] == 1.0
    assert types["unanswerable"]["refusal_accuracy"] == 1.0
    assert types["unanswerable"]["key_terms"] is None
    metrics = typed_result["retrievers"]["similarity"]
    assert metrics["key_terms_numeric"] == 0.0
    assert metrics["key_terms"] == pytest.approx(round((2 / 3 + 0) / 2, 4))
    assert metrics["key_terms_passages"] == pytest.approx(round((2 / 3 + 1) / 2, 4))
    table = key_terms_by_type_table(typed_result["by_type"])
    assert "| retriever | factoid (1) | numeric (1) | unanswerable (1) |" in table
    assert "| similarity | 0.667 / 0.667 | 0.000 / 1.000 | refused 1.000 |" in table


def test_report_shows_split_scope_and_the_new_tables(typed_result, tmp_path):
    typed_result["config"].update(split="dev", scope="evidence paper")
    report = write_outputs(typed_result, tmp_path / "out")["report"].read_text()
    assert "split = `dev`, scope = evidence paper" in report
    for heading in ("## Answers", "## Key terms by question type", "## Retrieval and latency"):
        assert heading in report
    assert "key_terms_passages" in report and "words_per_answer" in report


@dataclasses.dataclass
class ScopedSettings:
    k: int = 5
    papers: tuple[str, ...] | None = None


class ScopedResources(FakeResources):
    """Resources whose retrievers take a paper filter."""

    def __init__(self):
        super().__init__()
        self.retriever_settings = ScopedSettings()
        self.built = []

    def retriever(self, name, k, **overrides):
        self.built.append((name, overrides.get("papers")))
        return (name, k, overrides.get("papers"))


def test_questions_are_scoped_to_their_evidence_paper():
    resources, asked = ScopedResources(), []

    def answer(question, retriever, generator, settings):
        asked.append((question, retriever[2]))
        return fake_answer(question, retriever, generator, settings)

    CALLS.clear()
    scopes = scope_papers(QUESTIONS)
    result = evaluate(
        QUESTIONS, resources, ["similarity"], progress=False, answer_fn=answer, scopes=scopes
    )
    assert result["config"]["scope"] == "evidence paper"
    by_question = dict(asked)  # the warm-up asks q1 with q1's scope too
    assert by_question == {
        QUESTIONS[0].question: (XLSTM,),
        QUESTIONS[1].question: ("2405.04517",),
        QUESTIONS[2].question: (XLSTM, "2405.04517"),  # no evidence: the set's papers
    }
    assert len(resources.built) == 3  # one retriever per scope, reused


def test_unscoped_runs_never_pass_a_paper_filter():
    resources = ScopedResources()
    CALLS.clear()
    result = evaluate(QUESTIONS, resources, ["similarity"], progress=False, answer_fn=fake_answer)
    assert result["config"]["scope"] == "unscoped" and resources.built == [("similarity", None)]


def test_scoping_without_a_retriever_paper_filter():
    with pytest.raises(UserError, match=r"no paper filter \(RetrieverSettings.papers\)"):
        evaluate(QUESTIONS, FakeResources(), ["similarity"], progress=False, scopes={})
    scopes, note = question_scopes(QUESTIONS, FakeResources(), unscoped=False)
    assert scopes is None and note.startswith("unscoped: the retrievers have no paper filter")
    assert question_scopes(QUESTIONS, ScopedResources(), unscoped=True) == (
        None,
        "unscoped (--unscoped)",
    )
    scopes, note = question_scopes(QUESTIONS, ScopedResources(), unscoped=False)
    assert note == "evidence paper" and scopes["q1"] == (XLSTM,)


def _main_with_memory(tmp_path, monkeypatch, *args):
    import app.resources

    def fake_load_resources(settings=None, **_):
        resources = memory_resources(tmp_path / "no-model")
        resources.settings = settings
        return resources

    monkeypatch.setattr(app.resources, "load_resources", fake_load_resources)
    rows = [{**MEMORY_QUESTIONS[0], "split": "dev"}, {**MEMORY_QUESTIONS[1], "split": "test"}]
    path = write_lines(tmp_path, *(json.dumps(q) for q in rows))
    out = tmp_path / "out"
    code = main(["--questions", str(path), "--out", str(out), "--retrievers", "hybrid", *args])
    return code, out


@pytest.mark.parametrize(("split", "ids"), [("dev", ["m"]), ("test", ["w"]), ("all", ["m", "w"])])
def test_main_evaluates_one_split(tmp_path, monkeypatch, split, ids):
    code, out = _main_with_memory(tmp_path, monkeypatch, "--no-progress", "--split", split)
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["id"] for r in metrics["questions"]] == ids
    assert metrics["config"]["split"] == split
    assert metrics["config"]["scope"] in (
        "evidence paper",
        "unscoped: the retrievers have no paper filter yet (RetrieverSettings.papers)",
    )
    assert f"split = `{split}`, scope = " in (out / "report.md").read_text()


def test_main_unscoped_flag(tmp_path, monkeypatch):
    code, out = _main_with_memory(tmp_path, monkeypatch, "--no-progress", "--unscoped")
    assert code == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["scope"] == (
        "unscoped (--unscoped)"
    )


def test_main_bad_split_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    code, _ = _main_with_memory(tmp_path, monkeypatch, "--split", "train")
    assert code == 2
    err = capsys.readouterr().err
    assert err == "error: --split 'train': choose dev, test or all\n"


def test_scoping_needs_every_named_paper_in_the_store():
    resources = ScopedResources()
    resources.store = SimpleNamespace(find_papers=lambda name: [name] if name == XLSTM else [])
    with pytest.raises(UserError, match="paper '2405.04517', which the store does not hold"):
        question_scopes(QUESTIONS, resources, unscoped=False)
    assert question_scopes(QUESTIONS[:1], resources, unscoped=False)[0] == {"q1": (XLSTM,)}


def test_short_hit_counts_factoid_and_numeric_questions_with_key_terms():
    numeric = Question("n1", "What ppl does GPT-3 reach?", "14.26", type="numeric",
                       key_terms=["14.26"])  # fmt: skip
    assert short_hit(numeric, "14.26 — GPT-3, Table 1") is True
    assert short_hit(numeric, "356") is False and short_hit(numeric, None) is False  # none: miss
    why = Question("w1", "Why exponential gating?", "To revise.", type="why", key_terms=["revise"])
    assert short_hit(why, "revise") is None  # a reason has no short answer to score
    assert short_hit(Question("f1", "Which?", "x", type="factoid"), "x") is None  # no key terms
