"""Metric functions against hand-computed values."""

from types import SimpleNamespace

import numpy as np
import pytest

from app.key_terms import key_term_recall, key_term_tokens, key_terms_in_passages, states_term
from app.metrics import (
    answer_f1,
    answer_sentences,
    grounded,
    hit_and_rank,
    mrr,
    normalize_answer,
    percentile,
    rouge_l,
    same_paper,
    strip_citations,
)

XLSTM = "xlstm-2405.04517v2.pdf"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The  Cat, sat!", "cat sat"),
        ("An apple a day", "apple day"),
        ("theory of anything", "theory of anything"),
        ("perplexity 13.43 (xLSTM[7:1])", "perplexity 1343 xlstm71"),
        ("", ""),
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_answer_f1_hand_computed():
    # pred: cat sat on mat (4), ref: cat sat (2), overlap 2 -> P 0.5, R 1 -> F1 2/3
    assert answer_f1("The cat sat on the mat", "a cat sat") == pytest.approx(2 / 3)
    assert answer_f1("13.43", "perplexity 13.43") == pytest.approx(2 / 3)
    assert answer_f1("Exponential gating!", "exponential gating") == 1.0
    assert answer_f1("matrix memory", "scalar update") == 0.0


def test_answer_f1_counts_repeated_tokens_once_each():
    # pred: memory memory memory (3), ref: memory (1): overlap 1 -> P 1/3, R 1 -> F1 0.5
    assert answer_f1("memory memory memory", "memory") == pytest.approx(0.5)


def test_answer_f1_empty():
    assert answer_f1("", "") == 1.0
    assert answer_f1("the", "") == 1.0  # both normalise to nothing
    assert answer_f1("", "gating") == 0.0
    assert answer_f1("gating", "") == 0.0


def test_rouge_l_hand_computed():
    # [police killed gunman] vs [police kill gunman]: LCS 2, P = R = 2/3
    assert rouge_l("police killed the gunman", "police kill the gunman") == pytest.approx(2 / 3)
    # x y z w vs x z y w: LCS 3 (x y w), P = R = 3/4
    assert rouge_l("x y z w", "x z y w") == pytest.approx(0.75)
    # LCS 2 of pred 2 and ref 4: P 1, R 0.5 -> F 2/3
    assert rouge_l("sLSTM mLSTM", "sLSTM and new mLSTM") == pytest.approx(2 / 3)


def test_rouge_l_respects_order_where_f1_does_not():
    assert answer_f1("beta alpha", "alpha beta") == 1.0
    assert rouge_l("beta alpha", "alpha beta") == pytest.approx(0.5)


def test_rouge_l_empty_and_disjoint():
    assert rouge_l("", "") == 1.0
    assert rouge_l("", "x") == 0.0
    assert rouge_l("x", "y") == 0.0


def test_strip_citations():
    text = "The mLSTM has a matrix memory [xLSTM, p. 5]. Pages [xLSTM, pp. 9-10] too."
    assert strip_citations(text) == "The mLSTM has a matrix memory . Pages too."
    assert strip_citations("xLSTM[7:1] is fine") == "xLSTM[7:1] is fine"


def test_a_citation_ends_a_sentence():
    text = "lower perplexity 11 [xLSTM, p. 11] Comparison of models [xLSTM, p. 12]"
    assert answer_sentences(text) == ["lower perplexity 11", "Comparison of models"]
    # each part is checked against the sources on its own
    assert grounded(text, ["xLSTM has a lower perplexity 11", "Comparison of models"]) == 1.0


def test_answer_sentences_split_prose_and_bullets():
    text = "- sLSTM has scalar memory [xLSTM, p. 4]\n- mLSTM has matrix memory. It is fast."
    assert answer_sentences(text) == [
        "sLSTM has scalar memory",
        "mLSTM has matrix memory.",
        "It is fast.",
    ]


SOURCE = "The mLSTM uses a matrix memory with a covariance update rule."


def test_grounded_counts_supported_sentences():
    # sentence 1 content {mlstm, matrix, memory}: all in the source -> supported;
    # sentence 2 content {cats, sleep, day}: none -> unsupported. 1 of 2.
    answer = "The mLSTM has a matrix memory. Cats sleep all day."
    assert grounded(answer, [SOURCE]) == 0.5


def test_grounded_ignores_citations_and_checks_each_source():
    answer = "The mLSTM has a matrix memory [xLSTM, p. 5].\n- Cats sleep. [Cats, p. 7]"
    assert grounded(answer, ["Cats sleep a lot.", SOURCE]) == 1.0


def test_grounded_threshold_boundary():
    # content {mlstm, matrix, memory, parallel, fast}; the source holds 3 of 5 = 0.6
    answer = "mLSTM matrix memory parallel fast"
    assert grounded(answer, [SOURCE], threshold=0.6) == 1.0
    assert grounded(answer, [SOURCE], threshold=0.61) == 0.0


def test_grounded_support_must_come_from_one_source():
    answer = "matrix memory parallel fast"  # 2 of 4 in each source, 4 of 4 in their union
    assert grounded(answer, ["matrix memory", "parallel fast"]) == 0.0


def test_grounded_empty_cases():
    assert grounded("", [SOURCE]) == 0.0
    assert grounded("The mLSTM has a matrix memory.", []) == 0.0
    assert grounded("It is the one.", [SOURCE]) == 0.0  # stop words only: nothing counted


def source(paper, page, arxiv_id=None):
    return SimpleNamespace(paper=paper, page=page, arxiv_id=arxiv_id, text="")


EVIDENCE = [{"paper": XLSTM, "page": 4}, {"paper": XLSTM, "page": 5}]


def test_hit_and_rank_first_matching_source():
    sources = [source("other.pdf", 4), source(XLSTM, 9), {"paper": XLSTM, "page": 5}]
    assert hit_and_rank(sources, EVIDENCE) == (True, 3)
    assert hit_and_rank([source(XLSTM, 4), source(XLSTM, 5)], EVIDENCE) == (True, 1)


def test_hit_and_rank_miss():
    assert hit_and_rank([source(XLSTM, 6), source("other.pdf", 4)], EVIDENCE) == (False, None)
    assert hit_and_rank([], EVIDENCE) == (False, None)
    assert hit_and_rank([source(XLSTM, 4)], []) == (False, None)


@pytest.mark.parametrize(
    ("src", "evidence_paper", "expected"),
    [
        (source(XLSTM, 4), XLSTM, True),
        (source("/data/papers/XLSTM-2405.04517v2.pdf", 4), XLSTM, True),  # path, case
        (source("upload.pdf", 4, arxiv_id="2405.04517v2"), XLSTM, True),
        (source("upload.pdf", 4, arxiv_id="2405.04517"), XLSTM, True),
        (source(XLSTM, 4), "2405.04517", True),
        (source(XLSTM, 4), "2405.04517v2", True),
        (source("xlstm-2405.04517v1.pdf", 4), XLSTM, False),  # other version, other pages
        (source("upload.pdf", 4, arxiv_id="2405.04517v1"), "2405.04517v2", False),
        (source("mamba-2312.00752.pdf", 4), XLSTM, False),
        (source("notes.pdf", 4), XLSTM, False),
        (source("x-2405.045171.pdf", 4), XLSTM, False),  # a longer number is another id
    ],
)
def test_same_paper(src, evidence_paper, expected):
    assert same_paper(src, {"paper": evidence_paper, "page": 4}) is expected
    assert hit_and_rank([src], [{"paper": evidence_paper, "page": 4}])[0] is expected


def test_mrr_hand_computed():
    assert mrr([1, 2, None, 4]) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    assert mrr([None, None]) == 0.0
    assert mrr([]) == 0.0


def test_percentile_matches_numpy():
    values = [120.0, 15.0, 30.0, 45.0, 60.0, 7.5]
    for q in (0, 25, 50, 90, 95, 100):
        assert percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([5.0], 95) == 5.0


def test_percentile_empty_and_out_of_range():
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="percentile q"):
        percentile([1.0], 101)


def test_key_term_recall_matches_whole_normalised_phrases():
    answer = "The mLSTM has a matrix memory and the covariance update. [xLSTM, p. 5]"
    assert key_term_recall(answer, ["matrix memory", "covariance update rule"]) == 0.5
    assert key_term_recall("memory mixing", ["memory mix"]) == 0.0  # whole words only
    assert key_term_recall("xLSTM[7:1] wins", ["xLSTM[7:1]"]) == 1.0
    assert key_term_recall("anything", []) is None
    assert key_term_recall("anything", ["", " - "]) is None  # no usable term


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("GPT-3 reaches 14.26.", "14.26"),  # a full stop after a number is not a decimal
        ("a perplexity of 14.26%", "14.26"),
        ("2,417.86 for the vanilla LSTM", "2417.86"),  # thousands separator
        ("2417.86 for the vanilla LSTM", "2,417.86"),
        ("RWKV 5 wins", "RWKV-5"),  # hyphen = space
        ("RWKV‑5 wins", "RWKV-5"),  # non-breaking hyphen
        ("a peak rate of 9e−4", "9e-4"),  # minus sign
        ("skip connections and LayerNorms", "skip-connections"),
        ("skip connections and LayerNorms", "LayerNorm"),  # a word matches its plural
        ("GATED   Linear\nAttention", "gated linear attention"),  # case and whitespace
        ("the LSTM (Block) model", "LSTM (Block)"),
        ("xLSTM [7:1] wins", "xLSTM[7:1]"),
        ("500K steps", "500k"),
        ("a 356M model", "356"),  # a unit letter is its own token
        ("More than 95 % of it", "95%"),
        ("the ﬁrst gate", "first"),  # ligature folded
        ("exponential gating and matrix memory", "exponential gating and the matrix memory"),
    ],
)
def test_key_terms_match_robustly(text, term):
    assert states_term(text, term)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("GPT-3 reaches 14.2", "14.26"),  # numbers are exact
        ("GPT-3 reaches 14.26", "14.2"),
        ("GPT-3 reaches 114.26", "14.26"),
        ("GPT-3 reaches 14.265", "14.26"),
        ("GPT-3 reaches 14.26", "4.26"),
        ("a rate of 1e-3", "1e-4"),
        ("a rate of 11e-4", "1e-4"),
        ("xLSTM[1:0] wins", "xLSTM[0:1]"),  # order matters
        ("xLSTM[10:1] wins", "xLSTM[0:1]"),
        ("batch size 16", "batch size 1"),
        ("step 2817", "28170"),
        ("28,170 steps", "2817"),
        ("memory mixes", "memory mixing"),
        ("the hyperparameters", "hyper"),  # part of a word
        ("1.0", "1"),
        ("RWKV-5", "RWKV-50"),
    ],
)
def test_key_terms_do_not_match_loosely(text, term):
    assert not states_term(text, term)


def test_key_term_tokens():
    assert key_term_tokens("xLSTM[7:1] has 2,417.86 ppl; A100-80GB, 95%") == (
        "xlstm",
        "7",
        "1",
        "has",
        "2417.86",
        "ppl",
        "a",
        "100",
        "80",
        "gb",
        "95",
        "%",
    )
    assert key_term_tokens("The end.") == ("end",)


def test_key_terms_in_passages_counts_each_term_once_and_never_across_passages():
    passages = ["GPT-3 356 14.26", "Llama 407 14.25", "matrix", "memory"]
    assert key_terms_in_passages(passages, ["14.26", "Llama", "13.43"]) == pytest.approx(2 / 3)
    assert key_terms_in_passages(passages, ["matrix memory"]) == 0.0  # split over two passages
    assert key_terms_in_passages([], ["14.26"]) == 0.0
    assert key_terms_in_passages(passages, []) is None
