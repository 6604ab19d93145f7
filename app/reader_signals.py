"""Which readers score the evidence: the heuristic reader (`app.reader`) and the xLSTM.

The xLSTM comes in through the reader seam in one of its forms: the token reader
(`xlstm_model.token_reader`, trained by `make train`), the language model's reader head, or
its UPR re-ranking; `xlstm_signal` resolves "auto" to the first the loaded model has.
"""

from __future__ import annotations

import functools

from app.answer_settings import AnswerSettings
from app.evidence import ReaderSignal
from app.generator import AnswerGenerator
from app.reader import ReaderWeights, heuristic_reader, upr_reader, xlstm_reader


def xlstm_signal(choice: str, generator: AnswerGenerator) -> str:
    """The xLSTM signal an answer uses: `choice`, with "auto" resolved by the loaded model."""
    if choice != "auto":
        return choice
    if generator.token_reader is not None:
        return "token-reader"
    return "reader" if generator.has_reader() else "upr-pmi"


def reader_signals(settings: AnswerSettings, generator: AnswerGenerator) -> list[ReaderSignal]:
    """The readers of the evidence: the heuristic reader, and in the "extractive-xlstm" mode
    the xLSTM: its token reader on the best 24 units, or the language model's reader head or
    UPR re-ranking on the best 12; z-scored onto the spread of the base scores."""
    weights = ReaderWeights(
        settings.type_weight, settings.novelty_weight, settings.role_weight, settings.focus_weight
    )
    readers = [ReaderSignal(heuristic_reader(weights), 1.0, name="heuristic")]
    if settings.mode == "extractive-xlstm":
        signal = xlstm_signal(settings.upr_signal, generator)
        if signal == "token-reader":
            tokens = xlstm_reader(generator.token_read)  # keeps the span it chose per unit
            readers.append(ReaderSignal(tokens, settings.token_weight, 24, True, "xlstm"))
        elif signal == "reader":
            xlstm = xlstm_reader(generator.read)
            readers.append(ReaderSignal(xlstm, settings.upr_weight, 12, True, "xlstm-reader"))
        else:
            upr = functools.partial(generator.upr_scores, signal=signal)
            readers.append(ReaderSignal(upr_reader(upr), settings.upr_weight, 12, True, "upr"))
    return readers
