"""`edakit routes` derives a kit example on Event Grid with the runtime's own Event Grid encoder (the CloudEvents
JSON EventGridPublisher sends), so Billing's advanced filters on `data.*` see what the publisher would send.
(Event Grid has no emulator here: this checks the kit's evaluator on the encoder's output, not Event Grid.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edakit.brokers import profile
from edakit.routing.routes import ExampleEvent, check_expected, load_example, route
from edakit.runtime.adapters.eventgrid import encode
from edakit.runtime.cloudevents import from_structured
from edakit.spec import load_spec


@pytest.fixture(scope="module")
def spec(repo_root: Path):
    return load_spec(repo_root / "configs" / "order-events-eventgrid.yaml")


def kit_example(tmp_path: Path, name: str, payload: dict, expect: list[str]) -> ExampleEvent:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"event": "OrderPlaced", "subject": "orders/o-1", "payload": payload,
                                "expect": expect}), encoding="utf-8")
    return load_example(path)


@pytest.mark.parametrize(("payload", "receivers"), [
    ({"order_id": "o-1", "total_amount": 12.5, "currency": "EUR"}, ["email", "billing", "audit"]),
    ({"order_id": "o-2", "total_amount": 0, "currency": "EUR"}, ["email", "audit"]),
    ({"order_id": "o-3", "total_amount": 9, "currency": "GBP"}, ["email", "audit"]),
])
def test_a_kit_example_is_routed_as_the_publisher_encodes_it(spec, tmp_path: Path, payload: dict,
                                                             receivers: list[str]) -> None:
    example = kit_example(tmp_path, "order", payload, receivers)
    assert [d.subscriber for d in route(spec, example) if d.receives] == receivers
    assert check_expected(spec, tmp_path) == []


def test_the_routed_event_is_the_encoders_cloudevent(spec, tmp_path: Path) -> None:
    example = kit_example(tmp_path, "order", {"total_amount": 1, "currency": "USD"}, ["email", "billing", "audit"])
    message = example.kit_message("urn:edakit:example")
    body, attributes = profile("event-grid").encode(message, None)
    assert body == encode(message).decode() and attributes == {}
    event = json.loads(body)
    assert (event["type"], event["subject"], event["data"]) == ("OrderPlaced", "orders/o-1",
                                                                {"total_amount": 1, "currency": "USD"})
    assert from_structured(body) == message  # what the webhook side decodes again


def test_a_wrong_expectation_on_a_kit_example_is_a_problem(spec, tmp_path: Path) -> None:
    kit_example(tmp_path, "free", {"total_amount": 0, "currency": "EUR"}, ["email", "billing", "audit"])
    [problem] = check_expected(spec, tmp_path)
    assert "'billing' is expected but does not receive it" in problem.message
    assert "data.total_amount" in problem.message
