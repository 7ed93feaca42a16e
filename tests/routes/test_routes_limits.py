"""Example events are untrusted input too: `edakit routes`, `make validate` and lint read them within the limits
of edakit.spec.limits (size, nesting, aliases) and report a bad one as one located line, exit 2."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edakit.routing.routes import check_expected, load_example
from edakit.spec import SpecError, load_spec
from edakit.spec.limits import MAX_DEPTH, MAX_EXAMPLE_EVENT_BYTES

# The CLI runs in an address space of this size: a parser that expands or recurses without bound fails in it.
ADDRESS_SPACE = 512 * 1024 * 1024


def run_edakit(*args: str, cwd: Path) -> tuple[int, list[str], float]:
    """Run the real CLI within ADDRESS_SPACE; its exit code, stderr lines and wall seconds."""
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).with_name("edakit")), *args], cwd=cwd, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit_memory, timeout=120)
    return result.returncode, result.stderr.splitlines(), time.monotonic() - started


def deep_event(depth: int) -> str:
    return '{"event": "OrderPlaced", "publisher": "external", "body": {"order": ' + "[" * depth + "]" * depth + "}}"


def huge_event(size: int) -> str:
    head = '{"event": "OrderPlaced", "publisher": "external", "body": {"note": "'
    return head + "x" * (size - len(head) - 3) + '"}}'


def test_an_example_event_within_the_limits_routes(tmp_path: Path, repo_root: Path) -> None:
    path = tmp_path / "nested.json"
    # the top-level object and `body` are two of the levels
    path.write_text(deep_event(MAX_DEPTH - 2))
    example = load_example(path)
    assert example.event == "OrderPlaced"


@pytest.mark.parametrize(("text", "line", "column", "key", "message"), [
    (deep_event(900), 1, 167, "body.order[0][0][0][0]...(94 more levels)",
     f"nested more than {MAX_DEPTH} levels deep; expected at most {MAX_DEPTH} levels of mappings and sequences"),
    ('{"event": "OrderPlaced", "publisher": "external", "body": {"name": "\\udc80"}}', 1, 60, "body.name",
     "a \\uD800-\\uDFFF escape on its own is not a Unicode character; expected Unicode text"),
])
def test_a_bad_example_event_is_a_located_problem(tmp_path: Path, text: str, line: int, column: int, key: str,
                                                  message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SpecError) as raised:
        load_example(path)
    problems = raised.value.problems
    assert len(problems) == 1 and problems[0].message.startswith(message), problems
    assert (problems[0].line, problems[0].column, problems[0].path) == (line, column, key)


def test_make_validate_s_routes_step_reports_an_oversized_example(tmp_path: Path, repo_root: Path) -> None:
    spec = load_spec(repo_root / "configs" / "order-events-sns.yaml")
    (tmp_path / "huge.json").write_text(huge_event(MAX_EXAMPLE_EVENT_BYTES + 1))
    (tmp_path / "paid.json").write_text((repo_root / "examples/events/orders-sns/order-placed-paid.json").read_text())
    with pytest.raises(SpecError) as raised:
        check_expected(spec, tmp_path)
    assert [str(p) for p in raised.value.problems] == [
        f"{tmp_path / 'huge.json'}:1:1 (root): the example event is {MAX_EXAMPLE_EVENT_BYTES + 1} bytes; the kit "
        f"reads example events of at most 1 MiB ({MAX_EXAMPLE_EVENT_BYTES} bytes)"
    ]


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("deep.json", deep_event(900), f"deep.json:1:167 body.order[0][0][0][0]...(94 more levels): nested more than "
                                   f"{MAX_DEPTH} levels deep"),
    ("huge.json", huge_event(16 * 1024 * 1024), f"huge.json:1:1 (root): the example event is {16 * 1024 * 1024} "
                                                "bytes; the kit reads example events of at most 1 MiB"),
])
def test_edakit_routes_reports_a_hostile_example_in_one_line(tmp_path: Path, repo_root: Path, name: str, text: str,
                                                             expected: str) -> None:
    (tmp_path / name).write_text(text)
    spec = repo_root / "configs" / "order-events-sns.yaml"
    code, stderr, seconds = run_edakit("routes", str(spec), "--event", name, cwd=tmp_path)
    assert (code, len(stderr)) == (2, 2), stderr
    assert stderr[0].startswith(expected) and stderr[1] == "1 problem(s)", stderr
    assert seconds < 20  # well under a second on an idle machine


def test_a_text_body_holding_deep_json_is_routed_not_a_traceback(tmp_path: Path, repo_root: Path) -> None:
    from edakit.routing.routes import route

    spec = load_spec(repo_root / "configs" / "order-events-sns.yaml")
    path = tmp_path / "text-body.json"
    path.write_text('{"event": "OrderPlaced", "publisher": "external", "body": "' + "[" * 3000 + "]" * 3000 + '"}')
    billing = next(d for d in route(spec, load_example(path)) if d.subscriber == "billing")  # a MessageBody policy
    assert billing.reasons == (
        "message body is nested more than 100 levels deep, so a MessageBody policy cannot match",
    )


def test_a_huge_event_or_subscriber_name_is_quoted_by_its_start(tmp_path: Path, repo_root: Path) -> None:
    from edakit.routing.routes import example_problems

    spec = load_spec(repo_root / "configs" / "order-events-sns.yaml")
    path = tmp_path / "names.json"
    path.write_text('{"event": "' + "E" * 100_000 + '", "expect": ["' + "s" * 100_000 + '"]}')
    [problem] = example_problems(spec, load_example(path))
    assert len(problem.message) < 300 and problem.message.startswith("'EEEEEEEE")
    path.write_text('{"event": "OrderPlaced", "expect": ["' + "s" * 100_000 + '"]}')
    [problem] = example_problems(spec, load_example(path))
    assert len(problem.message) < 300 and problem.path == "expect[0]"
