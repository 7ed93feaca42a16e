"""The generated Amazon States Language: golden file for the example saga, graph properties for any saga."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.saga import parse_saga, render_asl, to_asl
from edakit.saga.asl import queue_url

GOLDEN = Path(__file__).parent / "golden" / "order-fulfilment.asl.json"


def test_example_saga_matches_golden_asl(repo_root: Path) -> None:
    assert render_asl(repo_root / "configs" / "sagas" / "order-fulfilment.yaml") == GOLDEN.read_text()


def test_example_asl_is_accepted_by_an_asl_grammar() -> None:
    # moto's ASL parser (LocalStack's ANTLR grammar) rejects malformed states, fields and paths.
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program, _ = AmazonStateLanguageParser.parse(GOLDEN.read_text())
    assert set(program.states.states) == set(json.loads(GOLDEN.read_text())["States"])


def test_example_saga_invokes_each_service_the_way_its_integration_requires() -> None:
    states = json.loads(GOLDEN.read_text())["States"]
    assert states["CreateOrder"]["Resource"] == "arn:aws:states:::lambda:invoke"
    assert states["CreateOrder"]["ResultSelector"] == {"output.$": "$.Payload"}
    assert states["ProcessPayment"]["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert states["ProcessPayment"]["Parameters"]["QueueUrl"] == "https://sqs.eu-west-1.amazonaws.com/123456789012/payment-commands"
    assert states["ProcessPayment"]["Parameters"]["MessageBody"]["task_token.$"] == "$$.Task.Token"
    assert states["ProcessPayment"]["HeartbeatSeconds"] == 120
    assert states["ShipOrder"]["Resource"] == "arn:aws:states:::sns:publish.waitForTaskToken"
    assert states["ShipOrder"]["Parameters"]["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:shipping-requests"
    assert "task_token.$" not in states["CreateOrder"]["Parameters"]["Payload"]
    assert states["CompensateProcessPayment"]["Parameters"]["MessageBody"]["phase"] == "compensation"


def test_queue_url_follows_the_partition_domain() -> None:
    assert queue_url("arn:aws:sqs:us-east-1:111122223333:orders.fifo") == "https://sqs.us-east-1.amazonaws.com/111122223333/orders.fifo"
    assert queue_url("arn:aws-cn:sqs:cn-north-1:111122223333:orders") == "https://sqs.cn-north-1.amazonaws.com.cn/111122223333/orders"


RESOURCE = {
    "lambda": "arn:aws:lambda:eu-west-1:123456789012:function:{}",
    "sqs": "arn:aws:sqs:eu-west-1:123456789012:{}",
    "sns": "arn:aws:sns:eu-west-1:123456789012:{}",
}


def invocation(service: str, name: str, lambda_callback: bool) -> dict:
    raw = {"service": service, "resource": RESOURCE[service].format(name), "timeout_seconds": 30}
    if service == "lambda" and lambda_callback:
        raw["callback"] = True
    return raw


step_shapes = st.lists(
    st.tuples(st.sampled_from(sorted(RESOURCE)), st.booleans(), st.sampled_from(sorted(RESOURCE)), st.booleans()),
    min_size=1,
    max_size=10,
)


def saga_document(shapes: list[tuple[str, bool, str, bool]]) -> str:
    steps = []
    for index, (service, compensated, undo_service, lambda_callback) in enumerate(shapes):
        step = {"name": f"Step{index}", "action": invocation(service, f"do{index}", lambda_callback)}
        if compensated and index < len(shapes) - 1:
            step["compensation"] = invocation(undo_service, f"undo{index}", lambda_callback)
        steps.append(step)
    # JSON is YAML: the document goes through the same loader as a saga file.
    return json.dumps({"saga": "Generated", "steps": steps})


def walk(asl: dict, failing: dict[str, str] | None = None) -> list[str]:
    """States entered from StartAt when the Tasks named in failing fail ("failure") or time out ("timeout") and
    every other Task succeeds; the Catch taken is the first whose ErrorEquals matches, as in ASL."""
    failing = failing or {}
    entered, name = [], asl["StartAt"]
    while True:
        state = asl["States"][name]
        entered.append(name)
        if state["Type"] in ("Succeed", "Fail"):
            return entered
        assert state["Type"] == "Task"
        assert len(entered) <= len(asl["States"]), "the state machine loops"
        if name in failing:
            error = "States.Timeout" if failing[name] == "timeout" else "Declined"
            name = next(c["Next"] for c in state["Catch"] if error in c["ErrorEquals"] or "States.ALL" in c["ErrorEquals"])
        else:
            name = state["Next"]


@settings(max_examples=100, deadline=None)
@given(step_shapes, st.data())
def test_a_failed_step_compensates_exactly_the_completed_steps_in_reverse(shapes, data) -> None:
    asl = to_asl(parse_saga(saga_document(shapes), "generated.yaml"))
    names = [f"Step{i}" for i in range(len(shapes))]
    compensated = {f"Step{i}" for i, shape in enumerate(shapes[:-1]) if shape[1]}

    assert walk(asl) == [*names, "SagaSucceeded"]

    failing = data.draw(st.integers(0, len(names) - 1), label="failing step")
    kind = data.draw(st.sampled_from(["failure", "timeout"]), label="how it fails")
    undone = [f"Compensate{n}" for n in reversed(names[:failing]) if n in compensated]
    # compensate_on defaults to [timeout]: a timed-out action (its effect may have happened) is undone first.
    own = [f"Compensate{names[failing]}"] if kind == "timeout" and names[failing] in compensated else []
    assert walk(asl, {names[failing]: kind}) == [*names[: failing + 1], *own, *undone, "SagaFailed"]

    if undone:
        broken = data.draw(st.sampled_from(undone), label="failing compensation")
        expected = [*names[: failing + 1], *own, *undone[: undone.index(broken) + 1], "CompensationFailed"]
        assert walk(asl, {names[failing]: kind, broken: "failure"}) == expected


@settings(max_examples=60, deadline=None)
@given(step_shapes)
def test_every_task_catches_everything_and_every_state_is_reachable(shapes) -> None:
    asl = to_asl(parse_saga(saga_document(shapes), "generated.yaml"))
    states = asl["States"]
    reachable, frontier = set(), [asl["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        reachable.add(name)
        state = states[name]
        if state["Type"] == "Task":
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"]  # nothing ends the execution uncaught
            frontier += [state["Next"], *(c["Next"] for c in state["Catch"])]
    expected = set(states) - ({"CompensationFailed"} if not any(s[1] for s in shapes[:-1]) else set())
    assert reachable == expected
