"""Errors the views share: an unknown choice with the closest known ones."""

from __future__ import annotations

from chipwatch.catalog import suggest


class ChoiceError(ValueError):
    """``wanted`` is not one of the known ``choices`` of ``kind``; carries the closest ones (all
    of them when none is close, unless ``list_all`` is False). ``missing``: the thing asked for
    does not exist (HTTP 404) rather than being an invalid option (422)."""

    def __init__(
        self,
        message: str,
        kind: str,
        wanted: str,
        choices: list[str],
        *,
        missing: bool = True,
        list_all: bool = True,
    ) -> None:
        super().__init__(message)
        self.message, self.kind, self.wanted, self.missing = message, kind, wanted, missing
        close = suggest(wanted, choices)
        self.suggestions = (close or choices) if list_all else close

    def __str__(self) -> str:
        return self.message


class InvalidRequest(ValueError):
    """A request that cannot be processed as given (a malformed hypothetical chip, ...): the API
    answers 422 naming the field, the CLI exits 2."""
