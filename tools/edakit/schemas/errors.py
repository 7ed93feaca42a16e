"""Errors for bad input: which file, where in it, what was expected."""

from __future__ import annotations


class SchemaError(ValueError):
    """A schema, payload or config file that cannot be used as given."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
