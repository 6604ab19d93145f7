"""Evidence selection helpers: enumeration items travel together in list answers."""

import numpy as np

from app.evidence import Candidate, enumeration_rank, select, with_enumeration_siblings


def _candidate(text: str, page: int = 1, source: str = "xlstm.pdf") -> Candidate:
    return Candidate(text, 0, {"source": source, "page": page})


def test_enumeration_rank_reads_ordinal_openers():
    assert enumeration_rank("Firstly, we introduce exponential gating.") == 1
    assert enumeration_rank("Second, the memory.") == 2
    assert enumeration_rank("Finally, residual blocks.") == 99
    assert enumeration_rank("The first model is small.") is None
    assert enumeration_rank("Firstborn is not an ordinal opener.") is None


def test_a_chosen_item_brings_its_siblings_in_order():
    candidates = [
        _candidate("Secondly, we modify the LSTM memory structure."),  # 0, chosen
        _candidate("A matrix memory is parallelizable.", page=5),  # 1, chosen
        _candidate("Firstly, we introduce exponential gating."),  # 2, sibling
        _candidate("Firstly, another paper's first point.", source="other.pdf"),  # 3, not
        _candidate("Finally, we stack residual blocks."),  # 4, sibling
        _candidate("Unrelated sentence on page one."),  # 5
    ]
    assert with_enumeration_siblings(candidates, [0, 1], limit=6) == [2, 0, 4, 1]
    assert with_enumeration_siblings(candidates, [0, 1], limit=2) == [2, 0]


def test_answers_without_enumerations_are_unchanged():
    candidates = [_candidate("One."), _candidate("Two."), _candidate("Firstly, three.", page=2)]
    assert with_enumeration_siblings(candidates, [1, 0], limit=5) == [1, 0]


def test_select_keeps_items_within_the_margin_and_skips_near_duplicates():
    scores = [0.9, 0.85, 0.84, 0.5]
    candidates = [Candidate(f"s{i}", 0, {}, score=x) for i, x in enumerate(scores)]
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, -0.8]])  # s1 repeats s0
    assert select(candidates, vectors, 4) == [0, 2, 3]
    assert select(candidates, vectors, 4, margin=0.2) == [0, 2]  # s3 is 0.4 below the best
    assert select(candidates, vectors, 1) == [0]
