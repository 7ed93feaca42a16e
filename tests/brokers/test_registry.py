"""The broker registry (edakit.brokers.PROFILES): one profile per broker, agreeing with the spec schema, the
Terraform modules, the renderers and the adapters; and the packages that loop over it name no broker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from edakit.brokers import PROFILES, BrokerUrlError, consumed, profile
from edakit.render import PROVIDER_SETTINGS, RENDERERS
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.adapters.urls import SCHEMES, open_broker
from edakit.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "configs" / "edakit-spec.schema.json").read_text(encoding="utf-8"))
PACKAGE = ROOT / "tools" / "edakit"


def test_one_profile_per_broker_of_the_spec_in_one_spelling() -> None:
    assert list(PROFILES) == SCHEMA["$defs"]["broker"]["enum"]
    for name, broker in PROFILES.items():
        assert broker.name == name
        assert broker.block in SCHEMA["properties"], f"{name}: its settings block is a top-level spec key"
        assert (ROOT / "terraform" / "modules" / broker.module / "variables.tf").is_file()
        assert broker.module in RENDERERS
    assert len({p.block for p in PROFILES.values()}) == len({p.module for p in PROFILES.values()}) == len(PROFILES)
    with pytest.raises(KeyError, match="no broker profile 'sns_sqs'"):
        profile("sns_sqs")


def test_profiles_declare_what_the_runtime_needs_for_each_consumed_broker() -> None:
    for broker in consumed():
        assert broker.dlq_name is not None and broker.url_scheme is not None and broker.open_url is not None
        assert broker.attributes is not None, f"{broker.name}: the runtime's publisher follows its attribute mapping"
        assert broker.url_forms in SCHEMES
    assert {p.name for p in consumed()} == {"kafka", "sqs-sns", "pubsub"}
    # A broker that filters on the broker has a filter language; one without says why a filter is refused.
    for broker in PROFILES.values():
        assert (broker.filters is not None) == broker.capabilities.server_side_filtering
        assert broker.filters is not None or broker.no_filter_reason


def test_every_broker_module_with_a_provider_block_gets_its_settings(repo_root: Path) -> None:
    spec = load_spec(repo_root / "configs" / "order-events-kafka.yaml", "staging")
    settings = {}
    for render in PROVIDER_SETTINGS:
        settings |= render(spec) or {}
    assert settings == {"bootstrap_servers": list(spec.kafka.bootstrap_servers)}


@pytest.mark.parametrize(("url", "adapter"), [("kafka://127.0.0.1:9092", KafkaBroker),
                                              ("sqs:http://127.0.0.1:4566", SqsSnsBroker),
                                              ("pubsub://127.0.0.1:8085/demo", PubSubBroker),
                                              ("pubsub:demo", PubSubBroker)])
def test_each_profiles_url_scheme_opens_its_adapter(url: str, adapter: type, monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert isinstance(open_broker(url), adapter)


@pytest.mark.parametrize(("url", "expected"), [("kafka:", "expected one of embedded:PATH, kafka://"),
                                               ("pubsub://127.0.0.1/x", "expected pubsub://HOST:PORT/PROJECT"),
                                               ("sqs:ftp://x", "expected sqs: or sqs:http(s)://HOST:PORT")])
def test_a_bad_url_names_the_form_its_profile_expects(url: str, expected: str) -> None:
    with pytest.raises(BrokerUrlError, match=re.escape(expected)):
        open_broker(url)


def test_dlq_names_are_the_adapters() -> None:
    from edakit.runtime.adapters import kafka, pubsub, sqs_sns

    assert PROFILES["kafka"].dlq_name("orders", "billing") == kafka.dead_letter_topic("orders", "billing") \
        == "orders.billing.dlq"
    assert PROFILES["sqs-sns"].dlq_name("orders.fifo", "billing") == sqs_sns.dead_letter_queue_name(
        "orders.fifo", "billing") == "orders-billing-dlq.fifo"
    assert PROFILES["pubsub"].dlq_name("orders", "billing") == pubsub.dead_letter_topic_name("orders", "billing")


# Packages that loop over the registry. spec/build.py (the typed model's per-block construction) still branches on
# names; see tools/edakit/brokers/README.md.
REGISTRY_USERS = ("spec", "render", "routing", "lint", "validate.py", "runtime/settings.py",
                  "runtime/adapters/urls.py", "runtime/dlq", "cli")
NOT_YET = {"spec/build.py"}
BROKER_NAME = "(kafka|sqs-sns|sqs_sns|pubsub|eventbridge|event-grid|event_grid|eventgrid)"
BRANCH = re.compile(rf"""(==|!=|\bin)\s*\(?["']{BROKER_NAME}["']|["']{BROKER_NAME}["']\s*(==|!=|\bin\b|:)"""
                    r"|isinstance\([^)]*(Kafka|SqsSns|PubSub|EventGrid)Broker")


def test_no_package_that_loops_over_the_registry_branches_on_a_broker_name() -> None:
    found = []
    for entry in REGISTRY_USERS:
        path = PACKAGE / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if str(file.relative_to(PACKAGE)) in NOT_YET:
                continue
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                if BRANCH.search(line):
                    found.append(f"{file.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_branch_pattern_finds_what_it_is_meant_to() -> None:
    for line in ('if channel.broker == "kafka":', 'if broker in ("sqs-sns", "pubsub"):', '{"event-grid": 1}',
                 "isinstance(broker, KafkaBroker)"):
        assert BRANCH.search(line), line
    for line in ("if channel.broker == broker.name:", "spec.kafka.bootstrap_servers", '("kafka", "retention")'):
        assert not BRANCH.search(line), line
