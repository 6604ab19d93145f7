from __future__ import annotations

import pytest

from xlstm_model.errors import ModelError
from xlstm_model.prompt import (
    SPECIAL_TOKENS,
    clean_text,
    format_answer,
    format_passage_for_upr,
    format_prompt,
)
from xlstm_model.tokenizer import Tokenizer, train_tokenizer

TEXTS = [
    "The xLSTM extends the LSTM with exponential gating and a matrix memory. " * 20,
    "Ünïcode text — with dashes, digits 12345 and symbols {}[]<>. " * 20,
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train_tokenizer(TEXTS, vocab_size=400)


def test_special_tokens_take_the_first_ids(tokenizer: Tokenizer) -> None:
    assert [tokenizer.token_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3, 4]
    assert tokenizer.eot_id == 0 and tokenizer.pad_id == 4
    assert tokenizer.vocab_size <= 400


def test_round_trip_is_lossless_on_any_text(tokenizer: Tokenizer) -> None:
    text = "Unseen wörds, emoji 🙂 and\nnew lines\tkeep their bytes."
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_special_literals_in_text_become_single_tokens(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode(
        format_prompt("some context", "a question?") + format_answer("an answer")
    )
    for token in SPECIAL_TOKENS[:4]:
        assert ids.count(tokenizer.token_id(token)) == 1
    assert ids[0] == tokenizer.token_id("<|context|>") and ids[-1] == tokenizer.eot_id


def test_prompt_then_answer_tokenizes_like_the_whole_example(tokenizer: Tokenizer) -> None:
    prompt, answer = format_prompt("the context", "why?"), format_answer("because")
    whole = tokenizer.encode(format_prompt("the context", "why?") + format_answer("because"))
    assert tokenizer.encode(prompt) + tokenizer.encode(answer) == whole


def test_formats_strip_special_literals_and_whitespace() -> None:
    assert clean_text("a <|answer|> b\n\n c") == "a b c"
    assert format_prompt("c", "q") == "<|context|> c <|question|> q <|answer|>"
    assert format_passage_for_upr("p  p") == "<|context|> p p <|question|>"


def test_save_and_load_round_trip(tokenizer: Tokenizer, tmp_path) -> None:
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    loaded = Tokenizer.from_file(path)
    assert loaded.encode("exponential gating") == tokenizer.encode("exponential gating")
    assert loaded.info()["special_tokens"]["<|pad|>"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["tokenizer.json"]  # no temp file left


def test_missing_tokenizer_is_a_model_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="no tokenizer"):
        Tokenizer.from_file(tmp_path / "tokenizer.json")


def test_corrupt_tokenizer_is_a_model_error(tmp_path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="corrupt tokenizer"):
        Tokenizer.from_file(path)
