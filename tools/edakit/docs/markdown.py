"""GitHub Flavored Markdown table cells: every value stays on its row and in its column, whatever its characters."""

from __future__ import annotations

import re

# Markdown's whitespace (not Unicode's: a no-break space is content).
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_LINE_ENDING = re.compile(r"\r\n|\r|\n")
_SOFT_BREAK = re.compile(r"[ \t]*\n[ \t]*")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v]*\n")
# Characters that could start emphasis, code, a link, HTML, an entity or strikethrough, escape, or end the cell.
_TEXT_SPECIALS = re.compile(r"[\\`*_\[<&~|]")
_BACKTICKS = re.compile(r"`+")


def escape_pipes(cell: str) -> str:
    """GFM splits a row at each `|` not written `\\|`, even inside code spans; its table parser drops the backslash."""
    return cell.replace("|", "\\|")


def code_span(text: str) -> str:
    """`text` as inline code (one line), fenced with more backticks than it contains; pipes escaped for a cell."""
    text = _LINE_ENDING.sub(" ", text)  # as Markdown itself reads a line ending inside a code span
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(text)), default=0))
    # A code span drops one space at each end when both are present, so padding keeps edge backticks and spaces.
    if text.strip(" ") and (text[0] in "` " or text[-1] in "` "):
        text = f" {text} "
    return fence + escape_pipes(text) + fence


def plain_text(text: str) -> str:
    """Literal text (e.g. a Terraform error message) on one line, with every Markdown special character escaped."""
    text = _WHITESPACE.sub(" ", text).strip(" ")

    def escape(special: re.Match[str]) -> str:
        at = special.start()
        # An underscore between letters or digits cannot open or close emphasis: `max_receive_count` stays readable.
        if special.group() == "_" and 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum():
            return "_"
        return "\\" + special.group()

    return _TEXT_SPECIALS.sub(escape, text)


def markdown_text(text: str) -> str:
    """Markdown (e.g. a description) on one line: lines join as Markdown joins them, paragraphs meet at `<br><br>`."""
    text = _LINE_ENDING.sub("\n", text)
    paragraphs = (_SOFT_BREAK.sub(" ", paragraph).strip(" \t\n\f\v") for paragraph in _PARAGRAPH_BREAK.split(text))
    return escape_pipes("<br><br>".join(paragraph for paragraph in paragraphs if paragraph))


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Table lines; cells must already be one-line Markdown with escaped pipes."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]
