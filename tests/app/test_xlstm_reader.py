"""The trained xLSTM reader through the reader seam (app.reader.Reader)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.answer import AnswerSettings
from app.reader import xlstm_reader
from app.reader_signals import reader_signals
from xlstm_model.reading import Reading


@dataclass
class _Unit:
    text: str
    kind: str = "text"
    metadata: dict = field(default_factory=dict)
    xlstm_span: str = ""


def test_xlstm_reader_scores_units_and_keeps_the_chosen_span() -> None:
    seen = []

    def read(question: str, texts: list[str]) -> list[Reading]:
        seen.append((question, texts))
        return [Reading(float(len(t)), t.split()[-1], len(t) - len(t.split()[-1]), len(t))
                for t in texts]  # fmt: skip

    units = [_Unit("It has 12 layers"), _Unit("No")]
    scores = xlstm_reader(read)("How many layers?", units)
    assert list(scores) == [16.0, 2.0] and seen == [("How many layers?", [u.text for u in units])]
    assert [u.xlstm_span for u in units] == ["layers", "No"] and units[0].metadata == {}


def test_the_settings_switch_picks_the_reader_or_upr() -> None:
    class Generator:
        reader_head = False
        token_reader = None

        def has_reader(self):
            return self.reader_head

        def read(self, question, texts):
            return []

        def upr_scores(self, question, texts, signal="upr-pmi"):
            return []

    reader = reader_signals(AnswerSettings(upr_signal="reader"), Generator())
    upr = reader_signals(AnswerSettings(), Generator())  # "auto": this model has no reader head
    with_head = Generator()
    with_head.reader_head = True
    auto = reader_signals(AnswerSettings(), with_head)
    assert [r.name for r in auto] == ["heuristic", "xlstm-reader"]
    assert [r.name for r in reader_signals(AnswerSettings(upr_signal="upr"), with_head)] == [
        "heuristic",
        "upr",
    ]
    extractive = reader_signals(AnswerSettings(mode="extractive", upr_signal="reader"), Generator())
    assert [r.name for r in reader] == ["heuristic", "xlstm-reader"]
    assert [r.name for r in upr] == ["heuristic", "upr"]
    assert [r.name for r in extractive] == ["heuristic"]


def test_auto_prefers_the_token_reader_and_reads_24_units() -> None:
    class Generator:
        token_reader = object()  # a loaded xlstm_model.token_reader.TokenReaderRun

        def has_reader(self):
            return True

        def token_read(self, question, texts):
            return [Reading(float(len(t)), t[:1], 0, 1) for t in texts]

        def read(self, question, texts):
            return []

    auto = reader_signals(AnswerSettings(token_weight=0.3), Generator())
    assert [r.name for r in auto] == ["heuristic", "xlstm"]
    assert (auto[1].weight, auto[1].top, auto[1].zscore) == (0.3, 24, True)
    units = [_Unit("abc"), _Unit("a")]
    assert list(auto[1].reader("q", units)) == [3.0, 1.0]
    assert [u.xlstm_span for u in units] == ["a", "a"]  # the span each reading chose
    forced = reader_signals(AnswerSettings(upr_signal="reader"), Generator())
    assert [r.name for r in forced] == ["heuristic", "xlstm-reader"]
