"""The phrase a quoted sentence adds to a "what" / "which" / "how" question."""

import pytest

from app.evidence import Candidate
from app.phrase_span import MAX_WORDS, phrase_span
from app.short_answer import short_answer

COVARIANCE = (
    "The covariance update rule is equivalent to Fast Weight Programmers (Schmidhuber, 1992; "
    "Schlag et al., 2021), which have later been equipped with a constant decay rate multiplied "
    "to Ct−1 and a constant learning rate multiplied to vtk⊤ t (Ba et al., 2016a)."
)
COMPLEXITY = (
    "Contrary to Transformers, xLSTM networks have a linear computation and a constant memory "
    "complexity with respect to the sequence length."
)
ABLATIONS = (
    "Ablation studies showed that all components of the memory cell are crucial "
    "(Greff et al., 2015)."
)


def test_the_words_after_the_question_s_own_are_the_answer() -> None:
    q = "To which earlier approach is the covariance update rule equivalent?"
    assert phrase_span(q, COVARIANCE) == "Fast Weight Programmers"
    q = "What computational and memory complexity does xLSTM have with respect to sequence length?"
    assert "linear computation and a constant memory" in phrase_span(q, COMPLEXITY)


def test_a_question_after_a_work_gets_the_citation_of_its_clause() -> None:
    q = "Whose ablation studies established that every component of the memory cell is essential?"
    assert phrase_span(q, ABLATIONS) == "Greff et al., 2015"
    q = "Which work equipped fast weight programmers with a constant decay rate and learning rate?"
    assert phrase_span(q, COVARIANCE) == "Ba et al., 2016a"


def test_which_of_two_takes_the_one_the_text_says_wins() -> None:
    text = "RWKV-5 seems to outperform RWKV-6. The latter fails to learn the task at all."
    q = "Which of RWKV-5 and RWKV-6 copes better with the harder settings?"
    assert phrase_span(q, text) == "RWKV-5"


def test_the_phrase_is_quoted_and_short_and_absent_where_the_text_is_off_topic() -> None:
    q = "What does the normalizer state of the sLSTM sum up?"
    text = (
        "For this matrix memory, the normalizer state is the weighted sum of key vectors, where "
        "each key vector is weighted by the input gate and all future forget gates, and so on "
        "for every one of the many other states that the long sentence goes on to list here."
    )
    span = phrase_span(q, text)
    assert span and span in text and len(span.split()) <= MAX_WORDS
    assert phrase_span("Which optimizer do the authors use?", COVARIANCE) is None
    assert phrase_span("What is the covariance update rule?", "The covariance update rule.") is None
    q = "How is the stabilizer state of the sLSTM computed?"
    text = "The sLSTM stabilizer state m, see Equation (15), has no gradient."
    assert phrase_span(q, text) is None


def test_short_answer_falls_back_to_the_phrase_of_prose_but_not_of_captions() -> None:
    q = "To which earlier approach is the covariance update rule equivalent?"
    short = short_answer(q, [Candidate(COVARIANCE, 0, {"page": 4}, kind="text")])
    assert short is not None and short.by == "phrase" and short.text == "Fast Weight Programmers"
    caption = Candidate("Figure 2: " + COVARIANCE, 0, {"page": 4}, kind="caption")
    assert short_answer(q, [caption]) is None
    q = "How is the covariance update rule related to earlier approaches?"
    assert short_answer(q, [Candidate(COVARIANCE, 0, {"page": 4}, kind="text")]).by == "phrase"
    assert short_answer("Is the covariance update rule equivalent to FWPs?", [caption]) is None


def test_a_sentence_that_says_too_little_of_the_question_gives_no_phrase() -> None:
    q = "Which normalization layer is applied to the output of the sLSTM and mLSTM cells in blocks?"
    assert phrase_span(q, "The mLSTM blocks are stacked residually.") is None  # 2 of 9 words
    said = "The output of the sLSTM and mLSTM cells inside the blocks is normalized by GroupNorm."
    assert "GroupNorm" in phrase_span(q, said)


def test_a_how_question_gets_the_means_the_sentence_names() -> None:
    q = "How is overflow from the exponential input gate avoided in the parallel formulation?"
    text = (
        "In the parallel formulation of the mLSTM we get a numerically stable gate activation "
        "matrix D′ by taking the logarithm of D element-wise and subtracting the row-wise "
        "maximum value of D from each element."
    )
    span = phrase_span(q, text)
    assert span.startswith("by taking the logarithm") and len(span.split()) <= MAX_WORDS
    assert phrase_span("How many heads does the sLSTM use?", text) is None  # not a "how"-means


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        (  # cut at MAX_WORDS: it ends on "inside", not on "a"
            "What is the LSTM (Block) baseline?",
            "LSTM (Block) refers to an architecture where a vanilla LSTM is used inside a post "
            "up-projection block (like Transformer with attention replaced by LSTM).",
            "refers to an architecture where a vanilla LSTM is used inside",
        ),
        (  # cut inside "(see Figure 3 and 10)": it ends before the parenthesis
            "Which activation function follows the causal convolution in the xLSTM blocks?",
            "We compare the mLSTM in a post up-projection block (see Figure 3 and 10) with ReLU2 "
            "activation function and non-gated feed-forward network.",
            "compare the mLSTM in a post up-projection block",
        ),
    ],
)
def test_a_phrase_cut_short_ends_on_a_word(question, text, expected) -> None:
    span = phrase_span(question, text)
    assert span == expected
    assert span in text and len(span.split()) <= MAX_WORDS
