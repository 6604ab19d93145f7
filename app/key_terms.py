"""Key-term matching: does a text state a question's key facts ("14.26", "GPT-3", "matrix memory")?

Robust to layout, strict on values. Both the term and the text are cut into tokens the same way:

- Unicode compatibility forms are folded (ligatures, full-width digits), case is ignored.
- Hyphens, dashes and minus signs separate tokens like spaces do ("RWKV-5" = "RWKV 5",
  "skip-connections" = "skip connections"); so does every other punctuation mark
  ("xLSTM[7:1]" = "xLSTM [7:1]"), except a percent sign, which is a token of its own.
- A number is one token with its decimal point and thousands commas ("2,417.86" = "2417.86"), and
  must match exactly: "14.26" matches neither "14.2" nor "114.26" nor "14.265". Letters and
  digits are separate tokens ("15B" = "15 B", "A100" = "A 100").
- The articles a, an, the are dropped (as whole words: "A100" keeps its "a").

A term matches where its tokens appear adjacent and in order in the text's tokens; a word of the
term also matches its plural with "s" or "es" ("LayerNorm" in "LayerNorms"), numbers never do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_DASHES = re.compile(r"[\u002d\u2010-\u2015\u2212\ufe58\ufe63\uff0d_]")
_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)*|[^\W\d_]+|%")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PLURAL_ENDINGS = ("s", "es")


def key_term_tokens(text: str) -> tuple[str, ...]:
    """The matching tokens of `text` (see the module docstring)."""
    folded = _DASHES.sub(" ", unicodedata.normalize("NFKC", text).lower())
    words = _ARTICLES.sub(" ", folded)  # whole words only: the "a" of "A100" stays
    return tuple(t.replace(",", "") if t[0].isdigit() else t for t in _TOKEN.findall(words))


def _same_token(term: str, token: str) -> bool:
    if term == token:
        return True
    if not term.isalpha():
        return False
    return any(token == term + ending for ending in _PLURAL_ENDINGS)


def _contains(tokens: Sequence[str], term: Sequence[str]) -> bool:
    width = len(term)
    return any(
        all(_same_token(t, tokens[start + i]) for i, t in enumerate(term))
        for start in range(len(tokens) - width + 1)
    )


def states_term(text: str, term: str) -> bool:
    """Whether `text` states the key term `term`; a term without tokens is never stated."""
    wanted = key_term_tokens(term)
    return bool(wanted) and _contains(key_term_tokens(text), wanted)


def _usable(key_terms: Iterable[str]) -> list[tuple[str, ...]]:
    return [tokens for tokens in map(key_term_tokens, key_terms) if tokens]


def key_term_recall(prediction: str, key_terms: Sequence[str]) -> float | None:
    """Share of `key_terms` that `prediction` states; None without (usable) key terms."""
    terms = _usable(key_terms)
    if not terms:
        return None
    tokens = key_term_tokens(prediction)
    return sum(_contains(tokens, term) for term in terms) / len(terms)


def key_terms_in_passages(passages: Iterable[str], key_terms: Sequence[str]) -> float | None:
    """Share of `key_terms` stated by at least one passage (a term never spans two passages);
    None without (usable) key terms. Next to `key_term_recall` of the answer, it separates what
    retrieval missed from what the answer dropped."""
    terms = _usable(key_terms)
    if not terms:
        return None
    texts = [key_term_tokens(p) for p in passages]
    return sum(any(_contains(t, term) for t in texts) for term in terms) / len(terms)
