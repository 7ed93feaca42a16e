"""How every command reports input it cannot use: each problem on stderr, a count, exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import NoReturn

import click


def exit_bad_input(problems: Iterable[object]) -> NoReturn:
    problems = list(problems)
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{len(problems)} problem(s)", err=True)
    sys.exit(2)
