from ingest.sentences import split_sentences
from ingest.words import STOP_WORDS


def test_split_sentences_handles_abbreviations_and_names():
    text = "We use gating, e.g. in Fig. 3. Hochreiter et al. proposed it. xLSTM[7:1] is best."
    assert split_sentences(text) == [
        "We use gating, e.g. in Fig. 3.",
        "Hochreiter et al. proposed it.",
        "xLSTM[7:1] is best.",
    ]


def test_split_sentences_drops_short_pieces_unless_asked():
    text = "It is fast. The mLSTM has a matrix memory."
    assert split_sentences(text) == ["The mLSTM has a matrix memory."]
    assert split_sentences(text, min_chars=1) == ["It is fast.", "The mLSTM has a matrix memory."]
    assert split_sentences("   ", min_chars=0) == []


def test_split_sentences_cuts_long_runs():
    table = " ".join(["0.91"] * 400)
    pieces = split_sentences(table)
    assert len(pieces) > 1
    assert all(len(p) <= 600 for p in pieces)
    assert " ".join(pieces) == table


def test_stop_words_are_lower_case_function_words():
    assert {"the", "of", "which", "about"} <= STOP_WORDS
    assert not {"memory", "xlstm", "not"} & STOP_WORDS
    assert all(w == w.lower() for w in STOP_WORDS)
