"""The answer path's settings: one flat dataclass, defaults chosen on the dev split.

`app.settings.answer_settings` applies the caller's overrides; `app.answer` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("extractive-xlstm", "extractive", "free-generation")
# the xLSTM signal of the "extractive-xlstm" mode (see AnswerSettings.upr_signal)
UPR_SIGNALS = ("auto", "token-reader", "upr-pmi", "upr", "reader")
# where the short answer comes from (see AnswerSettings.short_source)
SHORT_SOURCES = ("rules", "rules+xlstm", "xlstm")


@dataclass
class AnswerSettings:
    k: int = 5  # documents retrieved
    mode: str = "extractive-xlstm"
    max_sentences: int = 3  # sentences in a prose answer
    list_items: int = 4  # bullets in a list answer
    list_margin: float = 0.2  # list: items must score within this of the best one
    # prose: later sentences must score within this of the best one. 0.3 on the dev split (83
    # questions, bench.tune_answers): key terms 0.652 -> 0.731 (similarity) at 59 words, not 33
    margin: float = 0.3
    lexical_weight: float = 0.5  # weight of question-word overlap next to the dense cosine
    # xLSTM re-ranking (z-score x base spread), see bench.rerank_study; dev (83 questions): 0.3
    # lowered key terms (similarity 0.737 -> 0.704), 0.1 leaves them as extractive has them
    upr_weight: float = 0.1
    # the xLSTM's signal: "token-reader" (the xLSTM reading MiniLM token states,
    # `xlstm_model.token_reader`), "reader" (the language model's reader head), "upr-pmi" or
    # "upr" (re-ranking by the language model); "auto" = the first of token-reader, reader,
    # upr-pmi that the trained model has (`make train` trains a token reader)
    upr_signal: str = "auto"
    # the token reader's weight (z-score x base spread), on 24 units. Session 14 (dev, the reader
    # trained on grouped table rows too; similarity / compression key terms): extractive 0.667 /
    # 0.684, 0.15 0.691 / 0.690, 0.2 0.696 / 0.684, 0.3 0.688 / 0.663, 0.5 0.677 / 0.674
    token_weight: float = 0.2
    # refuse when the best dense + lexical score is below. 0.55 on the dev split (127 questions,
    # bench.tune_answers): 0.68 refused 5-7 % of answerable questions, 0.50-0.64 none or one
    # and the same unanswerable ones (the name test of app.refusal catches those)
    refusal_threshold: float = 0.55
    refuse_unnamed: bool = True  # refuse when the evidence never names what the question names
    refuse_missing_row: bool = True  # ... or asks a table value of a model no table row reports
    compression_threshold: float = 0.35  # the compression retriever's EmbeddingsFilter cut
    max_new_tokens: int = 96  # free-generation mode
    # The reader (app.reader): weights of its signals next to the dense + lexical score.
    type_weight: float = 0.15  # answer-type fit (a number for "how many", a reason for "why")
    novelty_weight: float = 0.15  # what a unit says beyond the question's words
    role_weight: float = 0.3  # captions, equations, references, headings do not answer
    # the unit says what the question asks for ("which *training step* ..."; not table rows).
    # Dev (236, session 17), similarity / compression / hybrid key terms: 0 0.681 / 0.671 /
    # 0.725, 0.1 0.693 / 0.687 / 0.731, 0.15 0.688 / 0.691 / 0.738, 0.2 0.688 / 0.691 / 0.743
    focus_weight: float = 0.15
    handoff: float = 0.05  # a pointer hands its score, less this, to what it points to
    short_answer: bool = True  # open factoid and numeric answers with the short answer
    # cut by "rules" (`app.short_answer`: a table cell, a number with its unit, a name, else
    # the phrase the best quote adds), by the "xlstm" token reader (its span in the best unit
    # it read), or "rules+xlstm": the rules, the xLSTM's span where they find only a phrase
    short_source: str = "rules"
    short_phrase: bool = True  # the rules may fall back to the phrase the best quote adds
    read_tables: bool = True  # also read the rows of tables the evidence names
    lookup_tables: bool = True  # ... and of tables the question names by row and column
    expand_acronyms: bool = True  # "Gated Linear Attention" also reads as "GLA" (the paper's)
    # quotes stop before the answer passes this many words (the first is always kept); dev:
    # 120 trims the longest answers (mean 60 -> 54 words, similarity) at the same key terms, 70
    # and below lose key terms (0.737 -> 0.711). Session 9 (neighbour chunks read, bench.
    # tune_answers): 120 / 100 / 90 / 80 -> similarity 0.744 / 0.744 / 0.736 / 0.723 key terms
    # at 63 / 59 / 57 / 51 words (compression 0.708 / 0.708 / 0.708 / 0.700 at 57 / 55 / 54 / 51)
    max_words: int = 100
    short_support: int = 1  # quotes after the short answer's own units (dev: 2 adds words only)
    reason_windows: bool = True  # a "why" question also reads a sentence with the reason after it
    # a number question also reads a sentence with the next one when that one completes it
    # with a value ("... peak learning rate 4e-4 ... This model reaches a perplexity of 16.38")
    number_windows: bool = True
    # a list question also reads a sentence with the enumeration after it ("... rediscovered in
    # many recent approaches. Gating was used in HGRN (...), HGRN2 (...), ... and Mamba")
    list_windows: bool = True
    neighbours: int = 3  # also read the chunks beside the best this many retrieved (0 = off)
    # a retrieved sentence (compression) is read in its whole chunk, for the best this many
    # (0 = off). Dev (236, session 18), compression key terms: 0 0.691, 3 0.696, 10 0.708
    sentence_chunks: int = 10
