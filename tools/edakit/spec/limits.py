"""Bounds on every YAML or JSON file the kit reads from a repository (specs, saga definitions, example events,
tfvars) and on filter documents: a file in a pull request is untrusted input.

Each limit is far above what a real file needs and far below what exhausts a CI runner:

- size: 1 MiB per file. The kit's largest spec is 3 KB; a Step Functions definition may not exceed 1 MiB, and
  Event Grid (1 MB), SNS and EventBridge (256 KiB) refuse events larger than that, so a bigger example event
  could not be published to a filtering broker anyway. The pure-Python YAML parser reads 1 MiB in a few seconds.
- nesting: 100 levels of mappings and sequences (Ruby's JSON and protobuf stop at 100 too; the kit's deepest
  spec, an EventBridge pattern, has 9). Deeper input would exhaust the parser's recursion.
- values: 100,000 nodes (mappings, sequences, scalars, keys) per file, a few seconds of parsing; each of the kit's
  specs has fewer than 200 and each example event fewer than 50. Size alone does not bound the work: a 1 MiB flow
  list of one-digit numbers is 500,000 nodes.
- YAML aliases: 10,000 nodes in total may be added by expanding `*alias` references, whose expansion also counts
  towards the nesting depth; a 400-byte "billion laughs" file would otherwise expand to 10^9 nodes.

Exceeding a limit is a located problem (file, line, column, key path, what was expected), never an exception.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from edakit.spec.errors import Problem

KIB = 1024
MIB = 1024 * KIB

MAX_SPEC_BYTES = 1 * MIB
MAX_SAGA_BYTES = 1 * MIB
MAX_EXAMPLE_EVENT_BYTES = 1 * MIB
MAX_DEPTH = 100
MAX_NODES = 100_000
MAX_ALIAS_EXPANSION = 10_000


def size_text(size: int) -> str:
    return f"{size / MIB:g} MiB" if size % MIB == 0 else f"{size / KIB:g} KiB" if size % KIB == 0 else f"{size} bytes"


def read_text(path: str | Path, *, max_bytes: int, what: str) -> tuple[str | None, list[Problem]]:
    """The UTF-8 text of `path`, read no further than `max_bytes` (+1 to detect more), or a located problem.

    Reads at most max_bytes + 1 bytes whatever the file is (`/dev/zero`, a FIFO, a file that grows), so a huge
    or endless input costs at most that much memory.
    """
    file = str(path)
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
                return None, [_too_large(file, what, max_bytes, info.st_size)]
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        return None, [Problem(file, 1, 1, "(root)", f"cannot read the {what}: {exc.strerror or exc}")]
    if len(data) > max_bytes:
        return None, [_too_large(file, what, max_bytes, None)]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot start or continue a character"
        return None, [Problem(file, line, column, "(root)", message)]


def _too_large(file: str, what: str, max_bytes: int, size: int | None) -> Problem:
    actual = f"{size} bytes" if size is not None else f"more than {max_bytes} bytes"
    return Problem(file, 1, 1, "(root)",
                   f"the {what} is {actual}; the kit reads {what}s of at most {size_text(max_bytes)} "
                   f"({max_bytes} bytes)")


def text_too_large(text: str, file: str, *, max_bytes: int, what: str) -> Problem | None:
    """The same size limit for text handed over in memory (`parse_saga(text, ...)`, `parse(text, ...)`)."""
    if len(text) <= max_bytes // 4:  # at most 4 UTF-8 bytes per character: no need to encode
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return _too_large(file, what, max_bytes, size) if size > max_bytes else None


# A JSON string (its closing quote optional, so an unterminated string ends the scan) or a bracket.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def json_too_deep(text: str, max_depth: int = MAX_DEPTH) -> int | None:
    """The 0-based offset of the first bracket nested deeper than `max_depth` in JSON text, else None.

    One linear scan before `json.loads`, whose recursion would otherwise fail on deep input with RecursionError.
    """
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            if depth > max_depth:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def nesting_depth_exceeded(value: object, max_depth: int = MAX_DEPTH) -> bool:
    """Whether dicts and lists nest deeper than `max_depth` in `value` (iterative: any depth is safe to ask)."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list | tuple):
            if depth + 1 > max_depth:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False
