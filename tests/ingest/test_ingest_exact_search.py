"""ingest.exact_search: similarity queries score every visible chunk (HNSW may miss outliers)."""

from __future__ import annotations

import chromadb
import numpy as np
import pytest

from ingest.exact_search import ExactIndex

RNG = np.random.default_rng(0)


@pytest.fixture()
def collection():
    client = chromadb.EphemeralClient()
    name = f"exact{RNG.integers(1_000_000)}"
    col = client.create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
    vectors = RNG.normal(size=(300, 16)).astype(np.float32)
    col.add(
        ids=[f"c{i:03d}" for i in range(300)],
        embeddings=vectors.tolist(),
        documents=[f"chunk {i}" for i in range(300)],
        metadatas=[{"source": "a.pdf" if i < 200 else "b.pdf", "i": i} for i in range(300)],
    )
    yield col, vectors
    client.delete_collection(name)


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return list(np.argsort(-(unit @ (query / np.linalg.norm(query))), kind="stable")[:k])


def test_the_exact_top_k_with_chroma_distances_and_filters(collection) -> None:
    col, vectors = collection
    index = ExactIndex(col)
    query = RNG.normal(size=16).astype(np.float32)
    got = index.query([query.tolist()], 5, None)
    assert got["ids"][0] == [f"c{i:03d}" for i in brute_force(vectors, query, 5)]
    cos = 1 - np.array(got["distances"][0])
    assert np.all(np.diff(cos) <= 0) and got["embeddings"] is None
    assert got["documents"][0][0] == f"chunk {int(got['ids'][0][0][1:])}"
    # Chroma's own `where` decides which chunks count; its distances agree with ours
    only_b = index.query([query.tolist()], 3, {"source": "b.pdf"}, include=["embeddings"])
    assert all(m["source"] == "b.pdf" for m in only_b["metadatas"][0])
    assert len(only_b["embeddings"][0]) == 3
    chroma = col.query(query_embeddings=[query.tolist()], n_results=3, where={"source": "b.pdf"})
    assert np.allclose(sorted(chroma["distances"][0]), sorted(only_b["distances"][0]), atol=1e-5)
    assert index.query([query.tolist()], 3, {"source": "c.pdf"})["ids"] == [[]]


def test_an_outlier_far_from_every_other_chunk_is_found(collection) -> None:
    col, _ = collection
    outlier = np.zeros(16, dtype=np.float32)
    outlier[0] = 1.0
    col.add(
        ids=["upload"],
        embeddings=[outlier.tolist()],
        documents=["zebrafish"],
        metadatas=[{"source": "u.pdf"}],
    )
    index = ExactIndex(col)
    assert index.query([outlier.tolist()], 1, None)["ids"] == [["upload"]]
    # a changed filter (a paper added) is a new matrix, never a stale one
    assert index.query([outlier.tolist()], 1, {"source": "a.pdf"})["ids"][0] != ["upload"]


def test_a_store_beyond_the_bound_is_left_to_hnsw(collection) -> None:
    col, _ = collection
    assert ExactIndex(col, max_chunks=299).query([[1.0] * 16], 3, None) is None
    assert len(ExactIndex(col, max_chunks=300).query([[1.0] * 16], 3, None)["ids"][0]) == 3
