"""Refusing questions about what the evidence never names."""

from langchain_core.documents import Document

from app.refusal import (
    asked_measure,
    names_apart,
    refusal_reason,
    specific_names,
    unmentioned_measure,
    unmentioned_values,
    unsupported_names,
    value_keys,
)
from ingest.words import name_key, name_tokens
from retrievers.hybrid import BM25Index
from tests.helpers.fake_store import FakePaperStore

TEXTS = ["xLSTM[7:1] reaches 13.48 while RWKV-4 reaches 15.62 on SlimPajama.", "Large LLMs."]


def test_specific_names_are_acronyms_inner_capitals_and_letter_digit_mixes():
    question = "What top-1 accuracy does xLSTM reach on ImageNet, GSM8K or in kWh, H3 and 15B?"
    assert specific_names(question) == ["xLSTM", "ImageNet", "GSM8K", "kWh", "H3"]
    assert specific_names("What is the perplexity of the model in the 15B-token run?") == []


def test_name_keys_ignore_case_brackets_hyphens_and_plurals():
    assert name_key("xLSTM[7:1]") == "xlstm71" and name_key("LLMs") == "llm"
    assert name_key("Alpacas") == "alpacas"  # a lower-case plural is left alone
    assert name_tokens("RWKV-4 and GPT-3") == ["RWKV", "4", "and", "GPT", "3"]


def test_unsupported_names_are_those_no_text_mentions():
    assert unsupported_names("Does xLSTM[7:1] beat RWKV4 on GSM8K?", TEXTS) == ["GSM8K"]
    assert unsupported_names("How many LLMs are compared?", TEXTS) == []


def test_a_name_the_paper_holds_elsewhere_is_no_reason_to_refuse():
    def mentions(source, key):
        return source == "a.pdf" and key == "gsm8k"

    assert unsupported_names("Any GSM8K score?", TEXTS, mentions, ["b.pdf"]) == ["GSM8K"]
    assert unsupported_names("Any GSM8K score?", TEXTS, mentions, ["a.pdf", "b.pdf"]) == []


def test_refusal_reason_says_why():
    docs = [Document(page_content=t, metadata={"source": "x.pdf"}) for t in TEXTS]
    assert refusal_reason("xLSTM on WMT?", docs, 0.9, 0.5) == (
        " The passages found never mention WMT."
    )
    assert refusal_reason("xLSTM on WMT?", docs, 0.9, 0.5, names=False) == ""
    assert refusal_reason("xLSTM?", docs, 0.1, 0.5) == " Nothing retrieved is about it."
    assert refusal_reason("xLSTM[7:1]?", docs, 0.9, 0.5) == ""


def test_bm25_index_knows_which_names_each_paper_mentions():
    index = BM25Index(FakePaperStore())
    source = "xlstm-2405.04517v2.pdf"
    assert index.mentions(source, name_key("sLSTM")) and index.mentions(source, "lstm")
    assert not index.mentions(source, "gsm8k") and not index.mentions("other.pdf", "lstm")


def test_asked_measure_reads_what_the_question_asks_for():
    assert asked_measure("What is the carbon footprint of training xLSTM?") == [
        "carbon",
        "footprint",
    ]
    assert asked_measure("What BLEU score does xLSTM reach on WMT?") == ["bleu", "score"]
    assert asked_measure("How much energy use in kWh did training consume?") == ["energy", "use"]
    # a single word is too generic to refuse on ("goal", "energy": kWh is the name test's)
    assert asked_measure("What is the goal of the Stack Manipulation task?") == []
    assert asked_measure("How much energy in kWh did training consume?") == []
    # no measure, or a clause rather than one
    assert asked_measure("Which activation function follows the convolution?") == []
    assert asked_measure("What models fail to solve the easier settings when small are?") == []


def test_a_measure_no_paper_writes_is_a_reason_to_refuse():
    words = {"a.pdf": {"energy", "footprints"}, "b.pdf": {"carbon"}}

    def mentions(source, key):
        return key in words.get(source, set())

    question = "What is the carbon footprint of training xLSTM?"
    assert unmentioned_measure(question, ["c.pdf"], mentions) == ["carbon", "footprint"]
    assert unmentioned_measure(question, ["a.pdf"], mentions) == []  # "footprints" counts
    assert unmentioned_measure(question, ["b.pdf"], mentions) == []  # one of its words is there
    assert unmentioned_measure(question, [], mentions) == []  # no paper, no verdict
    docs = [Document(page_content="xLSTM is trained.", metadata={"source": "c.pdf"})]
    assert refusal_reason(question, docs, 0.9, 0.5, mentions) == (
        " The papers never mention carbon footprint."
    )
    assert refusal_reason(question, docs, 0.9, 0.5, mentions, names=False) == ""


def test_a_value_no_paper_writes_is_a_reason_to_refuse():
    # the xLSTM paper extrapolates to 16k (written "16384") and never quantizes
    keys = {"x.pdf": {"16384", "13b", "xlstm71", "2048"}}

    def mentions(source, key):
        return key in keys.get(source, set())

    assert value_keys("32", "k") == {"32k", "32000", "32768"}
    assert value_keys("8", "-bit") == {"8bit"}
    assert value_keys("0.30") == value_keys("0.3") == {"03", "030", "0300"}  # "0.3" = "0.30"
    at_32k = "What perplexity does the 1.3B xLSTM[7:1] reach at a context length of 32k tokens?"
    assert unmentioned_values(at_32k, ["x.pdf"], mentions) == ["32k"]
    assert unmentioned_values(at_32k.replace("32k", "16k"), ["x.pdf"], mentions) == []
    assert unmentioned_values(at_32k, [], mentions) == []  # no paper, no verdict
    # parts of names and exponents are no values: GPT-3, RWKV-4, xLSTM[7:1], 4e-4
    named = "Does GPT-3 or RWKV-4 use 4e-4 with a context of 2048?"
    assert unmentioned_values(named, ["x.pdf"], mentions) == []
    docs = [Document(page_content="xLSTM extrapolates.", metadata={"source": "x.pdf"})]
    assert refusal_reason(at_32k, docs, 0.9, 0.5, mentions) == " The papers never mention 32k."


def test_names_no_one_paper_holds_together_are_a_reason_to_refuse():
    keys = {"xlstm.pdf": {"xlstm", "llama"}, "attention.pdf": {"bleu", "wmt"}}

    def mentions(source, key):
        return key in keys.get(source, set())

    question = "What BLEU score does xLSTM reach on WMT?"
    both = ["xlstm.pdf", "attention.pdf"]
    assert names_apart(question, both, mentions) == ["xLSTM"]  # the paper lacking fewest
    assert names_apart("Why is xLSTM faster than Llama?", both, mentions) == []  # one has both
    assert names_apart(question, ["xlstm.pdf"], mentions) == []  # one paper: unsupported_names
    docs = [Document(page_content="x", metadata={"source": s}) for s in both]
    assert refusal_reason(question, docs, 0.9, 0.5, mentions) == (
        " No paper found mentions xLSTM with the rest of the question."
    )
