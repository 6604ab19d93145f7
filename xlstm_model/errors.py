"""The one exception type the language-model package raises for bad input."""

from __future__ import annotations


class ModelError(Exception):
    """Bad input to training, loading, generation or scoring.

    The message is one line that names the offending path or value and says what to do;
    command-line entry points print it as ``error: <message>`` and return 2.
    """
