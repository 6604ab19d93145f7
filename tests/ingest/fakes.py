"""Deterministic stand-ins for ingest tests."""

from __future__ import annotations

import hashlib
import math
import re

from langchain_core.embeddings import Embeddings

DIM = 64


class FakeEmbeddings(Embeddings):
    """Hashed bag of words, L2-normalised: texts sharing words are close. No model, instant."""

    xrag_model_name = "fake-hash-64"
    xrag_dimension = DIM
    stopwords: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.calls = 0

    def _embed(self, text: str) -> list[float]:
        dim = self.xrag_dimension
        vector = [0.0] * dim
        for word in re.findall(r"[a-z0-9.]+", text.lower()):
            if word not in self.stopwords:
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0:
            return [1.0] + [0.0] * (dim - 1)
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class OtherFakeEmbeddings(FakeEmbeddings):
    """Same vectors, another model name: opening a store built with FakeEmbeddings must fail."""

    xrag_model_name = "other-model"


def paper_pages(topic: str, n_pages: int = 3, paragraphs: int = 3) -> list[str]:
    """Plausible page texts about `topic` (distinct per page) for generated PDFs."""
    pages = []
    for p in range(1, n_pages + 1):
        body = [
            f"Section {p}.{k} discusses {topic} in detail. The {topic} method number {p}{k} "
            f"improves results on benchmark {p * 10 + k}. We describe experiments, ablations "
            f"and the limitations of {topic} across several settings and data sets."
            for k in range(1, paragraphs + 1)
        ]
        pages.append("\n".join(body))
    return pages
