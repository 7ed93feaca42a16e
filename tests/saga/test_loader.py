"""Bad saga files: every problem reported at once, each with file:line:column, key path and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from edakit.saga import SagaError, check_sagas, load_saga, parse_saga

VALID = """\
saga: Trial
defaults:
  timeout_seconds: 30
steps:
  - name: Reserve
    action:
      service: lambda
      resource: arn:aws:lambda:eu-west-1:123456789012:function:reserve
    compensation:
      service: sqs
      resource: arn:aws:sqs:eu-west-1:123456789012:release
  - name: Charge
    action:
      service: sns
      resource: arn:aws:sns:eu-west-1:123456789012:charge
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SagaError) as caught:
        parse_saga(text, "trial.yaml")
    return [str(p) for p in caught.value.problems]


def test_valid_saga_loads_with_defaults_applied() -> None:
    saga = parse_saga(VALID, "trial.yaml")
    reserve, charge = saga.steps
    assert (reserve.action.callback, reserve.action.timeout_seconds) == (False, 30)
    assert reserve.action.retry.errors[0] == "Lambda.ServiceException"
    assert reserve.compensation.callback and reserve.compensation.retry.errors == ("States.Timeout",)
    assert charge.compensation is None and charge.action.callback


def test_unknown_key_is_located_with_a_suggestion() -> None:
    text = VALID.replace("    action:\n      service: sns", "    actoin:\n      service: sns")
    assert problems(text) == [
        "trial.yaml:12:5 steps[1]: missing required key 'action'",
        "trial.yaml:13:5 steps[1].actoin: unknown key 'actoin'; did you mean 'action'?",
    ]


def test_all_schema_problems_are_reported_in_one_run() -> None:
    text = VALID.replace("timeout_seconds: 30", "timeout_seconds: 0").replace("service: sns", "service: kafka")
    assert problems(text) == [
        "trial.yaml:3:3 defaults.timeout_seconds: 0 is less than the minimum of 1",
        "trial.yaml:14:7 steps[1].action.service: 'kafka' is not one of ['lambda', 'sqs', 'sns']",
    ]


def test_resource_that_is_not_an_arn_says_what_is_expected() -> None:
    [problem] = problems(VALID.replace("arn:aws:sns:eu-west-1:123456789012:charge", "charge-topic"))
    assert problem == "trial.yaml:15:7 steps[1].action.resource: 'charge-topic' is not valid: ARN of the Lambda function, SQS queue or SNS topic."


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("name: Charge", "name: Reserve", "trial.yaml:12:5 steps[1].name: duplicate step name 'Reserve'; step names must be unique"),
        ("name: Charge", "name: CompensateReserve", "trial.yaml:12:5 steps[1].name: 'CompensateReserve' collides with a state name the generator adds; rename the step"),
        ("arn:aws:sqs:eu-west-1:123456789012:release", "arn:aws:sns:eu-west-1:123456789012:release", "trial.yaml:11:7 steps[0].compensation.resource: service is sqs but the ARN is of sns; expected arn:aws:sqs:..."),
        ("service: sns\n", "service: sns\n      callback: false\n", "trial.yaml:15:7 steps[1].action.callback: sns cannot report an outcome by itself: a sns step must be a callback (callback: true)"),
        ("service: sns\n", "service: sns\n      heartbeat_seconds: 30\n", "trial.yaml:15:7 steps[1].action.heartbeat_seconds: heartbeat_seconds (30) must be less than timeout_seconds (30)"),
        ("function:reserve\n", "function:reserve\n      heartbeat_seconds: 5\n", "trial.yaml:9:7 steps[0].action.heartbeat_seconds: heartbeat_seconds applies only to callbacks (callback: true)"),
        ("defaults:\n  timeout_seconds: 30\n", "", "trial.yaml:12:7 steps[1].action.service: a callback waits for the worker's answer: set timeout_seconds here or in defaults"),
    ],
)
def test_cross_checks_are_located(old: str, new: str, expected: str) -> None:
    text = VALID.replace(old, new)
    assert text != VALID
    assert expected in problems(text)


def test_compensation_on_the_last_step_needs_a_compensate_on_rule() -> None:
    compensation = "    compensation:\n      service: lambda\n      resource: arn:aws:lambda:eu-west-1:123456789012:function:refund\n"
    # By default (compensate_on: [timeout]) a timed-out last action is undone: its compensation can run.
    assert parse_saga(VALID + compensation, "trial.yaml").steps[-1].compensate_on == ("timeout",)
    text = VALID.replace("  - name: Charge\n", "  - name: Charge\n    compensate_on: []\n") + compensation
    assert problems(text) == [
        "trial.yaml:17:5 steps[1].compensation: the last step's compensation never runs: once the last step succeeds "
        "the saga is complete, and its compensate_on is empty; remove it or set compensate_on"
    ]


def test_channels_are_on_every_step_or_none_and_apart_from_the_reply_channel() -> None:
    assert parse_saga(VALID, "trial.yaml").steps[0].channel is None
    one = VALID.replace("  - name: Reserve\n", "  - name: Reserve\n    channel: reserve-commands\n")
    assert problems(one) == ["trial.yaml:13:5 steps[1]: missing required key 'channel': the Python orchestrator "
                             "sends every step's commands to a kit channel, and another step names one"]
    both = one.replace("  - name: Charge\n", "  - name: Charge\n    channel: trial-replies\n")
    assert problems(both) == ["trial.yaml:14:5 steps[1].channel: channel 'trial-replies' is the saga's reply "
                              "channel; commands and replies need channels of their own"]
    assert parse_saga(both + "reply_channel: answers\n", "trial.yaml").reply_channel == "answers"
    assert problems(one.replace("channel: reserve-commands", "channel: Reserve_Commands"))[0].startswith(
        "trial.yaml:6:5 steps[0].channel: 'Reserve_Commands' is not valid: A kit channel name")


def test_generated_state_names_are_reserved() -> None:
    assert "'DeadlineReserve' collides with a state name the generator adds" in problems(
        VALID.replace("name: Charge", "name: DeadlineReserve"))[0]


def test_invalid_yaml_is_located() -> None:
    assert problems("saga: Trial\nsteps:\n  - name: X\n   action: {\n") == [
        "trial.yaml:4:4 (root): invalid YAML: while parsing a block collection, expected <block end>, but found '<block mapping start>'"
    ]


def test_duplicate_yaml_key_and_non_mapping_documents() -> None:
    assert problems("saga: A\nsaga: B\nsteps: []\n") == ["trial.yaml:2:1 saga: duplicate key (first defined on line 1)"]
    assert problems("- just\n- a list\n") == ["trial.yaml:1:1 (root): expected a mapping with keys saga and steps"]
    assert problems("# only a comment\n") == ["trial.yaml:1:1 (root): the file is empty; expected a mapping with keys saga and steps"]


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(SagaError, match=r"missing\.yaml:1:1 \(root\): cannot read the saga definition"):
        load_saga(tmp_path / "missing.yaml")


def test_check_sagas_passes_the_kit_sagas_and_reports_a_broken_one(repo_root: Path, tmp_path: Path) -> None:
    assert check_sagas(repo_root / "configs" / "sagas") == []
    (tmp_path / "good.yaml").write_text(VALID)
    (tmp_path / "bad.yaml").write_text(VALID.replace("saga: Trial", "saga: trial"))
    [problem] = check_sagas(tmp_path)
    assert (Path(problem.file).name, problem.line, problem.path) == ("bad.yaml", 1, "saga")


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**9), st.floats(allow_nan=False), st.text(max_size=12))


VALID_JSON = json.dumps(YAML(typ="safe", pure=True).load(VALID))


@st.composite
def mutated_documents(draw) -> str:
    """A valid saga with one key deleted, replaced or added at a random place."""
    document = json.loads(VALID_JSON)  # a fresh copy, without parsing YAML for every example
    target = draw(st.sampled_from(list(_containers(document))))
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    action = draw(st.sampled_from(["delete", "replace", "add"]))
    if action == "add" or not keys:
        if isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=8))] = draw(SCALARS)
        else:
            target.append(draw(SCALARS))
    else:
        key = draw(st.sampled_from(keys))
        if action == "delete":
            del target[key]
        else:
            target[key] = draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=2), st.dictionaries(st.text(max_size=4), SCALARS, max_size=2)))
    return json.dumps(document)


def _containers(node):
    yield node
    for child in node.values() if isinstance(node, dict) else node:
        if isinstance(child, (dict, list)):
            yield from _containers(child)


def assert_loads_or_reports_located_problems(text: str) -> None:
    try:
        parse_saga(text, "mutant.yaml")
    except SagaError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == "mutant.yaml" and problem.line >= 1 and problem.column >= 1 and problem.message


@settings(max_examples=120, deadline=None)
@given(mutated_documents())
def test_any_document_mutation_loads_or_fails_with_located_problems_only(text: str) -> None:
    assert_loads_or_reports_located_problems(text)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, len(VALID)), st.integers(0, 12), st.text(alphabet=":-[]{}#&*!|>'\"\t\n ab1", max_size=6))
def test_any_text_edit_loads_or_fails_with_located_problems_only(start: int, length: int, insert: str) -> None:
    assert_loads_or_reports_located_problems(VALID[:start] + insert + VALID[start + length :])


# --- limits and fuzzing: a saga file in a pull request is untrusted input -----------------------------------

SPLICES = ["&a ", "*a", "&a [1, 2]", "[*a, *a, *a]", "<<: *a", "[", "]", "{", "}", ": ", ", ", "- ", "\n", "  ",
           "\t", "? ", "!!float ", "!!int ", "!!bool ", "!!binary ", "!!timestamp ", "!!python/object:os.system ",
           "!Ref ", '"', "'", '"\\ud800"', "#", "---\n", "%YAML 1.1\n", "|", ">", "\ufeff", "\x00", "\x1f", "é",
           "1e999", ".nan", "0x", "1" * 5000, "~", "arn:aws:lambda:eu-west-1:1:function:f", "arn:", "lambda", "sqs",
           "callback: true", "x" * 300]


@st.composite
def spliced_sagas(draw) -> bytes:
    at = draw(st.integers(0, len(VALID)))
    splice = "".join(draw(st.lists(st.sampled_from(SPLICES), max_size=4)))
    return (VALID[:at] + splice + VALID[at + draw(st.integers(0, 20)):]).encode("utf-8", "surrogatepass")


HOSTILE_SAGAS = [
    b"saga: A\na: &a [1,1,1,1,1,1,1,1,1]\n" + b"".join(b"%c: &%c [%s]\n" % (n, n, b",".join([b"*%c" % p] * 9))
                                                   for p, n in zip(b"abcdefgh", b"bcdefghi")),
    b"saga: A\nsteps: " + b"[" * 5000,
    b"saga: caf\xe9\n",
]


@pytest.fixture(scope="module")
def saga_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "saga.yaml"


@pytest.mark.parametrize(("content", "problem"), [
    (HOSTILE_SAGAS[0], "saga.yaml:6:8 e[0]: YAML aliases expand to more than 10000 nodes"),
    (HOSTILE_SAGAS[1], "saga.yaml:2:107 steps[0][0][0][0][0]...(94 more levels): nested more than 100 levels deep"),
    (HOSTILE_SAGAS[2], "saga.yaml:1:10 (root): not UTF-8 text"),
    (b"saga: A\n" + b"#" * (1024 * 1024), "saga.yaml:1:1 (root): the saga definition is 1048584 bytes; the kit reads "
                                          "saga definitions of at most 1 MiB"),
])
def test_a_hostile_saga_file_is_one_located_problem(saga_file: Path, content: bytes, problem: str) -> None:
    saga_file.write_bytes(content)
    with pytest.raises(SagaError) as caught:
        load_saga(saga_file)
    assert len(caught.value.problems) == 1 and str(caught.value.problems[0]).startswith(f"{saga_file.parent}/{problem}")


@settings(max_examples=2000, deadline=None)
@given(st.one_of(spliced_sagas(), mutated_documents().map(str.encode), st.text(max_size=60).map(str.encode),
                 st.binary(max_size=60), st.sampled_from(HOSTILE_SAGAS)))
def test_the_saga_loader_never_crashes(saga_file: Path, content: bytes) -> None:
    saga_file.write_bytes(content)
    try:
        load_saga(saga_file)
    except SagaError as exc:
        for problem in exc.problems:
            assert problem.file == str(saga_file) and problem.line >= 1 and problem.column >= 1 and problem.message
