"""The renderers of Event Grid, Pub/Sub, EventBridge, claim-check stores and the saga: one spec idea (retry, DLQ,
filter) becomes each broker's native setting."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edakit.render import render_tfvars
from edakit.render.azure_eventgrid import native_filter
from edakit.routing.eventgrid import OPERATOR_TYPES, validate_eventgrid_filter
from edakit.saga import render_asl
from edakit.spec import SpecError, load_spec
from edakit.spec.model import Filter

ROOT = Path(__file__).resolve().parents[2]
# The operators the module's validation block allows: the list that starts with "bool_equals".
_OPERATOR_LIST = re.search(r'contains\(\[\s*("bool_equals".*?)\], f\.operator\)',
                           (ROOT / "terraform/modules/azure-eventgrid/variables.tf").read_text(), re.DOTALL)
assert _OPERATOR_LIST is not None
MODULE_OPERATORS = set(re.findall(r'"([a-z_]+)"', _OPERATOR_LIST.group(1)))


def test_event_grid_retry_dlq_and_filter_become_subscription_settings() -> None:
    spec = load_spec(ROOT / "configs/order-events-eventgrid.yaml", "staging")
    grid = render_tfvars(spec)["azure-eventgrid"]
    billing = grid["event_subscriptions"]["billing"]
    # max_event_age_seconds 3600 -> 60 minutes of event time-to-live; 10 deliveries before dead-lettering.
    assert billing["retry_policy"] == {"max_delivery_attempts": 10, "event_time_to_live": 60}
    assert billing["advanced_filters"][0] == {"operator": "number_greater_than", "key": "data.total_amount",
                                              "value": "0"}
    assert billing["destination"]["type"] == "service_bus_queue" and "webhook_url" not in billing["destination"]
    assert grid["dead_letter_storage"] == {"create": True, "storage_account_name": "ordersdlqstaging",
                                           "container_name": "dead-letters", "retention_days": 30}
    assert grid["resource_group_name"] == "rg-orders-staging"  # the staging override


_VALUES = st.lists(st.text(alphabet="abcXYZ019", min_size=1, max_size=8), min_size=1, max_size=3)
_NUMBERS = st.lists(st.integers(-1000, 1000), min_size=1, max_size=3)


@st.composite
def _advanced_filters(draw: st.DrawFn) -> dict[str, Any]:
    operator = draw(st.sampled_from(OPERATOR_TYPES))
    arm: dict[str, Any] = {"operatorType": operator, "key": draw(st.sampled_from(["data.total", "subject", "type"]))}
    if operator in ("IsNullOrUndefined", "IsNotNull"):
        return arm
    if operator == "BoolEquals":
        return arm | {"value": draw(st.booleans())}
    if operator in ("NumberLessThan", "NumberGreaterThan", "NumberLessThanOrEquals", "NumberGreaterThanOrEquals"):
        return arm | {"value": draw(st.integers(-1000, 1000))}
    if operator.endswith("InRange"):
        pairs = draw(st.lists(st.tuples(st.integers(-9, 0), st.integers(0, 9)), min_size=1, max_size=3))
        return arm | {"values": [list(pair) for pair in pairs]}
    return arm | {"values": draw(_NUMBERS if operator.startswith("Number") else _VALUES)}


@given(st.lists(_advanced_filters(), min_size=1, max_size=5))
def test_every_valid_event_grid_filter_renders_to_an_operator_the_module_accepts(arm_filters: list[Any]) -> None:
    policy = {"advancedFilters": arm_filters}
    validate_eventgrid_filter(policy)  # the generator only makes filters Event Grid accepts
    for arm, rendered in zip(arm_filters, native_filter(Filter(policy, "MessageAttributes"))["advanced_filters"],
                             strict=True):
        assert rendered["operator"] in MODULE_OPERATORS and rendered["key"] == arm["key"]
        if "value" in arm:  # single values are strings in the module; booleans as Event Grid writes them
            assert rendered["value"] == (str(arm["value"]).lower() if isinstance(arm["value"], bool)
                                         else str(arm["value"]))
        elif rendered["operator"].endswith("in_range"):
            assert rendered["ranges"] == arm["values"]
        elif "values" in arm:
            assert rendered["values"] == [str(v) for v in arm["values"]]
        else:
            assert set(rendered) == {"operator", "key"}


def test_event_grid_subject_and_type_filters() -> None:
    policy = {"includedEventTypes": ["OrderPlaced"], "subjectBeginsWith": "orders/", "isSubjectCaseSensitive": True,
              "enableAdvancedFilteringOnArrays": True}
    assert native_filter(Filter(policy, "MessageAttributes")) == {
        "included_event_types": ["OrderPlaced"],
        "subject_filter": {"subject_begins_with": "orders/", "case_sensitive": True},
        "advanced_filtering_on_arrays_enabled": True,
    }


def test_pubsub_schema_retry_and_dead_letter_policy() -> None:
    spec = load_spec(ROOT / "configs/order-events-pubsub.yaml", "prod")
    pubsub = render_tfvars(spec)["gcp-pubsub"]
    assert pubsub["schema"] == {"definition": (ROOT / "schemas/order-events/v1/order-placed.avsc").read_text(),
                                "encoding": "JSON"}
    assert pubsub["message_retention_duration"] == "86400s"
    billing = pubsub["subscriptions"]["orders-pubsub-prod-order-placed-billing"]
    assert billing["retry_policy"] == {"minimum_backoff": "30s", "maximum_backoff": "600s"}
    assert billing["dead_letter_policy"] == {"enabled": True, "max_delivery_attempts": 10}
    assert billing["filter"] == 'attributes.event_type = "OrderPlaced" AND attributes.payable = "true"'
    assert billing["enable_exactly_once_delivery"] is True and "push" not in billing
    email = pubsub["subscriptions"]["orders-pubsub-prod-order-placed-email"]
    assert email["push"]["endpoint"] == "https://email.orders.example.com/pubsub/push"
    channels = ["projects/orders-platform/notificationChannels/orders-oncall"]
    assert pubsub["alarm_actions"] == channels and "alerts" not in pubsub  # alerts.notification_channels is deprecated


def test_a_schema_too_large_to_inline_is_a_located_problem_not_a_read_of_it_all(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    schema = tmp_path / "schemas/order-events/v1/order-placed.avsc"
    schema.write_text(schema.read_text() + " " * (2 * 1024 * 1024))  # still valid JSON, twice the 1 MiB bound
    spec = load_spec(tmp_path / "configs/order-events-pubsub.yaml", "prod")
    with pytest.raises(SpecError, match=r"order-placed\.avsc:1:1 .*schema.*1048576"):
        render_tfvars(spec)


def test_eventbridge_rules_carry_the_event_pattern_and_retry_limits() -> None:
    spec = load_spec(ROOT / "configs/order-routing-eventbridge.yaml", "staging")
    routing = render_tfvars(spec)["aws-eventbridge-routing"]
    fraud = routing["routes"]["fraud-review"]
    pattern = spec.subscribers["fraud-review"].filter
    assert pattern is not None and json.loads(fraud["event_pattern"]) == pattern.policy
    target = routing["routes"]["notifications"]["targets"]["queue"]
    # 10 deliveries = the first + 9 retries; the event may wait an hour.
    assert target["retry_policy"] == {"maximum_event_age_in_seconds": 3600, "maximum_retry_attempts": 9}
    # The queue's policy is its owner's: the module is never handed the queue URL to overwrite it.
    assert target["arn"] == "arn:aws:sqs:eu-west-1:123456789012:customer-notifications" and "sqs_queue_url" not in target
    assert routing["archive"] == {"retention_days": 1} and routing["name"] == "orders-routing-staging-orders"


def test_saga_definition_is_the_generated_asl() -> None:
    spec = load_spec(ROOT / "configs/order-saga.yaml", "prod")
    saga = render_tfvars(spec)["aws-saga-stepfunctions"]
    assert saga["definition"] == render_asl(ROOT / "configs/sagas/order-fulfilment.yaml")
    assert (saga["name"], saga["allow_execution_data_logging"]) == ("orders-saga-prod-order-fulfilment", False)


def test_s3_store_keeps_payloads_longer_than_any_queue_or_dlq() -> None:
    rendered = render_tfvars(load_spec(ROOT / "configs/order-claim-check.yaml", "staging"))
    store = rendered["claim-check-store-aws-s3"]
    assert store["max_message_retention_seconds"] == 336 * 3600  # the DLQs' 14 days, the longest wait
    assert (store["bucket"], store["payload_expiration_days"]) == ("orders-claims-staging-claim-checks", 15)


STORE_SPECS = {
    "azure-blob": """
name: media
broker: event-grid
event_grid: {resource_group_name: rg-media, location: northeurope, dead_letter_storage: {storage_account_name: mediadl}}
claim_check: {store: azure-blob, name: mediapayloads, readers: ["11111111-1111-1111-1111-111111111111"]}
""",
    "gcs": """
name: media
broker: pubsub
pubsub: {project_id: media-platform, location: EU}
claim_check:
  store: gcs
  payload_expiration_days: 10
  writers: ["serviceAccount:up@media-platform.iam.gserviceaccount.com"]
events:
  OrderPlaced: {schema: schemas/order-events/v1/order-placed.avsc, version: 1}
channels:
  uploads: {events: [OrderPlaced]}
subscribers:
  thumbnails: {channel: uploads, pubsub: {message_retention_hours: 168}}
""",
}


def store_spec(tmp_path: Path, kind: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "media.yaml").write_text(STORE_SPECS[kind])
    return tmp_path / "media.yaml"


def test_azure_blob_store_sits_with_the_event_grid_topic(tmp_path: Path) -> None:
    blob = render_tfvars(load_spec(store_spec(tmp_path, "azure-blob")))["claim-check-store-azure-blob"]
    assert (blob["storage_account_name"], blob["resource_group_name"], blob["location"]) == (
        "mediapayloads", "rg-media", "northeurope")
    assert blob["reader_principal_ids"] == ["11111111-1111-1111-1111-111111111111"]
    assert "max_message_retention_seconds" not in blob  # no queue in the spec: the module's default bound holds


def test_gcs_store_sits_with_the_pubsub_project(tmp_path: Path) -> None:
    gcs = render_tfvars(load_spec(store_spec(tmp_path, "gcs")))["claim-check-store-gcs"]
    assert (gcs["project_id"], gcs["bucket"], gcs["location"]) == ("media-platform", "media-claim-checks", "EU")
    assert gcs["max_message_retention_seconds"] == 168 * 3600
    assert gcs["object_creators"] == ["serviceAccount:up@media-platform.iam.gserviceaccount.com"]
