"""bench.xreader_study: the summary of first-unit hits and span hits."""

from __future__ import annotations

from bench.xreader_study import summarise


def test_summarise_means_per_ranker_and_span_questions_only() -> None:
    rows = [
        {"any_fact": True, "chance": 0.25, "dense+lexical": 1.0, "upr-pmi": 0.0, "reader": 1.0,
         "span_hit": True, "short_hit": False},
        {"any_fact": False, "chance": 0.0, "dense+lexical": 0.0, "upr-pmi": 0.0, "reader": 0.0},
    ]  # fmt: skip
    out = summarise(rows)
    assert out["questions"] == 2 and out["with_a_fact_unit"] == 1
    assert out["chance"] == 0.125 and out["dense+lexical"] == 0.5 and out["reader"] == 0.5
    assert out["span_questions"] == 1 and out["span_hit"] == 1.0 and out["short_hit"] == 0.0
    assert summarise([])["reader"] is None


def test_model_scores_leave_out_what_the_model_lacks(monkeypatch) -> None:
    import numpy as np

    import xlstm_model.scoring
    from app.answer import AnswerSettings
    from app.evidence import Candidate
    from bench.xreader_study import RANKERS, _spans, model_scores
    from xlstm_model.reading import Reading

    class Run:  # a language model without a reader head
        model = object()

    class Generator:  # ... and a token reader that likes long units
        token_reader = object()

        def require_model(self):
            return Run()

        def token_read(self, query, texts):
            return [Reading(float(len(t)), t.split()[-1], 0, 0) for t in texts]

    monkeypatch.setattr(xlstm_model.scoring, "upr_pmi_scores", lambda run, q, t: [0.0] * len(t))
    texts, base = ["short", "a much longer unit"], np.array([1.0, 0.0])
    out = model_scores("q", texts, base, Generator(), AnswerSettings())
    rankers = {k for k in out if not k.startswith("_")}
    assert rankers == {"upr-pmi", "token-reader", "dense+lexical+token-reader"} <= set(RANKERS)
    assert list(out["token-reader"]) == [5.0, 18.0]
    units = [Candidate(t, 0, {}) for t in texts]
    spans = _spans("q", units, base, out, ["unit"])  # the token reader's first: the long one
    assert spans["token_span"] == "unit" and spans["token_span_hit"]
    rows = [{"any_fact": True, "chance": 0.5, "dense+lexical": 1.0, "token-reader": 0.0}]
    assert summarise(rows)["reader"] is None and summarise(rows)["token-reader"] == 0.0


def test_each_member_of_an_ensemble_is_measured_alone() -> None:
    import torch

    from bench.xreader_study import member_runs
    from tests.xlstm_model.test_token_reader import WordEncoder, small_config
    from xlstm_model.token_reader import TokenReader, TokenReaderEnsemble, TokenReaderRun

    torch.manual_seed(0)
    members = [TokenReader(small_config()).eval() for _ in range(2)]
    run = TokenReaderRun(TokenReaderEnsemble(members).eval(), WordEncoder(), {})
    alone = member_runs(run)
    assert [r.model for r in alone] == members and member_runs(object()) == []
    texts = ["The mLSTM has a matrix memory.", "No."]
    mean = torch.tensor([r.scores("What is the mLSTM?", texts) for r in alone]).mean(0)
    assert torch.allclose(mean, torch.tensor(run.scores("What is the mLSTM?", texts)), atol=1e-5)
    assert member_runs(TokenReaderRun(members[0], WordEncoder(), {})) == []
    rows = [{"any_fact": True, "chance": 0.5, "dense+lexical": 1.0, "token-reader[1]": 1.0}]
    assert summarise(rows)["token-reader[1]"] == 1.0
