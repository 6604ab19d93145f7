"""Byte-level BPE tokenizer (Hugging Face `tokenizers`) with the answer format's special tokens."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from xlstm_model.errors import ModelError
from xlstm_model.files import atomic_write_text
from xlstm_model.prompt import ENDOFTEXT, PAD, SPECIAL_TOKENS

logger = logging.getLogger(__name__)

DEFAULT_VOCAB_SIZE = 4096


class Tokenizer:
    """A thin wrapper over a `tokenizers.Tokenizer` with the ids the model code needs."""

    def __init__(self, hf_tokenizer: HFTokenizer) -> None:
        self.hf = hf_tokenizer
        missing = [t for t in SPECIAL_TOKENS if hf_tokenizer.token_to_id(t) is None]
        if missing:
            msg = f"tokenizer lacks the special tokens {missing}; retrain it with xlstm_model.train"
            raise ModelError(msg)
        self.eot_id = self.token_id(ENDOFTEXT)
        self.pad_id = self.token_id(PAD)

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size(with_added_tokens=True)

    def token_id(self, token: str) -> int:
        """The id of one token (special tokens included)."""
        token_id = self.hf.token_to_id(token)
        if token_id is None:
            msg = f"token {token!r} is not in the vocabulary"
            raise ModelError(msg)
        return token_id

    def encode(self, text: str) -> list[int]:
        """Ids of `text`; special-token literals in it become their special ids."""
        return self.hf.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.hf.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        return self.hf.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def save(self, path: str | Path) -> None:
        """Writes tokenizer.json atomically."""
        atomic_write_text(Path(path), self.hf.to_str())

    def info(self) -> dict:
        """What config.json records about the tokenizer."""
        return {
            "type": "byte-level-bpe",
            "vocab_size": self.vocab_size,
            "special_tokens": {t: self.token_id(t) for t in SPECIAL_TOKENS},
        }

    @classmethod
    def from_file(cls, path: str | Path) -> Tokenizer:
        path = Path(path)
        if not path.is_file():
            msg = f"no tokenizer at {path}; train a model first (python -m xlstm_model.train)"
            raise ModelError(msg)
        try:
            return cls(HFTokenizer.from_file(str(path)))
        except Exception as e:  # tokenizers raises a bare Exception for bad JSON
            msg = f"corrupt tokenizer file {path} ({_first_line(e)}); retrain the model"
            raise ModelError(msg) from e


def train_tokenizer(texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE) -> Tokenizer:
    """Trains a byte-level BPE on `texts`; special tokens take ids 0..4."""
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator(texts, trainer=trainer)
    logger.info("trained a byte-level BPE with %d tokens", hf.get_vocab_size())
    return Tokenizer(hf)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]


def tokenizer_fingerprint(tokenizer: Tokenizer) -> str:
    """A short hash of the vocabulary, to check a checkpoint was trained with this tokenizer."""
    import hashlib

    vocab = json.dumps(sorted(tokenizer.hf.get_vocab().items()))
    return hashlib.sha256(vocab.encode()).hexdigest()[:16]
