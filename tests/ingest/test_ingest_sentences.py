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


def test_split_sentences_ends_at_blank_lines_and_bullets():
    # the xLSTM paper's formal-language task list (p. 32) as the page text keeps it
    text = (
        "• Bucket Sort Given a string of tokens of a sorted alphabet, compute the sorted string. "
        "|V | = 11 srand = 1 |V |−1\n\n• Cycle Nav Given a string of “movement tokens” (+1, −1, "
        "STAY) compute the end position of the agent with start position 0.\n\n|V | = 9 srand = 1"
    )
    assert split_sentences(text) == [
        "• Bucket Sort Given a string of tokens of a sorted alphabet, compute the sorted string. "
        "|V | = 11 srand = 1 |V |−1",
        "• Cycle Nav Given a string of “movement tokens” (+1, −1, STAY) compute the end position "
        "of the agent with start position 0.",
        "|V | = 9 srand = 1",
    ]
    text = "4.2 Method Comparison\n\nWe train xLSTMs on 15B tokens.\nWe use: • no dropout • AdamW"
    assert split_sentences(text) == [
        "4.2 Method Comparison",  # a heading no longer runs into the sentence after it
        "We train xLSTMs on 15B tokens.",
        "• no dropout",  # a list item is kept however short; "We use:" is not
        "• AdamW",
    ]
