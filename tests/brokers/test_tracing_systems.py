"""Tracing's `messaging.system` names come from the broker profiles and are OpenTelemetry's well-known values."""

from __future__ import annotations

from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg

from edakit.brokers import PROFILES
from edakit.runtime.middleware.tracing import EMBEDDED_SYSTEM, systems

WELL_KNOWN = {v.value for v in msg.MessagingSystemValues}


def test_every_adapter_profile_names_a_well_known_system():
    for found in PROFILES.values():
        if found.consumed or found.encode is not None and found.adapter_module is not None:
            assert found.messaging_system in WELL_KNOWN, found.name
            assert (found.messaging_send_system or found.messaging_system) in WELL_KNOWN, found.name


def test_the_tables_are_the_profiles():
    assert systems() == {"embedded": EMBEDDED_SYSTEM, "kafka": "kafka", "sqs_sns": "aws_sqs",
                         "pubsub": "gcp_pubsub", "eventgrid": "eventgrid"}
    assert systems(sending=True)["sqs_sns"] == msg.MessagingSystemValues.AWS_SNS.value  # SNS publishes
    assert systems(sending=True)["kafka"] == msg.MessagingSystemValues.KAFKA.value
