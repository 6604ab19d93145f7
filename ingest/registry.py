"""The paper registry: one record per ingested paper, in a small Chroma collection.

A paper's chunks become visible only when its record says "complete", and one record write
flips it, so readers never see half a paper. A record may name older versions it supersedes;
those are hidden as soon as the newer record is complete (and deleted right after).
Living in Chroma itself, the registry works the same for the embedded store and the server.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

PENDING = "pending"
COMPLETE = "complete"
_NO_PAPER = "__none__"


@dataclass(frozen=True)
class PaperRecord:
    """Registry entry of one ingested paper."""

    paper_id: str
    source: str
    title: str
    arxiv_id: str
    sha256: str
    pages: int
    chunks: int
    state: str  # PENDING while chunks are written, then COMPLETE
    supersedes: tuple[str, ...] = ()  # paper_ids of older versions this one replaces
    created_at: float = 0.0
    completed_at: float = 0.0
    heartbeat: float = 0.0  # last sign of life of the writer (pending records)
    owner: str = ""  # host:pid of the writer

    def to_metadata(self) -> dict:
        data = dataclasses.asdict(self)
        data["supersedes"] = ",".join(self.supersedes)
        return data

    @classmethod
    def from_metadata(cls, data: dict) -> PaperRecord:
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["supersedes"] = tuple(s for s in str(data.get("supersedes", "")).split(",") if s)
        return cls(**values)


class PaperRegistry:
    """Reads and writes paper records in `collection` (a chromadb Collection)."""

    def __init__(self, collection) -> None:
        self.collection = collection

    def all(self) -> list[PaperRecord]:
        result = self.collection.get(include=["metadatas"])
        return [PaperRecord.from_metadata(m) for m in result["metadatas"] or []]

    def get(self, paper_id: str) -> PaperRecord | None:
        result = self.collection.get(ids=[paper_id], include=["metadatas"])
        metadatas = result["metadatas"] or []
        return PaperRecord.from_metadata(metadatas[0]) if metadatas else None

    def put(self, record: PaperRecord) -> None:
        """Writes `record` (one atomic upsert)."""
        self.collection.upsert(
            ids=[record.paper_id],
            embeddings=[[1.0]],
            documents=[record.title or record.source],
            metadatas=[record.to_metadata()],
        )

    def delete(self, paper_id: str) -> None:
        self.collection.delete(ids=[paper_id])

    def split(self) -> tuple[list[PaperRecord], list[PaperRecord], list[PaperRecord]]:
        """(visible, hidden, pending): hidden = complete but superseded by a later one."""
        records = self.all()
        complete = [r for r in records if r.state == COMPLETE]
        newest: dict[str, float] = {}
        for r in complete:
            for old in r.supersedes:
                newest[old] = max(newest.get(old, 0.0), r.completed_at)
        visible = [r for r in complete if newest.get(r.paper_id, -1.0) <= r.completed_at]
        hidden = [r for r in complete if r not in visible]
        pending = [r for r in records if r.state != COMPLETE]
        return visible, hidden, pending

    def visible(self) -> list[PaperRecord]:
        return self.split()[0]


def visible_where(records: list[PaperRecord]) -> dict:
    """The Chroma `where` filter that admits only chunks of `records`."""
    ids = sorted(r.paper_id for r in records) or [_NO_PAPER]
    return {"paper_id": {"$in": ids}}
