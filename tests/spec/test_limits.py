"""The limits of edakit.spec.limits on every YAML file the kit reads: size, nesting, alias expansion, text that is
not Unicode, scalars ruamel cannot construct. Each is one located problem, never an exception."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edakit.spec import limits
from edakit.spec.limits import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    MAX_NODES,
    MAX_SPEC_BYTES,
    json_too_deep,
    read_text,
)
from edakit.spec.source import parse

EDAKIT = Path(sys.executable).with_name("edakit")


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: `levels` levels of nine aliases each, 9**levels strings once expanded."""
    lines = ["name: shop", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnop"
    for previous, name in zip(names, names[1:levels]):
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "name: shop\nx: " + "[" * depth + "]" * depth + "\n"


# The CLI runs in an address space of this size: a parser that expands or recurses without bound fails in it.
ADDRESS_SPACE = 512 * 1024 * 1024


def run_edakit(*args: str, cwd: Path) -> tuple[int, list[str], float]:
    """Run the real CLI within ADDRESS_SPACE; its exit code, stderr lines and wall seconds."""
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    started = time.monotonic()
    result = subprocess.run([str(EDAKIT), *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=limit_memory, timeout=120)
    return result.returncode, result.stderr.splitlines(), time.monotonic() - started


# --- alias expansion ---------------------------------------------------------------------------------------


def test_an_alias_bomb_is_one_problem_at_the_alias_that_crosses_the_budget() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 430  # the 428-byte file
    started = time.monotonic()
    document, problems = parse(text, "bomb.yaml")
    assert time.monotonic() - started < 5
    assert [str(p) for p in problems] == [
        f"bomb.yaml:6:8 e[0]: YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes; expected a document "
        "whose aliases repeat little (write the values out)"
    ]
    assert document.data is None


def test_aliases_expanding_to_the_budget_load_and_one_more_node_is_refused() -> None:
    # `base` holds 99 scalars (100 nodes with its sequence); each alias of it adds 100 nodes.
    anchor = "base: &base [" + ",".join(["1"] * 99) + "]\n"
    uses = MAX_ALIAS_EXPANSION // 100
    text = anchor + "uses:\n" + "".join("  - *base\n" for _ in range(uses))
    document, problems = parse(text, "ok.yaml")
    assert problems == []
    assert len(document.data["uses"]) == uses and document.data["uses"][-1] == [1] * 99
    _, problems = parse(text + "  - *base\n", "over.yaml")
    assert [p.path for p in problems] == [f"uses[{uses}]"]
    assert problems[0].line == uses + 3 and "YAML aliases expand to more than" in problems[0].message


def test_anchors_and_aliases_in_a_spec_still_work(write_spec: Callable[..., str]) -> None:
    from edakit.spec import load_spec

    path = write_spec("""
        name: shop
        broker: kafka
        kafka: {bootstrap_servers: ["localhost:9092"]}
        events:
          OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1, domain: shop}
        channels:
          orders: {events: [OrderPlaced]}
        subscribers:
          billing: {channel: orders, retry: &retry {min_backoff_seconds: 5, max_backoff_seconds: 60}}
          email: {channel: orders, retry: *retry}
    """)
    spec = load_spec(path)
    assert spec.subscribers["email"].retry == spec.subscribers["billing"].retry


def test_an_alias_counts_its_subtree_towards_the_nesting_depth() -> None:
    height = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * height}{']' * height}\nb: {'[' * (height - 1)}*a{']' * (height - 1)}\n"
    _, problems = parse(text, "deep-alias.yaml")
    assert [(p.line, p.message) for p in problems] == [
        (2, f"nested more than {MAX_DEPTH} levels deep; expected at most {MAX_DEPTH} levels of mappings and sequences")
    ]


def test_a_recursive_alias_is_still_one_problem() -> None:
    _, problems = parse("a: &a [1, *a]\n", "loop.yaml")
    assert [str(p) for p in problems] == ["loop.yaml:1:4 a[1]: recursive YAML alias; expected plain data"]


# --- nesting -----------------------------------------------------------------------------------------------


def _depth(value: object) -> int:
    return 1 + max(map(_depth, value), default=0) if isinstance(value, list) else 0


def test_nesting_up_to_the_limit_loads_and_one_level_more_is_located() -> None:
    # the top-level mapping is the first level
    document, problems = parse("x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "ok.yaml")
    assert problems == [] and _depth(document.data["x"]) == MAX_DEPTH - 1
    _, problems = parse("x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n", "deep.yaml")
    assert [(p.line, p.column) for p in problems] == [(1, 3 + MAX_DEPTH)]  # the bracket that opens level 101
    assert problems[0].path == "x[0][0][0][0][0]...(94 more levels)"


def test_block_mappings_nested_too_deep_name_their_keys() -> None:
    text = "".join("  " * level + f"k{level}:\n" for level in range(MAX_DEPTH + 1)) + "  " * (MAX_DEPTH + 1) + "v\n"
    _, problems = parse(text, "deep.yaml")
    assert len(problems) == 1
    assert problems[0].line == MAX_DEPTH + 1 and problems[0].path.startswith("k0.k1.k2.k3.k4.k5...")


def test_json_too_deep_scans_past_brackets_inside_strings() -> None:
    assert json_too_deep('{"a": "[[[[[[", "b": [[1]]}', max_depth=3) is None
    assert json_too_deep('{"a": "\\"[[[", "b": [[[1]]]}', max_depth=3) == 22
    assert json_too_deep("[" * 101) == 100
    assert json_too_deep('"unterminated [[[[', max_depth=1) is None


def test_more_values_than_the_limit_is_one_problem_at_the_first_value_too_many(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A flow list of one-digit numbers is small in bytes and many values to build (a 400 KB one is 200,000);
    # a lower limit keeps the test fast, the composer reads it when it runs.
    monkeypatch.setattr(limits, "MAX_NODES", 1000)
    document, problems = parse("x: [" + "1," * 996 + "]", "enough.yaml")  # mapping, key, list, 997 items
    assert problems == [] and len(document.data["x"]) == 996
    _, problems = parse("x: [" + "1," * 2000 + "]", "many.yaml")
    assert [str(p) for p in problems] == [
        f"many.yaml:1:{5 + 2 * 997} x[997]: more than 1000 values (mappings, sequences, scalars and keys); "
        "expected a smaller document"
    ]
    assert MAX_NODES == 100_000


# --- size and encoding -------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    exact = tmp_path / "exact.yaml"
    exact.write_bytes(b"#" * (MAX_SPEC_BYTES - 1) + b"\n")
    text, problems = read_text(exact, max_bytes=MAX_SPEC_BYTES, what="spec")
    assert problems == [] and text is not None and len(text) == MAX_SPEC_BYTES
    over = tmp_path / "over.yaml"
    over.write_bytes(b"#" * MAX_SPEC_BYTES + b"\n")
    text, problems = read_text(over, max_bytes=MAX_SPEC_BYTES, what="spec")
    assert text is None and [str(p) for p in problems] == [
        f"{over}:1:1 (root): the spec is {MAX_SPEC_BYTES + 1} bytes; the kit reads specs of at most 1 MiB "
        f"({MAX_SPEC_BYTES} bytes)"
    ]


def test_an_endless_file_is_read_no_further_than_the_limit() -> None:
    text, problems = read_text("/dev/zero", max_bytes=limits.MAX_SPEC_BYTES, what="spec")
    assert text is None and problems[0].message.startswith("the spec is more than 1048576 bytes")


def test_text_that_is_not_utf8_is_located_at_its_first_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: shop\ndescription: caf\xe9\n".encode("latin-1"))
    _, problems = read_text(path, max_bytes=MAX_SPEC_BYTES, what="spec")
    assert [(p.line, p.column, p.message) for p in problems] == [
        (2, 17, "not UTF-8 text: byte 0xe9 cannot start or continue a character")
    ]


def test_text_handed_over_in_memory_is_held_to_the_same_size() -> None:
    _, problems = parse("#" * (MAX_SPEC_BYTES + 1), "big.yaml")
    assert [p.message for p in problems] == [
        f"the spec is {MAX_SPEC_BYTES + 1} bytes; the kit reads specs of at most 1 MiB ({MAX_SPEC_BYTES} bytes)"
    ]


def test_a_control_character_is_located_on_one_line() -> None:
    _, problems = parse("name: shop\ndescription: a\x1fb\n", "ctrl.yaml")
    assert [str(p) for p in problems] == [
        "ctrl.yaml:2:15 (root): invalid YAML: the character U+001F is not allowed in YAML (special characters are "
        "not allowed)"
    ]


# --- scalars -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ('x: "\\ud800"\n', "a \\uD800-\\uDFFF escape on its own is not a Unicode character; expected Unicode text"),
    ('"\\udfff": 1\n', "a \\uD800-\\uDFFF escape on its own is not a Unicode character; expected Unicode text"),
    ("x: !!float abc\n", "unsupported YAML value: 'abc' is not a valid !!float"),
    ("x: !!float\n", "unsupported YAML value: '' is not a valid !!float"),
    ("x: !!bool maybe\n", "unsupported YAML value: 'maybe' is not a valid !!bool"),
    ("x: !!int 0x_\n", "unsupported YAML value: '0x_' is not a valid !!int"),
    ("x: 1" + "0" * 5000 + "\n", "unsupported YAML value: an integer of 5001 digits; expected at most 4300"),
])
def test_scalars_ruamel_cannot_construct_are_problems(text: str, message: str) -> None:
    document, problems = parse(text, "s.yaml")
    assert [p.message for p in problems] == [message]
    assert "\ud800" not in str(document.data) and "\udfff" not in str(document.data)


# --- the CLI: one located line, quickly, in little memory --------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    (billion_laughs(), f"bomb.yaml:6:8 e[0]: YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"),
    (nested(100_000), f"bomb.yaml:2:{3 + MAX_DEPTH} x[0][0][0][0][0]...(94 more levels): nested more than "
                      f"{MAX_DEPTH} levels deep"),
])
def test_spec_check_reports_a_hostile_spec_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "bomb.yaml").write_text(text)
    code, stderr, seconds = run_edakit("spec", "check", "bomb.yaml", cwd=tmp_path)
    assert (code, len(stderr)) == (2, 2), stderr
    assert stderr[0].startswith(expected) and stderr[1] == "1 problem(s)", stderr
    assert seconds < 20  # well under a second on an idle machine
