"""An embeddings wrapper that remembers sentence vectors (thread-safe LRU).

Compression and the answer generator embed the sentences of retrieved chunks on every question;
the same chunks come back often, so caching their vectors removes most of that cost.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from langchain_core.embeddings import Embeddings


class CachedEmbeddings(Embeddings):
    """Wraps `inner`; `embed_documents` computes only the texts it has not seen."""

    def __init__(self, inner: Embeddings, max_entries: int = 50_000) -> None:
        self.inner = inner
        self.max_entries = max_entries
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.inner.embed_documents(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        with self._lock:
            out = []
            for text in texts:
                vector = self._cache.get(text)
                if vector is None:  # evicted meanwhile by another thread
                    vector = self.inner.embed_documents([text])[0]
                else:
                    self._cache.move_to_end(text)
                out.append(vector)
            return out

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)
