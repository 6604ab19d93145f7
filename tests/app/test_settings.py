"""The one answer-settings policy shared by the CLI, the UI, the evaluation and the resources."""

import logging

import pytest

from app.answer import AnswerSettings
from app.errors import UserError
from app.settings import answer_settings, parse_overrides


def test_defaults_and_overrides_without_changing_the_base():
    assert answer_settings() == AnswerSettings()
    base = AnswerSettings(k=7)
    settings = answer_settings({"mode": "extractive", "k": None, "max_sentences": "2"}, base)
    assert (settings.k, settings.mode, settings.max_sentences) == (7, "extractive", 2)
    assert base == AnswerSettings(k=7)


def test_a_mode_that_needs_the_model_falls_back_to_extractive_without_one(caplog):
    with caplog.at_level(logging.WARNING, logger="app.settings"):
        settings = answer_settings(model_loaded=False)
    assert settings.mode == "extractive" and "no trained xLSTM model" in caplog.text
    assert answer_settings(model_loaded=True).mode == AnswerSettings().mode


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"colour": "blue"}, "unknown answer setting 'colour'"),
        ({"k": "many"}, "'many' is not a valid int"),
        ({"k": 0}, "must be at least 1"),
        ({"mode": "poetry"}, "unknown answer mode 'poetry'"),
    ],
)
def test_bad_overrides_are_one_line_errors(overrides, message):
    with pytest.raises(UserError, match=message) as error:
        answer_settings(overrides)
    assert "\n" not in str(error.value)


def test_parse_overrides_casts_command_line_text():
    assert parse_overrides(["mode=extractive", "upr_weight=0.1", "k=3"]) == {
        "mode": "extractive",
        "upr_weight": 0.1,
        "k": 3,
    }
    with pytest.raises(UserError, match=r"^--set 'k=x': 'x' is not a valid int"):
        parse_overrides(["k=x"])
    with pytest.raises(UserError, match=r"^--set 'k': expected NAME=VALUE"):
        parse_overrides(["k"])


def test_boolean_settings_read_true_and_false_from_text():
    assert parse_overrides(["short_answer=False"]) == {"short_answer": False}
    assert parse_overrides(["short_answer=yes"]) == {"short_answer": True}
    with pytest.raises(UserError, match="'maybe' is not a valid bool .* use true or false"):
        parse_overrides(["short_answer=maybe"])
