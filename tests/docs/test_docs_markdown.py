"""Table cells survive any text: checked against cmark-gfm, the Markdown parser GitHub renders READMEs with."""

from __future__ import annotations

import html
import re
from pathlib import Path

import cmarkgfm
import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.docs.markdown import code_span, markdown_text, plain_text, table
from edakit.docs.readme import generated_section
from edakit.docs.terraform import read_module

# NUL is the renderer's business (CommonMark replaces it with U+FFFD), not a cell's; surrogates are not text.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
MARKDOWN_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")


def render_rows(lines: list[str]) -> list[list[str]]:
    """The inner HTML of each body cell of the one table in `lines`, row by row, as GitHub renders it."""
    rendered = cmarkgfm.github_flavored_markdown_to_html("\n".join(lines) + "\n")
    body = re.fullmatch(r"<table>\n<thead>\n<tr>\n(?:<th>[^<]*</th>\n)+</tr>\n</thead>\n<tbody>\n(.*)</tbody>\n"
                        r"</table>\n", rendered, re.S)
    assert body, f"not one table: {rendered!r}"
    rows = re.findall(r"<tr>\n(.*?)</tr>\n", body.group(1), re.S)
    return [re.findall(r"<td>(.*?)</td>\n", row, re.S) for row in rows]


def render_row(cells: list[str]) -> list[str]:
    (row,) = render_rows(table([f"h{index}" for index in range(len(cells))], [cells]))
    return row


def inline_html(markdown: str) -> str:
    """`markdown` rendered as the inline content of a paragraph (a leading word keeps it from opening a block)."""
    rendered = cmarkgfm.github_flavored_markdown_to_html("x " + markdown)
    return "" if rendered == "<p>x</p>\n" else rendered.removeprefix("<p>x ").removesuffix("</p>\n")


@settings(max_examples=300)
@given(TEXT)
def test_description_renders_in_its_cell_as_the_same_markdown_would_on_one_line(description: str) -> None:
    cell = markdown_text(description)
    assert "\n" not in cell and "\r" not in cell
    rendered = render_row(["`name`", cell, "after"])
    # The pipe escapes are for the table only: the cell shows what the unescaped Markdown shows anywhere else.
    assert rendered == ["<code>name</code>", inline_html(cell.replace("\\|", "|")), "after"]


def test_description_lines_join_and_paragraphs_break() -> None:
    assert markdown_text("  One line\n  and the next.\r\n\n \nSecond | paragraph.\n") == (
        "One line and the next.<br><br>Second \\| paragraph.")


@settings(max_examples=300)
@given(TEXT)
def test_plain_text_reads_back_exactly(text: str) -> None:
    rendered = render_row(["before", plain_text(text), "after"])
    assert rendered[0] == "before" and rendered[2] == "after"
    assert html.unescape(re.sub(r"<[^>]*>", "", rendered[1])) == MARKDOWN_WHITESPACE.sub(" ", text).strip(" ")


def test_plain_text_leaves_underscores_inside_words_alone() -> None:
    assert plain_text("max_receive_count _x_ a*b* [l](u) <b> &amp; `c` ~s~ | \\") == (
        "max_receive_count \\_x\\_ a\\*b\\* \\[l](u) \\<b> \\&amp; \\`c\\` \\~s\\~ \\| \\\\")


@settings(max_examples=300)
@given(TEXT.filter(lambda text: text.strip(" ") != ""))
def test_code_span_reads_back_exactly(text: str) -> None:
    rendered = render_row(["before", code_span(text), "after"])
    assert rendered[0] == "before" and rendered[2] == "after"
    assert rendered[1].startswith("<code>") and rendered[1].endswith("</code>")
    assert html.unescape(rendered[1][len("<code>"):-len("</code>")]) == re.sub(r"\r\n|\r|\n", " ", text)


def test_code_span_fences_backticks() -> None:
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("a|b") == "`a\\|b`"


def hcl_string(value: str) -> str:
    """A Terraform quoted string whose value is `value`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("\t", "\\t")
    return '"' + "".join(char if char.isprintable() else _unicode_escape(char) for char in escaped) + '"'


def _unicode_escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


@pytest.fixture(scope="module")
def scratch_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("module")


# Values keep out "${" and "%{": escaped as "$${" and "%%{", python-hcl2 rejects them unless a "}" follows.
NO_TEMPLATE = TEXT.filter(lambda text: "${" not in text and "%{" not in text)


@settings(max_examples=150, deadline=None)
@given(default=NO_TEMPLATE, description=NO_TEMPLATE)
def test_string_default_and_description_round_trip_through_the_readme(
        scratch_module: Path, default: str, description: str) -> None:
    (scratch_module / "variables.tf").write_text(
        f'variable "v" {{\n  description = {hcl_string(description)}\n  type = string\n'
        f'  default = {hcl_string(default)}\n}}\n', encoding="utf-8")
    section = generated_section(read_module(scratch_module))
    inputs = section[section.index("## Inputs") + 2:section.index("## Outputs") - 1]
    (cells,) = render_rows(inputs)
    assert cells[0] == "<code>v</code>"
    assert cells[3] == inline_html(markdown_text(description).replace("\\|", "|"))
    # The Default cell is Terraform source: parsed back, it is the very string the module declares.
    code = html.unescape(cells[2].removeprefix("<code>").removesuffix("</code>"))
    parsed = hcl2.loads(f"x = {code}\n", serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
    assert parsed["x"] == default
