"""How every command reports input it cannot use, and a broker or database it cannot reach: on stderr, exit code 2.

Every line goes through `edakit.redact`: credentials in URLs/DSNs are masked and a huge value quoted in a message is
cut to a short prefix (`clip`), so neither a password nor 50 MB of a bad value ever reaches a terminal or a CI log.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import NoReturn

import click

from edakit.redact import clip, redact


def printable(message: object, known: Iterable[str] = ()) -> str:
    """`message` redacted (`known`: secrets to mask literally, e.g. `secrets_in(url)`) and clipped."""
    return clip(redact(str(message), known=known))


def exit_bad_input(problems: Iterable[object]) -> NoReturn:
    problems = list(problems)
    for problem in problems:
        click.echo(printable(problem), err=True)
    click.echo(f"{len(problems)} problem(s)", err=True)
    sys.exit(2)


def exit_error(message: object, known: Iterable[str] = ()) -> NoReturn:
    """`error: <message>` as one line (a driver's multi-line message joined), redacted and clipped; exit 2."""
    click.echo(f"error: {' '.join(printable(message, known).split())}", err=True)
    sys.exit(2)


class RedactingFormatter(logging.Formatter):
    """For a long-running command's log (the relay): each record, its traceback included, redacted and clipped."""

    def __init__(self, fmt: str, known: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.known = tuple(known)

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), self.known)
