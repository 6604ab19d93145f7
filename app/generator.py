"""The answer generator's resources: sentence embeddings and the locally trained xLSTM."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from app.errors import UserError
from app.reader import answer_type


@dataclass
class AnswerGenerator:
    """Embeddings for evidence scoring, plus the xLSTM run (None when none is trained yet).

    The model is shared by every session of the UI; a lock keeps one forward pass at a time so
    concurrent questions do not fight over the two CPU cores.
    """

    embeddings: Embeddings
    run: Any = None  # xlstm_model.checkpoint.LoadedRun
    # xlstm_model.token_reader.TokenReaderRun: the xLSTM reading MiniLM token states; None: none
    token_reader: Any = None
    run_dir: str | None = None
    # (source, chunk_index) -> the stored chunk; completes answers that quote a sentence
    # announcing a list (see app.lists.announced_items). None: no completion.
    chunk: Callable[[str, int], Document | None] | None = None
    # (source, name key) -> whether that paper mentions the name anywhere (app.refusal); None:
    # only the retrieved passages are checked
    mentions: Callable[[str, str], bool] | None = None
    # (source, table number) -> that table's row units: an answer reads the rows of a table
    # its evidence names (app.evidence.table_candidates). None: only retrieved rows are read.
    table_rows: Callable[[str, int], list[Document]] | None = None
    # source -> its table numbers, and source -> its acronyms (long form -> acronym): an answer
    # also reads the tables a question names by row and column (app.table_lookup). None: not.
    tables: Callable[[str], list[int]] | None = None
    acronyms: Callable[[str], dict[str, str]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def require_model(self) -> Any:
        if self.run is None:
            where = self.run_dir or "data/models/default"
            msg = (
                f"no trained xLSTM model at {where}; run `make train` "
                "(or answer with --mode extractive)"
            )
            raise UserError(msg)
        return self.run

    def upr_scores(
        self, question: str, passages: list[str], signal: str = "upr-pmi"
    ) -> list[float]:
        """The xLSTM's re-ranking score of each passage for the question: "upr-pmi" sums the
        question tokens' gain in log-probability from the passage; "upr" is the mean
        log p(question | passage) per question token."""
        run = self.require_model()
        from xlstm_model.scoring import upr_pmi_scores, upr_scores

        score = upr_pmi_scores if signal == "upr-pmi" else upr_scores
        with self._lock:
            return score(run, question, passages)

    def has_reader(self) -> bool:
        """Whether the loaded model has a reader head (trained with `--qa reader`)."""
        model = getattr(self.run, "model", None)
        return getattr(model, "reader_head", None) is not None

    def read(self, question: str, passages: list[str]) -> list:
        """The trained xLSTM reader's `xlstm_model.reading.Reading` (score, quoted span) per
        passage; UserError when the model has no reader head."""
        run = self.require_model()
        from xlstm_model.errors import ModelError
        from xlstm_model.reading import read_units

        try:
            with self._lock:
                return read_units(run, question, passages)
        except ModelError as e:
            raise UserError(f"{e}; or choose --set upr_signal=upr-pmi") from e

    def token_read(self, question: str, passages: list[str]) -> list:
        """The xLSTM token reader's `xlstm_model.reading.Reading` (score, quoted span) per
        passage (a question that wants a number gets a span that starts on one); UserError
        without a token reader."""
        if self.token_reader is None:
            where = self.run_dir or "data/models/default"
            raise UserError(f"no xLSTM token reader in {where}; run `make train`")
        wants_number = answer_type(question) == "number"
        return self.token_reader.read(question, passages, wants_number=wants_number)

    def generate(self, question: str, docs: list[Document], max_new_tokens: int) -> Iterator[str]:
        """Free generation from the evidence (exploratory), streamed through the LangChain LLM."""
        from app.llm import XLSTMLLM, answer_chain

        llm = XLSTMLLM(run=self.require_model(), max_new_tokens=max_new_tokens, lock=self._lock)
        context = " ".join(d.page_content for d in docs)
        yield from answer_chain(llm).stream({"context": context, "question": question})
