"""The one answer-settings policy: the CLI, the UI, the evaluation and the resources all call it.

`answer_settings(overrides, base, model_loaded=...)` starts from `base` (default: the
`AnswerSettings` defaults, chosen with `python -m app.evaluate` on the dev split), applies the
caller's overrides (checked and cast to each field's type) and, when no trained xLSTM is loaded,
answers in the "extractive" mode that needs none. `parse_overrides` reads `NAME=VALUE` strings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from app.answer import MODES, AnswerSettings
from app.errors import UserError

logger = logging.getLogger(__name__)

_DEFAULTS = AnswerSettings()
_FIELDS = tuple(f.name for f in dataclasses.fields(AnswerSettings))


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """`["mode=extractive", "k=3"]` → `{"mode": "extractive", "k": 3}` (command-line `--set`)."""
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in _FIELDS:
            msg = f"--set {item!r}: expected NAME=VALUE with NAME one of {', '.join(_FIELDS)}"
            raise UserError(msg)
        try:
            overrides[name] = _cast(name, value)
        except UserError as e:
            raise UserError(f"--set {item!r}: {e}") from e
    return overrides


def _cast(name: str, value: Any) -> Any:
    """`value` as the type of the field's default (text from a command line or a form)."""
    if name not in _FIELDS:
        msg = f"unknown answer setting {name!r}; use one of {', '.join(_FIELDS)}"
        raise UserError(msg)
    kind = type(getattr(_DEFAULTS, name))
    if kind is bool and isinstance(value, str):
        return _parse_bool(name, value)
    try:
        return kind(value)
    except (TypeError, ValueError) as e:
        msg = f"{value!r} is not a valid {kind.__name__} for the answer setting {name}"
        raise UserError(msg) from e


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _parse_bool(name: str, value: str) -> bool:
    """ "true"/"false" (also 1/0, yes/no, on/off) from a command line; anything else is an error."""
    text = value.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    msg = f"{value!r} is not a valid bool for the answer setting {name}; use true or false"
    raise UserError(msg)


def answer_settings(
    overrides: Mapping[str, Any] | None = None,
    base: AnswerSettings | None = None,
    *,
    model_loaded: bool = True,
) -> AnswerSettings:
    """The settings an answer is given.

    Args:
        overrides: field name → value; None means "not given" (an unset CLI flag). Values are
            cast to the field's type, so `parse_overrides` output works as is.
        base: the settings to start from; the `AnswerSettings` defaults when None.
        model_loaded: False when no trained xLSTM is loaded: a mode that needs one becomes
            "extractive" (with a logged warning) so that answers are still produced.

    Returns:
        A new `AnswerSettings`; `base` is not changed.

    Raises:
        UserError: an unknown setting, a value of the wrong type, an unknown mode or k < 1.
    """
    settings = base or AnswerSettings()
    changes = {
        name: _cast(name, value) for name, value in (overrides or {}).items() if value is not None
    }
    settings = dataclasses.replace(settings, **changes)
    if settings.mode not in MODES:
        msg = f"unknown answer mode {settings.mode!r}; choose one of {', '.join(MODES)}"
        raise UserError(msg)
    if settings.k < 1:
        msg = f"k (documents retrieved) must be at least 1, got {settings.k}"
        raise UserError(msg)
    if settings.mode != "extractive" and not model_loaded:
        logger.warning("no trained xLSTM model loaded: answering in mode 'extractive'")
        settings = dataclasses.replace(settings, mode="extractive")
    return settings
