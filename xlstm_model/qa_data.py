"""Question/evidence-shaped training examples built from the corpus itself.

The answer generator re-ranks evidence sentences by the xLSTM's log p(question | sentence) (UPR).
A model pre-trained only on running text is a poor zero-shot scorer of that. `--qa auto`
fine-tunes it on inverse-cloze examples (Lee et al., 2019, "Latent Retrieval for Weakly
Supervised Open Domain QA"): a sentence of a paper plays the question, a neighbouring sentence
the evidence. The model learns which statements a passage makes likely — the relevance signal
UPR reads out. Measured, this left the scores at chance on the question set; the default is now
the listwise re-ranker training of `xlstm_model.rank_data`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
MIN_WORDS, MAX_QUERY_WORDS, MAX_CONTEXT_WORDS = 6, 24, 60


def _sentences(text: str) -> list[str]:
    out = []
    for s in _SENTENCE_END.split(" ".join(text.split())):
        words = s.split()
        if len(words) >= MIN_WORDS and sum(w.isalpha() for w in words) >= len(words) // 2:
            out.append(s)
    return out


def _clip(text: str, max_words: int) -> str:
    return " ".join(text.split()[:max_words])


def inverse_cloze_examples(
    documents: Iterable[str], max_examples: int = 20_000, seed: int = 0
) -> list[dict[str, str]]:
    """`{"context": evidence sentence, "question": neighbouring sentence, "answer": ""}` rows.

    The "question" is trained as the continuation, so a fine-tuned model scores
    log p(question | evidence) the way `xlstm_model.scoring.upr_scores` asks it.
    """
    rng = random.Random(seed)
    examples = []
    for text in documents:
        sentences = _sentences(text)
        for i in range(len(sentences) - 1):
            j = i + 1 if rng.random() < 0.5 or i == 0 else i - 1
            examples.append(
                {
                    "context": _clip(sentences[j], MAX_CONTEXT_WORDS),
                    "question": _clip(sentences[i], MAX_QUERY_WORDS),
                    "answer": "",
                }
            )
    rng.shuffle(examples)
    return examples[:max_examples]
