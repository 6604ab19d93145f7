"""Offline stand-ins: hashed bag-of-words embeddings and an in-memory PaperStore."""

from __future__ import annotations

import uuid

import chromadb
from chromadb.config import Settings
from langchain_chroma import Chroma
from langchain_core.documents import Document

from ingest.store import PaperInfo, _matches
from tests.ingest.fakes import FakeEmbeddings


class HashEmbeddings(FakeEmbeddings):
    """Hashed bag of words without stop words, 256 dimensions: texts sharing words are close."""

    xrag_model_name = "fake-hash-256"
    xrag_dimension = 256
    stopwords = frozenset("a an the of in is are what which it its and or to by with".split())


XLSTM_PAGES = {
    2: "The xLSTM introduces exponential gating with appropriate normalization and stabilization "
    "techniques. We modify the LSTM memory structure.",
    4: "The sLSTM has a scalar memory, a scalar update, and new memory mixing. "
    "Memory mixing happens "
    "within each head through recurrent connections.",
    5: "The mLSTM has a matrix memory and a covariance update rule. The mLSTM is fully "
    "parallelizable because it has no memory mixing.",
    10: "Ablation study: the perplexity of the vanilla LSTM baseline is 2417.86 in Table 2. "
    "Adding exponential gating reduces it strongly.",
    7: "Cats are small domesticated carnivorous mammals. They sleep a lot during the day.",
}


XLSTM = ("xlstm-2405.04517v2.pdf", "xLSTM: Extended Long Short-Term Memory", "2405.04517v2")
MAMBA = (
    "mamba-2312.00752.pdf",
    "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
    "2312.00752v2",
)
MAMBA_PAGES = {
    1: "Mamba is a selective state space model. The selection mechanism lets the SSM "
    "parameters depend on the input, so the model can forget or keep memory per token.",
    3: "The matrix memory of Mamba is a structured state space with a diagonal matrix. "
    "The scan is hardware-aware and runs in linear time.",
    9: "Mamba reaches a perplexity of 8.69 on the Pile. Cats are not mentioned in this paper.",
}


class FakePaperStore:
    """The parts of `ingest.store.PaperStore` that retrievers and answers use; one paper (the
    xLSTM pages) unless more are added with `add_pages(..., paper=MAMBA)`."""

    def __init__(self, pages: dict[int, str] | None = None) -> None:
        self.embeddings = HashEmbeddings()
        client = chromadb.EphemeralClient(Settings(anonymized_telemetry=False))
        self.vectorstore = Chroma(
            collection_name=f"test-{uuid.uuid4().hex[:8]}",
            embedding_function=self.embeddings,
            client=client,
            collection_metadata={"hnsw:space": "cosine"},
        )
        self._docs: list[Document] = []
        self._papers: dict[str, tuple[str, str]] = {}  # source -> (title, arXiv id)
        self._version = 0
        self.add_pages(pages if pages is not None else XLSTM_PAGES)

    def add_pages(
        self,
        pages: dict[int, str],
        source: str = XLSTM[0],
        paper: tuple[str, str, str] | None = None,
    ) -> None:
        """Adds one chunk per page; `paper` = (source, title, arXiv id) of another paper."""
        source, title, arxiv_id = paper or (source, XLSTM[1], XLSTM[2])
        self._papers.setdefault(source, (title, arxiv_id))
        docs = [
            Document(
                page_content=text,
                metadata={
                    "source": source,
                    "title": title,
                    "arxiv_id": arxiv_id,
                    "page": page,
                    "chunk_index": page,  # one chunk per page: the next chunk is the next page
                    "chunk_id": f"{source}:{page}",
                },
                id=f"{source}:{page}",
            )
            for page, text in pages.items()
        ]
        if docs:
            self.vectorstore.add_documents(docs, ids=[d.id for d in docs])
        self._docs.extend(docs)
        self._version += 1

    def all_documents(self) -> list[Document]:
        return list(self._docs)

    def list_papers(self) -> list[PaperInfo]:
        infos = []
        for source, (title, arxiv_id) in self._papers.items():
            docs = [d for d in self._docs if d.metadata["source"] == source]
            if docs:
                pages = len({d.metadata["page"] for d in docs})
                infos.append(PaperInfo(source[:16], source, title, arxiv_id, pages, len(docs)))
        return sorted(infos, key=lambda p: p.title.lower())

    def find_papers(self, paper: str) -> list[PaperInfo]:
        """As `PaperStore.find_papers`: by paper_id (or 6+ prefix), file name, arXiv id, title."""
        return [p for p in self.list_papers() if _matches(p, paper)]

    def version(self) -> str:
        return str(self._version)

    def close(self) -> None:
        pass
