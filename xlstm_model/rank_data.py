"""Question-shaped ranking groups built from the corpus, for training the xLSTM as a re-ranker.

The answer generator ranks evidence sentences by the xLSTM's log p(question | sentence) (UPR).
Maximum-likelihood fine-tuning teaches the model which questions are likely in general, not which
sentence a question asks about: its scores came out nearly flat across candidates. So the model is
trained on what it is used for — telling the sentence a question was asked about from others:

- a *group* is one pseudo-question, the sentence it was made from (the positive, first) and
  sentences of the same paper that do not answer it (negatives): some sharing its words (hard),
  some drawn at random;
- most pseudo-questions are question-shaped: a wh-opening and a few of the sentence's content
  words in order, one sometimes swapped for a word of a neighbouring sentence ("What exponential
  gating normalization?"), the way users ask with the paper's terms; the rest are inverse-cloze
  queries (Lee et al., 2019): a neighbouring sentence, so topical association counts too.

`xlstm_model.rank_dataset` turns groups into token batches and the listwise loss.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from xlstm_model.qa_data import MAX_CONTEXT_WORDS, MAX_QUERY_WORDS, _clip, _sentences

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-\[\]:.]*[A-Za-z0-9\]]|[0-9]+(?:\.[0-9]+)?%?")
_STOPWORDS = frozenset(
    "a an the of in on for to and or is are was were be been by with as at from that this these "
    "those it its which what how why when who whom does do did can could would should than then "
    "there their they we our us you your into over under about also such both each more most "
    "other some only not all any has have had may might will shall while where here see fig "
    "figure table section appendix et al eq".split()
)
_OPENINGS = (
    "What",
    "What is",
    "What are",
    "What does",
    "How",
    "How does",
    "How do",
    "Which",
    "Why",
    "What is the role of",
    "How many",
)
_OPENING_WORDS = frozenset(w.lower() for o in _OPENINGS for w in o.split())
ICT_SHARE = 0.25  # share of groups whose query is a neighbouring sentence
HARD_POOL = 48  # sentences of the paper sampled to find hard negatives


def is_prose(sentence: str) -> bool:
    """False for reference-list entries and author lines (mostly capitalised words)."""
    words = sentence.split()
    capitalised = sum(w[:1].isupper() for w in words)
    return capitalised <= 0.4 * len(words) and not re.search(r"\b(19|20)\d\d[a-z]?\b", sentence)


def content_words(sentence: str) -> list[str]:
    """The sentence's words that carry content (no stop words), in order."""
    return [w for w in _WORD.findall(sentence) if w.lower() not in _STOPWORDS]


def asked_words(question: str) -> set[str]:
    """The lower-cased content words of a question, without its wh-opening."""
    return {w.lower() for w in content_words(question)} - _OPENING_WORDS


def pseudo_question(words: list[str], neighbour_words: list[str], rng: random.Random) -> str:
    """A wh-question made of 2-7 of `words` in order; one may come from a neighbour."""
    k = rng.randint(2, min(7, len(words)))
    keep = sorted(rng.sample(range(len(words)), k))
    picked = [words[i] for i in keep]
    if neighbour_words and rng.random() < 0.3:
        picked[rng.randrange(k)] = rng.choice(neighbour_words)
    return f"{rng.choice(_OPENINGS)} {' '.join(picked)}?"


def _negatives(
    question: str, positive: int, word_sets: list[set[str]], k: int, rng: random.Random
) -> list[int]:
    """k sentence indices other than `positive` and its neighbours: half sharing the most
    question words among a random pool (hard), the rest random."""
    banned = {positive - 1, positive, positive + 1}
    pool = rng.sample(range(len(word_sets)), min(HARD_POOL, len(word_sets)))
    pool = [i for i in pool if i not in banned]
    asked = asked_words(question)

    def shared(i: int) -> int:
        return len(asked & word_sets[i])

    # a sentence with every asked word may well answer the question too: not a negative
    pool = [i for i in pool if shared(i) < len(asked)]
    hard = sorted(pool, key=shared, reverse=True)[: k // 2]
    rest = [i for i in pool if i not in hard]
    return hard + rest[: k - len(hard)]


def ranking_groups(
    documents: Iterable[str], negatives: int = 7, max_groups: int = 6000, seed: int = 0
) -> list[dict]:
    """`{"question": str, "passages": [positive, negative, ...]}` groups, shuffled.

    Every group has exactly `negatives` + 1 passages; documents with too few sentences give none.
    """
    rng = random.Random(seed)
    groups = []
    for text in documents:
        sentences = _sentences(text)
        if len(sentences) < negatives + 4:
            continue
        words_of = [content_words(s) for s in sentences]
        word_sets = [{w.lower() for w in words} for words in words_of]
        for i, (sentence, words) in enumerate(zip(sentences, words_of, strict=True)):
            if len(words) < 3 or not is_prose(sentence):
                continue
            j = i + 1 if i + 1 < len(sentences) and (i == 0 or rng.random() < 0.5) else i - 1
            if rng.random() < ICT_SHARE:
                question = _clip(sentences[j], MAX_QUERY_WORDS)
            else:
                question = pseudo_question(words, words_of[j], rng)
            chosen = _negatives(question, i, word_sets, negatives, rng)
            if len(chosen) < negatives:
                continue
            passages = [sentence] + [sentences[n] for n in chosen]
            groups.append(
                {"question": question, "passages": [_clip(p, MAX_CONTEXT_WORDS) for p in passages]}
            )
    rng.shuffle(groups)
    return groups[:max_groups]
