"""The reader-groups study: how often the base score alone solves the corpus questions."""

from types import SimpleNamespace

from bench.reader_groups_study import base_first, main, sampled, study
from tests.helpers.fake_store import HashEmbeddings
from xlstm_model.reader_data import echo_of


def _group(question: str, texts: list[str], split: str) -> SimpleNamespace:
    return SimpleNamespace(question=SimpleNamespace(text=question), texts=tuple(texts), split=split)


QUESTION = "What memory does the sLSTM have?"
ECHO = echo_of(SimpleNamespace(text=QUESTION))  # restates every word of the question


def test_the_base_ranks_the_answering_unit_first_unless_the_echo_outscores_it() -> None:
    emb = HashEmbeddings()
    answer, other = "The sLSTM has a scalar memory.", "Cats sleep a lot during the day."
    assert base_first(QUESTION, [answer, other], emb, 0.5)
    assert not base_first(QUESTION, [answer, ECHO, other], emb, 0.5)
    groups = [
        _group(QUESTION, [answer, ECHO, other], "val"),
        _group(QUESTION, [other, answer], "train"),
    ]
    result = study(groups, emb, 0.5)
    assert result["val"] == {
        "groups": 1,
        "chance": 0.333,
        "base_first": 0.0,
        "base_first_no_echo": 1.0,
    }
    assert result["train"]["base_first"] == 0.0 and result["train"]["chance"] == 0.5


def test_sampling_keeps_every_held_out_group() -> None:
    groups = [_group(QUESTION, ["a"], "train") for _ in range(5)] + [_group(QUESTION, ["b"], "val")]
    kept = sampled(groups, 2)
    assert len(kept) == 3 and sum(g.split == "val" for g in kept) == 1


def test_an_empty_corpus_is_a_one_line_error(tmp_path, capsys) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert main(["--corpus", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
