"""The one error type of the controls engine: bad input, reported as one clear line."""

from __future__ import annotations


class ControlsInputError(ValueError):
    """Bad input to the controls engine (unknown destination, date out of range, bad spec).

    The CLI prints ``Error: <message>`` and exits with code 2.
    """
