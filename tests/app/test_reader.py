"""The reader's signals, each alone, the seam, and the pointer hand-off."""

import functools

import numpy as np
import pytest
from langchain_core.documents import Document

from app.evidence import Candidate, ReaderSignal, candidates_from, hand_off, score_candidates
from app.reader import (
    ReaderWeights,
    answer_type,
    completes_with_number,
    enumerates,
    focus,
    focus_words,
    gives_reason,
    heuristic_reader,
    is_announcement,
    novelty,
    numbers_in,
    pointed_table,
    role_penalty,
    type_fit,
    unit_role,
    upr_reader,
)
from tests.helpers.fake_store import HashEmbeddings

ROW = (
    "Table 1 (Method comparison on SlimPajama 15B): Model = GPT-3; #Params M = 356; "
    "SlimPajama (15B) ppl ↓ = 14.26"
)


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("How many key-value pairs are used?", "number"),
        ("What validation perplexity does Mamba reach in Table 1?", "number"),
        ("Which perplexity does GPT-3 reach?", "number"),
        ("How much slower is the sLSTM kernel?", "number"),
        ("Why can LSTMs not be parallelized?", "reason"),
        ("What are the limitations of LSTMs?", "list"),
        ("Which dataset is used for training?", "name"),
        ("Which tokenizer is used for all models?", "name"),
        ("Explain the sLSTM.", "other"),
        # an opening clause before the question word
        ("In the 15B-token comparison, what validation perplexity did GLA reach?", "number"),
        ("After 300B tokens, how many steps were trained?", "number"),
        ("On the Long Range Arena, which model is best?", "name"),
        ("In short, why is the mLSTM parallelizable?", "reason"),
        # "what is the ...", hyphenated measures, a preposition first, "how bad/good"
        ("What is the average PALOMA perplexity of xLSTM[1:0]?", "number"),
        ("What sequence-length threshold separates the two regimes?", "number"),
        ("For how many steps are the 1.3B models trained?", "number"),
        ("To what context length do the models extrapolate?", "number"),
        ("How bad is the perplexity of Llama at 16k context?", "number"),
        ("How good is the mLSTM at associative recall?", "other"),
        # a verb between "which" and the measure: the measure is not what is asked
        ("For which downstream tasks is accuracy normalized by sequence length?", "name"),
    ],
)
def test_answer_type_reads_what_the_question_wants(question, wanted):
    assert answer_type(question) == wanted


@pytest.mark.parametrize(
    ("text", "metadata", "role"),
    [
        ("Table 3: Validation set perplexity and downstream tasks.", {}, "caption"),
        ("Figure 2: The sLSTM block.", {}, "caption"),
        ("ct = ft ⊙ ct−1 + it ⊙ zt cell state (34) nt = ft ⊙ nt−1 + it (35)", {}, "equation"),
        (
            "Vaswani, A., Shazeer, N., and Parmar, N. Attention is all you need. 2017.",
            {},
            "reference",
        ),
        (
            "Hochreiter, S. (1991). Untersuchungen. In Proceedings of X, 2019. URL x",
            {},
            "reference",
        ),
        ("Covariance Update Rule.", {}, "heading"),
        (  # prose that leads into a formula stays prose
            "Therefore, we stabilize gates with an additional state mt (Milakov, 2018): "
            "mt = max log( ft ) + mt−1 , log( it ) (15)",
            {},
            "text",
        ),
        ("2.2 sLSTM", {}, "heading"),
        ("The sLSTM has a scalar memory and memory mixing.", {}, "text"),
        ("Anything at all.", {"kind": "table_row"}, "table_row"),
        ("Table 1: a caption", {"kind": "text"}, "text"),  # ingest's mark wins
        ("A sentence.", {"kind": "no-such-kind"}, "text"),
    ],
)
def test_unit_role_uses_the_mark_else_infers_it(text, metadata, role):
    assert unit_role(text, metadata) == role


def test_type_fit_wants_a_new_number_for_number_questions():
    q = "What perplexity does the model reach after 15B tokens?"
    assert type_fit("number", "It reaches a perplexity of 13.43.", "text", q) == 1.0
    assert type_fit("number", "It is trained on 15B tokens.", "text", q) == 0.0  # echoed
    assert type_fit("number", "It reaches a low perplexity (Sun et al., 2023).", "text", q) == 0
    assert type_fit("number", ROW, "table_row", q) == 1.0


def test_type_fit_reasons_names_lists_and_no_opinion():
    assert type_fit("reason", "It is not parallel due to memory mixing.", "text") == 1.0
    assert type_fit("reason", "It is not parallel.", "text") == 0.0
    q = "Which tokenizer is used?"
    assert type_fit("name", "We use the GPT-2 tokenizer.", "text", q) == 1.0
    assert type_fit("name", "We use a tokenizer.", "text", q) < 0.5
    assert type_fit("list", "It has (i) gates, (ii) memory.", "text") == 1.0
    assert type_fit("other", "Anything.", "text") == 0.5


def test_novelty_scores_echoes_questions_and_announcements_low():
    q = "How far do we get in language modeling when scaling LSTMs?"
    echo = "We ask: how far do we get in language modeling when scaling LSTMs?"
    assert novelty(q, echo) == 0.0
    assert novelty(q, "Scaling LSTMs in language modeling gets far.") < 0.3
    assert novelty(q, "At least as far as Transformers, with linear cost.") >= 0.8
    assert novelty(q, "In this section we describe the memory of xLSTM blocks.") <= 0.3
    assert novelty(q, "") == 0.0


def test_role_penalty_unless_asked_for():
    assert role_penalty("caption", "What is the perplexity of Mamba?") == 1.0
    assert role_penalty("caption", "What does Table 2 show about gates?") == 0.0
    # a question about a figure is answered by its caption
    illustration = "In the illustration of the MQAR task, what do the grey tokens stand for?"
    assert role_penalty("caption", illustration) == 0.0
    assert role_penalty("caption", "Which activation follows the convolution in Figure 3?") == 0.0
    assert role_penalty("equation", "How is the stabilizer state computed?") == 0.0
    assert role_penalty("reference", "Which perplexity does GPT-3 reach?") == 1.0
    assert role_penalty("reference", "Which other published models were trained so?") == 1.0
    assert role_penalty("reference", "Where was the LSTM paper published in 1997?") == 0.0
    assert role_penalty("table_row", "Which perplexity does GPT-3 reach?") == 0.0
    assert role_penalty("text", "anything") == 0.0


def test_pointers_are_recognised():
    assert pointed_table("As shown in Table 2, exponential gating helps.") == "2"
    assert pointed_table("Table 2: Ablation studies.") is None  # the caption itself
    assert pointed_table("Figure 3 shows the block.") is None
    assert is_announcement("LSTMs have three main limitations:")
    assert is_announcement("In this section, we introduce the sLSTM.")
    assert not is_announcement("The sLSTM has a scalar memory.")


def _units(*texts_kinds):
    return [Candidate(t, 0, {}, kind=k, position=i) for i, (t, k) in enumerate(texts_kinds)]


def test_heuristic_reader_prefers_the_answer_over_echo_caption_and_equation():
    q = "What validation perplexity does GPT-3 reach on SlimPajama?"
    units = _units(
        ("Table 1: Validation perplexity on SlimPajama.", "caption"),
        ("What validation perplexity does GPT-3 reach on SlimPajama?", "text"),
        ("ppl = exp(-1/T sum log p) (12)", "equation"),
        (ROW, "table_row"),
    )
    scores = heuristic_reader()(q, units)
    assert int(np.argmax(scores)) == 3


def test_each_weight_switches_its_signal_off():
    q = "Why is the mLSTM parallelizable?"
    units = _units(("It is parallelizable because it has no memory mixing.", "text"))
    assert heuristic_reader(ReaderWeights(0, 0, 0))(q, units) == [0.0]
    assert heuristic_reader(ReaderWeights(1, 0, 0))(q, units) == [0.5]


def test_upr_goes_through_the_same_seam():
    seen = []

    def upr(question, texts):
        seen.append((question, texts))
        return [float(len(t)) for t in texts]

    units = _units(("short", "text"), ("a longer one", "text"))
    assert list(upr_reader(upr)("q", units)) == [5.0, 12.0]
    assert seen == [("q", ["short", "a longer one"])]


def test_score_candidates_adds_each_reader_and_rejects_a_wrong_length():
    emb = HashEmbeddings()
    cands = _units(("memory mixing in heads", "text"), ("cats sleep", "text"))
    score_candidates("memory mixing", cands, emb, 0.5)
    base = [c.score for c in cands]

    def prefer_second(question, units):
        return [0.0, 1.0]

    cands = _units(("memory mixing in heads", "text"), ("cats sleep", "text"))
    score_candidates("memory mixing", cands, emb, 0.5, [ReaderSignal(prefer_second, 2.0)])
    assert cands[1].score == pytest.approx(base[1] + 2.0) and cands[1].reader == 2.0
    assert cands[0].score == pytest.approx(base[0])
    assert [c.xlstm for c in cands] == [0.0, 0.0]  # a reader, not the xLSTM
    cands = _units(("memory mixing in heads", "text"), ("cats sleep", "text"))
    signals = [ReaderSignal(prefer_second, 2.0), ReaderSignal(prefer_second, 0.5, name="xlstm")]
    score_candidates("memory mixing", cands, emb, 0.5, signals)
    assert (cands[1].reader, cands[1].xlstm) == (2.5, 0.5)  # the xLSTM's part kept apart
    with pytest.raises(ValueError, match="returned 1 scores for 2 units"):
        score_candidates("q", cands, emb, 0.5, [ReaderSignal(lambda q, u: [1.0], 1.0)])


def test_a_pointer_hands_its_score_to_the_table_rows_it_names():
    cands = _units(
        ("As shown in Table 1, GPT-3 is worse.", "text"),
        (ROW, "table_row"),
        ("Table 2 (Ablation): Model = LSTM; ppl = 2417.86", "table_row"),
    )
    for c, s in zip(cands, (0.9, 0.2, 0.3), strict=True):
        c.score = s
    hand_off(cands, np.array([0.9, 0.2, 0.3]), below=0.05)
    assert cands[1].score == pytest.approx(0.85)  # Table 1's row takes the pointer's score
    assert cands[2].score == 0.3  # another table's row does not


def test_a_row_marked_with_its_table_number_in_metadata_is_pointed_to():
    cands = [
        Candidate("see Table 4 for details:", 0, {}, position=0),
        Candidate("Model = A; ppl = 3.1", 1, {"table": "Table 4"}, kind="table_row"),
    ]
    cands[0].score, cands[1].score = 0.8, 0.1
    hand_off(cands, np.array([0.8, 0.1]), below=0.1)
    assert cands[1].score == pytest.approx(0.7)


def test_an_announcement_hands_its_score_to_the_next_sentence_not_a_higher_one():
    cands = _units(
        ("The sLSTM has three parts:", "text"),
        ("A scalar memory, a scalar update and memory mixing.", "text"),
        ("Cats sleep.", "text"),
    )
    for c, s in zip(cands, (0.9, 0.1, 0.95), strict=True):
        c.score = s
    hand_off(cands, np.array([0.9, 0.1, 0.95]), below=0.05)
    assert cands[1].score == pytest.approx(0.85)
    assert cands[2].score == 0.95


def test_a_question_the_paper_asks_itself_hands_its_score_to_its_answer():
    cands = _units(
        ("We have partly answered our question: how far do we get with LSTMs?", "text"),
        ("At least as far as Transformers.", "text"),
    )
    for c, s in zip(cands, (0.9, 0.2), strict=True):
        c.score = s
    hand_off(cands, np.array([0.9, 0.2]), below=0.05)
    assert cands[1].score == pytest.approx(0.85)
    assert cands[0].score == 0.9  # the question keeps its own (novelty lowers it elsewhere)


def test_sentences_of_a_prose_chunk_get_their_own_roles():
    doc = Document(
        "Details on Downstream Evaluation. We use the LM Evaluation Harness for all tasks.",
        metadata={"kind": "text", "page": 42},
    )
    kinds = {c.text: c.kind for c in candidates_from([doc])}
    assert kinds["Details on Downstream Evaluation."] == "heading"
    assert kinds["We use the LM Evaluation Harness for all tasks."] == "text"


def test_candidates_keep_marked_units_whole_and_add_short_windows():
    docs = [
        Document(ROW, metadata={"kind": "table_row", "page": 9}),
        Document(
            "Covariance Update Rule. Memory mixing is new in the sLSTM. It happens within each "
            "head through recurrent connections."
        ),
    ]
    cands = candidates_from(docs)
    assert cands[0].text == ROW and cands[0].kind == "table_row"
    kinds = [c.kind for c in cands]
    assert kinds.count("window") >= 1
    window = next(c for c in cands if c.kind == "window")
    assert window.text == "Memory mixing is new in the sLSTM. It happens within each head " + (
        "through recurrent connections."
    )
    assert cands[1].kind == "heading"  # a heading opens no window


def test_a_why_question_reads_a_sentence_with_the_reason_after_it():
    first = (
        "The keys are distributed on the evaluation part of the sequence given a power-law "
        "distribution."
    )
    reason = "This is motivated by similar structures in natural language text."
    doc = Document(f"{first} {reason} Grey tokens in the input represent a zero token.")

    def windows(**kw):
        return [c.text for c in candidates_from([doc], **kw) if c.kind == "window"]

    assert f"{first} {reason}" in windows(follows=gives_reason)
    assert f"{first} {reason}" not in windows()  # other questions: short sentences only
    assert gives_reason("Full float32 training did not work because of the custom kernels.")
    assert gives_reason("a pre-fill context of 16 tokens (to mitigate cache initialization)")
    assert not gives_reason("Grey tokens in the input sequence represent a zero token.")


def test_no_units_no_scores():
    assert heuristic_reader()("Why?", []) == []
    assert candidates_from([Document("   ")]) == []


def test_a_pointer_lifts_the_rows_it_names_in_their_own_order():
    cands = _units(
        ("As shown in Table 1, GPT-3 is worse.", "text"),
        ("Table 1 (Results): Model = Llama; ppl = 14.25", "table_row"),
        (ROW, "table_row"),
    )
    for c, s in zip(cands, (0.9, 0.2, 0.3), strict=True):
        c.score = s
    hand_off(cands, np.array([0.9, 0.2, 0.3]), below=0.05)
    assert cands[2].score == pytest.approx(0.85)  # the row matching the question best
    assert cands[1].score == pytest.approx(0.75)  # keeps its distance below it


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("trained at a context length of 2048?", ["2048"]),  # not a citation year
        ("Sun et al. 2023 use 1024 and 2048 tokens", ["1024", "2048"]),
        ("as shown (Merity et al., 2017) and (Sun et al., 2023a; Gu 2021)", []),
        ("introduced in (2017) with 350M parameters", ["350M"]),
    ],
)
def test_numbers_in_drops_citation_years_only(text, numbers):
    assert numbers_in(text) == numbers


def test_a_heading_on_its_own_line_is_a_heading_not_an_answer():
    # the sentence splitter now ends a unit at a blank line, so headings stand alone
    assert unit_role("C Detailed Results on PALOMA Language Model Evaluation") == "heading"
    assert unit_role("B.1.3 Test of xLSTM’s Long Range Capabilities on the Long Range Arena") == (
        "heading"
    )
    assert unit_role("2048 tokens are used as context for all models and") == "text"  # cut off


def test_a_run_in_heading_with_a_full_stop_is_a_heading():
    # the xLSTM paper's appendix runs headings into their paragraph (pp. 26, 34, 36)
    for heading in (
        "Proof of Equivalence for sLSTM Stabilized Version.",  # "sLSTM" is written as it is
        "Why Multi-Query Associative Recall for Memory Tests of LLM Architectures.",
        "B.1.3 Test of xLSTM’s Long Range Capabilities on the Long Range Arena.",
    ):
        assert unit_role(heading) == "heading", heading
    assert unit_role("The models are compared after one epoch at training step 28170.") == "text"
    assert unit_role("Mamba, Llama and RWKV-4 Fail on Pathfinder Tasks Here.") == "text"  # a list


def test_a_number_question_reads_a_sentence_with_the_value_that_completes_it():
    # the xLSTM paper, p. 40: the value is in the sentence after the one the question matches
    question = (
        "When RWKV-6 was retrained for the 350M comparison with the peak learning rate of 4e-4 "
        "recommended in its original repository, what perplexity did it reach?"
    )
    first = (
        "As RWKV-6 performs worse than RWKV-5, we also train a model with peak learning rate "
        "4e-4, as reported in the original repository for 350M parameter models."
    )
    value = "This model reaches a perplexity of 16.38, worse than the 15.03 for 1e-3."
    doc = Document(f"{first} {value} Similarly, we tested other learning rates.")
    assert answer_type(question) == "number"  # a long opening clause before "what"
    follows = functools.partial(completes_with_number, question)
    windows = [c.text for c in candidates_from([doc], follows=follows) if c.kind == "window"]
    assert windows == [f"{first} {value}"]
    assert not completes_with_number(question, "Similarly, we tested 3 other learning rates.")
    assert not completes_with_number(question, "This model uses the rate 4e-4.")  # asked already


def test_a_list_question_reads_a_sentence_with_the_enumeration_after_it():
    # the xLSTM paper, p. 6: the approaches are listed in the sentence after the one that
    # matches "Which recent approaches rediscovered gating?"
    first = (
        "One of the key ideas of LSTM is gating, which was rediscovered and reinterpreted in "
        "many recent approaches."
    )
    items = "Gating was used in HGRN (Qin et al., 2023), GLA (Yang et al., 2023), and Mamba."
    doc = Document(f"{first} {items}")
    windows = [c.text for c in candidates_from([doc], follows=enumerates) if c.kind == "window"]
    assert windows == [f"{first} {items}"]
    assert not enumerates(first)  # one comma lists nothing
    assert enumerates("(i) Inability to revise storage decisions. (ii) Limited storage.")


def test_focus_is_what_the_question_asks_for():
    question = "At which training step are the models of the 15B comparison compared?"
    assert focus_words(question) == {"training", "step"}
    assert focus_words("What vocabulary size is used for the MQAR experiments?") == {
        "vocabulary",
        "size",
    }
    assert focus_words("What is the dimensionality of each input vector?") == {"dimensionality"}
    assert focus_words("Which model is best?") == set()  # too vague to say anything
    answer = "The models are compared after one epoch at training step 28170."
    setting = "For the 15B comparison all models use context length 2048."
    assert focus(question, answer) == 1.0 and focus(question, setting) == 0.0
    assert focus("Why is the mLSTM parallelizable?", setting) == 0.5  # no focus: no opinion


def test_the_reader_prefers_the_unit_saying_what_is_asked_but_leaves_table_rows_alone():
    question = "At which training step are the models of the 15B comparison compared?"
    units = [
        Candidate("The models are compared after one epoch at training step 28170.", 0, {}),
        Candidate("For the 15B comparison all models use context length 2048.", 0, {}),
        Candidate(ROW, 0, {}, kind="table_row"),
    ]
    plain = heuristic_reader(ReaderWeights(focus=0.0))(question, units)
    focused = heuristic_reader(ReaderWeights(focus=0.2))(question, units)
    assert focused[0] - plain[0] == pytest.approx(0.1)
    assert focused[1] - plain[1] == pytest.approx(-0.1)
    assert focused[2] == plain[2]
