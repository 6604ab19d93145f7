"""The xLSTM token reader: pair features, padding, training on corpus groups, save and load."""

from __future__ import annotations

import hashlib
import re

import pytest
import torch

from ingest.minilm import TokenStates
from xlstm_model.data import Unit
from xlstm_model.errors import ModelError
from xlstm_model.reader_data import build_groups
from xlstm_model.token_reader import (
    CARD,
    TokenReader,
    TokenReaderConfig,
    TokenReaderEnsemble,
    TokenReaderRun,
    batch_pairs,
    constrain_span_logits,
    has_token_reader,
    load_token_reader,
    pair_features,
    save_token_reader,
    span_reading,
)
from xlstm_model.token_reader_train import (
    accuracy,
    encode_texts,
    fit,
    group_loss,
    group_scores,
    main,
    train_token_reader,
)

C = 16  # the fake encoder's state width


class WordEncoder:
    """A stand-in for `ingest.minilm.MiniLMEmbeddings.embed_tokens`: one fixed random state
    per word (no context), [CLS] = 1 and [SEP] = 2 around the words."""

    def embed_tokens(self, texts: list[str], max_tokens: int = 96) -> list[TokenStates]:
        out = []
        for text in texts:
            spans = [(m.start(), m.end()) for m in re.finditer(r"[^\s.,?]+", text)]
            spans = spans[: max_tokens - 2]
            words = [text[a:b].lower() for a, b in spans]
            ids = (1, *(3 + int(hashlib.md5(w.encode()).hexdigest()[:6], 16) for w in words), 2)
            g = [torch.Generator().manual_seed(i) for i in ids]
            states = torch.stack([torch.randn(C, generator=x) for x in g])
            out.append(TokenStates(states, ids, ((0, 0), *spans, (0, 0))))
        return out


def small_config() -> TokenReaderConfig:
    return TokenReaderConfig(embedding_dim=32, num_heads=4, feature_dim=C, max_text_tokens=24)


def test_pair_features_mark_the_unit_and_the_shared_tokens() -> None:
    q, u = WordEncoder().embed_tokens(["What is the forget gate?", "The forget gate decays."])
    x = pair_features(q, u)
    assert x.shape == (len(q.ids) + len(u.ids), C + 2)
    assert x[: len(q.ids), C].tolist() == [0.0] * len(q.ids)  # question tokens
    assert x[len(q.ids) :, C].tolist() == [1.0] * len(u.ids)  # unit tokens
    shared = x[len(q.ids) :, C + 1].tolist()  # [CLS] the forget gate decays [SEP]
    assert shared == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]  # [CLS] / [SEP] never count as shared


def test_padding_changes_no_score() -> None:
    torch.manual_seed(0)
    model = TokenReader(small_config()).eval()
    enc = WordEncoder()
    q, short, long = enc.embed_tokens(["Which gate?", "The input gate.", "A b c d e f g h i j."])
    alone = model(*batch_pairs([pair_features(q, short)]))
    both = model(*batch_pairs([pair_features(q, short), pair_features(q, long)]))
    assert both.shape == (2,) and torch.allclose(alone[0], both[0], atol=1e-5)


def _units() -> list[Unit]:
    """Four small papers of definitions and numbers, the kinds reader questions are built from."""
    names = ["forget gate", "input gate", "matrix memory", "memory mixing", "layer norm",
             "output gate", "cell state", "hidden state", "key vector", "value vector"]  # fmt: skip
    verbs = ["decays", "writes", "stores", "connects", "normalizes", "reads", "keeps", "mixes"]
    units = []
    for i, name in enumerate(names * 2):
        paper = f"p{i % 4}.pdf"
        verb, other = verbs[i % len(verbs)], names[(i * 3 + 1) % len(names)]
        units.append(Unit(paper, "text", f"The {name} is a block that {verb} the {other}."))
        units.append(Unit(paper, "text", f"We trained the {name} model for {10 + i} epochs."))
    return units


def test_training_learns_the_corpus_groups_and_writes_a_card(tmp_path) -> None:
    units = _units()
    model, card = train_token_reader(units, WordEncoder(), small_config(), epochs=3, minutes=2)
    groups = build_groups(units, 0)
    states = encode_texts(groups, WordEncoder(), 24)
    train = [g for g in groups if g.split == "train"]
    assert card["train_groups"] == len(train) and card["steps"] == 3 * len(train)
    assert accuracy(model, train, states) > 1 / len(groups[0].texts)  # above chance
    save_token_reader(model, card, tmp_path)
    run = load_token_reader(tmp_path, WordEncoder())
    texts = [g.texts for g in train][0]
    assert has_token_reader(tmp_path) and run.card["steps"] == card["steps"]
    scores = run.scores(train[0].question.text, list(texts))
    expected = model.eval()(*batch_pairs([pair_features(states[train[0].question.text],
                                                        states[t]) for t in texts]))  # fmt: skip
    assert torch.allclose(torch.tensor(scores), expected, atol=2e-3) and run.scores("q", []) == []
    assert card["span_examples"] == len(train) and card["heldout_span_exact"] is not None
    for reading, text in zip(run.read(train[0].question.text, list(texts)), texts, strict=True):
        assert reading.span and reading.span in text  # quoted from the unit, whole words
        assert text[reading.start : reading.end].strip(" ,;:.") == reading.span


def test_an_ensemble_reads_the_mean_of_its_members_and_round_trips(tmp_path) -> None:
    torch.manual_seed(0)
    members = [TokenReader(small_config()).eval() for _ in range(3)]
    ensemble = TokenReaderEnsemble(members).eval()
    enc = WordEncoder()
    q, *us = enc.embed_tokens(["What is the mLSTM?", "The mLSTM has a matrix memory.", "No."])
    x, lengths = batch_pairs([pair_features(q, u) for u in us])
    with torch.no_grad():
        outs = [m.read(x, lengths) for m in members]
        for part, mean in zip(zip(*outs, strict=True), ensemble.read(x, lengths), strict=True):
            assert torch.allclose(torch.stack(part).mean(0), mean, atol=1e-6)
        assert torch.allclose(ensemble(x, lengths), ensemble.read(x, lengths)[0], atol=1e-6)
    save_token_reader(ensemble, {"steps": 3}, tmp_path)
    run = load_token_reader(tmp_path, WordEncoder())
    assert isinstance(run.model, TokenReaderEnsemble) and run.card["members"] == 3
    with torch.no_grad():
        assert torch.allclose(run.model(x, lengths), ensemble(x, lengths), atol=1e-6)
    save_token_reader(members[0], {"steps": 1}, tmp_path)  # one reader: as before ensembles
    assert isinstance(load_token_reader(tmp_path, enc).model, TokenReader)
    with pytest.raises(ModelError, match="at least one"):
        TokenReaderEnsemble([])


def test_members_are_trained_side_by_side_from_their_own_seeds_and_draws() -> None:
    units = _units()
    one, card1 = train_token_reader(units, WordEncoder(), small_config(), epochs=1, minutes=2)
    two, card2 = train_token_reader(
        units, WordEncoder(), small_config(), epochs=1, minutes=2, members=2
    )
    assert isinstance(two, TokenReaderEnsemble) and len(two.members) == 2
    assert len(card2["member_heldout_first"]) == 2 and card2["heldout_span_exact"] is not None
    draw1 = [g for g in build_groups(units, 1) if g.split == "train"]
    assert card2["steps"] == card1["steps"] + len(draw1)  # member 1: its own draw, one epoch
    assert card2["threads"] == max(1, torch.get_num_threads() // 2)  # forked, cores shared
    # member 0 is the single reader of the same seed (up to the thread count's rounding)
    first, second = (dict(m.named_parameters())["head.weight"] for m in two.members)
    assert torch.allclose(first, dict(one.named_parameters())["head.weight"], atol=1e-3)
    assert not torch.allclose(first, second, atol=1e-3)


def test_members_train_one_after_the_other_without_fork(monkeypatch) -> None:
    import xlstm_model.reader_members as members

    monkeypatch.setattr(members, "can_fork", lambda: False)
    calls = members.map_members(lambda shared, threads, x: (shared, threads, x),
                                [{"x": 1}, {"x": 2}], "s")  # fmt: skip
    assert calls == [("s", torch.get_num_threads(), 1), ("s", torch.get_num_threads(), 2)]


def test_fit_stops_at_the_deadline_and_refuses_no_groups() -> None:
    model = TokenReader(small_config())
    assert fit(model, [object()], {}, epochs=5, deadline=0.0)["steps"] == 0  # past deadline
    with pytest.raises(ModelError, match="no training groups"):
        fit(model, [], {}, epochs=1)


def test_a_damaged_reader_is_a_model_error(tmp_path) -> None:
    save_token_reader(TokenReader(small_config()), {"steps": 0}, tmp_path)
    (tmp_path / CARD).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="retrain it with `make train`"):
        load_token_reader(tmp_path, WordEncoder())
    assert isinstance(TokenReaderRun(TokenReader(small_config()), WordEncoder(), {}).card, dict)


def test_main_bad_input_is_one_line(tmp_path, capsys) -> None:
    assert main(["--model-dir", str(tmp_path), "--epochs", "0"]) == 2
    assert "--epochs" in capsys.readouterr().err.strip()
    assert main(["--model-dir", str(tmp_path), "--members", "0"]) == 2
    assert "--members" in capsys.readouterr().err.strip()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--corpus", str(empty), "--model-dir", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_if_missing_keeps_a_trained_reader(tmp_path, capsys) -> None:
    save_token_reader(TokenReader(small_config()), {"steps": 7}, tmp_path)
    assert main(["--model-dir", str(tmp_path), "--if-missing"]) == 0
    assert "already exists" in capsys.readouterr().out
    assert load_token_reader(tmp_path, WordEncoder()).card["steps"] == 7


def test_the_app_loads_the_reader_beside_the_model(tmp_path) -> None:
    from app.errors import UserError
    from app.resources import load_token_reader as app_load

    assert app_load(tmp_path) is None  # nothing trained yet: the answers use the other signals
    save_token_reader(TokenReader(TokenReaderConfig()), {"steps": 1}, tmp_path)
    run = app_load(tmp_path)  # with the packaged MiniLM
    assert len(run.scores("What is the mLSTM?", ["The mLSTM has a matrix memory.", "No."])) == 2
    (tmp_path / "token_reader.pt").write_bytes(b"damaged")
    with pytest.raises(UserError, match="make train"):
        app_load(tmp_path)


def test_the_run_encodes_each_text_once_while_it_is_cached() -> None:
    encoded = []

    class CountingEncoder(WordEncoder):
        def embed_tokens(self, texts, max_tokens=96):
            encoded.extend(texts)
            return super().embed_tokens(texts, max_tokens)

    run = TokenReaderRun(TokenReader(small_config()).eval(), CountingEncoder(), {}, cache_size=3)
    first = run.scores("Which gate?", ["The input gate.", "The forget gate."])
    again = run.scores("Which gate?", ["The forget gate.", "The input gate."])
    assert again == pytest.approx(first[::-1], abs=1e-5)  # padded to another length: ~1e-7
    assert encoded == ["Which gate?", "The input gate.", "The forget gate."]  # once each
    run.scores("What decays?", ["A cell."])  # keeps the 3 used last: input gate, these two
    run.scores("Which gate?", ["The input gate."])
    assert encoded[3:] == ["What decays?", "A cell.", "Which gate?"]


def test_a_unit_longer_than_the_context_is_read_up_to_its_cut() -> None:
    config = small_config()  # 24 tokens per text
    run = TokenReaderRun(TokenReader(config).eval(), WordEncoder(), {})
    long = " ".join(f"word{i}" for i in range(200)) + " 14.26 ppl."
    (reading,) = run.read("What perplexity?", [long])
    assert reading.span in long and reading.end <= len(" ".join(f"word{i}" for i in range(22)))


def test_the_joint_loss_adds_the_answer_span_and_trains_the_span_head() -> None:
    torch.manual_seed(0)
    units = _units()
    groups = [g for g in build_groups(units, 0) if g.split == "train"][:3]
    states = encode_texts(groups, WordEncoder(), 24)
    model = TokenReader(small_config())
    listwise = torch.nn.functional.cross_entropy(
        group_scores(model, groups, states), torch.zeros(3, dtype=torch.long)
    )
    assert torch.allclose(group_loss(model, groups, states, 0.0), listwise)
    joint = group_loss(model, groups, states, 0.3)
    assert joint > listwise  # every group's span is in its unit: the span loss adds
    joint.backward()
    assert model.span_head[0].weight.grad.abs().sum() > 0  # the span head learns with the rest
    model.zero_grad(set_to_none=True)
    group_loss(model, groups, states, 0.0).backward()
    assert model.span_head[0].weight.grad is None


def test_a_span_skips_the_question_words_and_starts_on_a_number_when_one_is_wanted() -> None:
    q, u = WordEncoder().embed_tokens(["Which ppl does GPT-3 reach?", "GPT-3 reaches 356 ppl"])
    shared = pair_features(q, u)[len(q.ids) + 1 : -1, -1] > 0.5  # GPT-3, reaches, 356, ppl
    assert shared.tolist() == [True, False, False, True]
    starts = torch.tensor([5.0, 3.0, 1.0, 0.0])  # the model likes the question's "GPT-3"
    ends = torch.tensor([0.0, 4.0, 2.0, 0.0])
    text = "GPT-3 reaches 356 ppl"
    free = span_reading(text, u, 0.0, starts, ends)
    assert free.span == "GPT-3 reaches"
    words = span_reading(text, u, 0.0, *constrain_span_logits(text, u, starts, ends, shared, False))
    assert words.span == "reaches"
    number = span_reading(text, u, 0.0, *constrain_span_logits(text, u, starts, ends, shared, True))
    assert number.span == "356"
    every = torch.ones(4, dtype=torch.bool)  # a unit that only repeats the question: logits decide
    repeated = constrain_span_logits(text, u, starts, ends, every, True)
    assert span_reading(text, u, 0.0, *repeated).span == free.span


def test_the_budget_runs_from_the_given_start_so_corpus_reading_counts() -> None:
    import time

    units = _units()
    _, full = train_token_reader(units, WordEncoder(), small_config(), epochs=2, minutes=1)
    assert full["stopped"] == "epochs"
    # the command started a minute ago (reading a cold corpus): its one minute is spent
    _, late = train_token_reader(
        units, WordEncoder(), small_config(), epochs=2, minutes=1, started=time.time() - 60
    )
    assert late["stopped"] == "deadline" and late["steps"] < full["steps"]
    assert late["encode_s"] >= 60  # the card counts the time before training from the start
