"""Scoping evaluation questions to their evidence paper through the retrievers' paper filter.

The seam is one settings field: `RetrieverSettings.papers: tuple[str, ...] | None` (None = the
whole library), set through `Resources.retriever(name, k, papers=...)`. The names passed are
the question set's evidence paper names (PDF file names such as "xlstm-2405.04517v2.pdf"); the
retrievers keep only chunks of those papers. Until the retrievers have that field, evaluation
runs unscoped and says so in its report.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from app.errors import UserError
from app.question_set import Question, scope_papers

logger = logging.getLogger(__name__)


def supports_paper_scope(resources: Any) -> bool:
    """Whether the retrievers take a paper filter (a `papers` field in their settings)."""
    settings = getattr(resources, "retriever_settings", None)
    if settings is None or not dataclasses.is_dataclass(settings):
        return False
    return "papers" in {f.name for f in dataclasses.fields(settings)}


class ScopedRetrievers:
    """Retrievers of one kind, one per paper scope, built on first use."""

    def __init__(self, resources: Any, name: str, k: int) -> None:
        self.resources, self.name, self.k = resources, name, k
        self.built: dict[tuple[str, ...], Any] = {}

    def get(self, papers: tuple[str, ...]) -> Any:
        """The retriever restricted to `papers`; unrestricted when `papers` is empty."""
        if papers not in self.built:
            scope = {"papers": papers} if papers else {}
            self.built[papers] = self.resources.retriever(self.name, self.k, **scope)
        return self.built[papers]


def question_scopes(
    questions: Sequence[Question], resources: Any, unscoped: bool
) -> tuple[dict[str, tuple[str, ...]] | None, str]:
    """(papers per question id or None, how the report names the scope)."""
    if unscoped:
        return None, "unscoped (--unscoped)"
    if not supports_paper_scope(resources):
        note = "unscoped: the retrievers have no paper filter yet (RetrieverSettings.papers)"
        logger.warning("%s", note)
        return None, note
    scopes = scope_papers(questions)
    require_stored(resources, {p for papers in scopes.values() for p in papers})
    return scopes, "evidence paper"


def require_stored(resources: Any, papers: set[str]) -> None:
    """A `UserError` naming the first paper the store cannot find (file name, arXiv id or
    paper id, as `PaperStore.find_papers` resolves them): a scope on it would retrieve nothing."""
    find = getattr(resources.store, "find_papers", None)
    if find is None:
        return
    missing = sorted(p for p in papers if not find(p))
    if missing:
        msg = (
            f"the questions name paper {missing[0]!r}, which the store does not hold; "
            f"ingest it (python -m ingest FILE.pdf) or run --unscoped"
        )
        raise UserError(msg)
