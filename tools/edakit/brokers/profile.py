"""What the kit knows about one broker, in one place: `BrokerProfile`.

Every broker module in this package (kafka, sqs_sns, eventbridge, pubsub, eventgrid) defines `PROFILE`; the
registry (edakit.brokers.PROFILES) is what spec checks, lint, render, routes, runtime settings, `edakit dlq` and
`edakit outbox` loop over, so none of them branches on a broker's name.

A profile refers to its renderer, evaluator, encoder and adapter by function, imported when first called: the
adapters import their profile (prefix, budget), and the renderers and evaluators import the spec package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.adapters.base import Broker
    from edakit.runtime.message import Message
    from edakit.runtime.settings import BrokerSettings
    from edakit.spec.errors import Problem
    from edakit.spec.model import Channel, Filter, Spec, Subscriber
    from edakit.spec.source import Document

SpecCheck = Callable[["Spec", "Document"], Iterator["Problem"]]
# (filter, body or event, message attributes in the SNS Publish API form): why the broker would not deliver the
# message through the filter; empty: it would.
Explain = Callable[["Filter", Any, Mapping[str, Mapping[str, str]]], list[str]]
# (message, contract) -> (body text, message attributes in the SNS Publish API form): what the broker receives.
Encoder = Callable[["Message", "AttributeContract | None"], tuple[str, dict[str, dict[str, str]]]]


class BrokerUrlError(ValueError):
    """A broker URL that names no broker we can open."""


@dataclass(frozen=True)
class Capabilities:
    """What the broker does itself (declared; the adapter conformance suite checks the runtime side)."""

    ordering: str  # what is ordered: "partition", "message group (FIFO)", "ordering key", "none"
    native_dlq: bool  # the broker dead-letters by itself after its delivery count
    leases: bool  # a receive holds the message for a deadline the consumer can extend
    server_side_filtering: bool  # subscriptions filter on the broker
    replay: bool  # consumed messages can be read again (log, archive or DLQ redrive)
    fifo_topics: bool  # `channels.<c>.fifo`: FIFO topics with deduplication
    one_channel_per_spec: bool  # the module takes one topic (or bus): a spec has at most one such channel


@dataclass(frozen=True)
class SizeLimit:
    """The largest message the broker accepts, and the claim-check threshold below it (edakit.runtime.claimcheck).

    A broker counts more than the payload: the attributes, and on the JSON bindings the CloudEvents envelope, where a
    binary payload is base64-encoded to 4/3 of its size; threshold x expansion + ATTRIBUTE_ROOM (claimcheck.limits)
    stays within the limit (tests/runtime/claimcheck checks each profile)."""

    limit_bytes: int  # the largest message the broker accepts, attributes included
    base64: bool  # a binary payload may travel base64-encoded in a JSON body
    default_threshold: int  # payloads above this many bytes are offloaded unless `claim_check.threshold_bytes`


@dataclass(frozen=True)
class FilterLanguage:
    """A subscriber's `filter.policy` on this broker: its native form, what it reads, and the evaluator."""

    name: str  # e.g. "SNS filter policy"
    form: type  # dict or str: the YAML shape of `filter.policy`
    form_hint: str  # shown when the policy has the wrong shape
    explain: Explain
    validate: Callable[[Filter], None]  # raises InvalidFilterError (the service's own error text) for a bad filter
    scoped: bool = False  # `filter.scope` (MessageAttributes | MessageBody) applies
    max_bytes: int | None = None  # longest policy the broker accepts
    attributes: Callable[[Filter], set[str]] = field(default=lambda _filter: set())  # message attributes it reads


@dataclass(frozen=True)
class AttributeMapping:
    """How a message's type, id, key, subject and headers become broker attributes (edakit.brokers.attributes)."""

    prefix: str  # the CloudEvents attribute prefix (ce_ / ce-)
    budget: Callable[[Spec, str], int | None]  # most attributes one message may carry on a channel; None: no limit
    why: str  # the budget's reason, for messages


@dataclass(frozen=True)
class DeliveryRules:
    """Spec rules on a subscriber's delivery that differ per broker."""

    max_receive_count: tuple[int, int] | None = None  # deliveries before dead-lettering the broker accepts
    dlq_required: str | None = None  # why `dlq.enabled: false` is refused; None: a subscriber may go without
    dlq_retention_per_subscriber: bool = True  # `dlq.retention_hours` is set per subscriber
    target_required: str | None = None  # why the subscriber needs its broker block (`event_grid`, `eventbridge`)
    filter_required: str | None = None  # why a subscriber needs `filter.policy`


@dataclass(frozen=True)
class BrokerProfile:
    name: str  # the spec's spelling (`broker: sqs-sns`)
    block: str  # the spec's settings block of this broker, on the spec, its channels and subscribers (`sqs_sns`)
    title: str  # for people: "SNS/SQS"
    module: str  # terraform/modules/<module>, which takes one channel of this broker
    render: Callable[[Spec, list[Channel]], dict[str, Any] | None]  # the module's tfvars for the broker's channels
    capabilities: Capabilities
    delivery: DeliveryRules
    filters: FilterLanguage | None  # None: no broker-side filtering (every group reads the whole channel)
    no_filter_reason: str = ""  # why `filter` is refused when `filters` is None
    attributes: AttributeMapping | None = None  # None: filters read the event itself, not message attributes
    # The pattern roots' provider block (AWS region, Kafka bootstrap servers) for the broker's channels.
    provider_settings: Callable[[Spec, list[Channel]], dict[str, Any] | None] | None = None
    encode: Encoder | None = None  # the runtime's own encoder: what the broker receives from the kit's publisher
    channel_needs_subscriber: str | None = None  # why a channel without subscribers is refused
    checks: tuple[SpecCheck, ...] = ()  # the broker's own spec checks (names, limits, destinations)
    # The runtime (edakit.runtime.settings, `edakit dlq`, `edakit outbox`): None for a broker the kit does not
    # consume through a Broker adapter (Event Grid pushes to a webhook, EventBridge delivers to its targets).
    consumer_group: Callable[[Subscriber], str] | None = None  # the adapter's group for a subscriber
    retry_topics: Callable[[Subscriber], int | None] = field(default=lambda _sub: None)
    dlq_name: Callable[[str, str], str] | None = None  # (topic, group) -> the DLQ the module creates and the tools read
    url_scheme: str | None = None  # `edakit dlq --broker <scheme>:...`
    url_forms: str = ""  # the accepted URL forms, for messages
    # (url as shown, text after "<scheme>:", the spec's `<block>.security` or None) -> the adapter: a URL carries
    # no credentials, `edakit dlq replay --spec` and `edakit outbox relay --spec` pass the spec's.
    open_url: Callable[[str, str, Mapping | None], Broker] | None = None
    url_bare: bool = False  # `<scheme>:` alone names a broker (sqs: the default endpoint)
    connect: Callable[[BrokerSettings], Broker] | None = None  # the adapter from the spec's broker settings
    # Defaults of the module's variables.tf that lint (and render) rely on when a tfvars file leaves a key out:
    # "<variable>" or "<variable>.<attribute>[.<attribute>]" (an optional() default) -> the value. Tied to the
    # module by tests/brokers/test_module_defaults.py.
    module_defaults: Mapping[str, Any] = field(default_factory=dict)
    size_limit: SizeLimit | None = None  # the message size limit and the default claim-check threshold
    # Tracing (edakit.runtime.middleware.tracing): the adapter module (edakit.runtime.adapters.<module>) and the
    # OpenTelemetry `messaging.system` of its consumer side and of its publisher (SNS publishes, SQS delivers).
    adapter_module: str | None = None
    messaging_system: str | None = None
    messaging_send_system: str | None = None  # None: messaging_system
    # Serde's default wire format (edakit.runtime.serde): "confluent" (Confluent's framed Avro, what the broker's
    # other clients read) or "json" (JSON text, the schema version in a header).
    wire: str = "json"

    @property
    def consumed(self) -> bool:
        return self.consumer_group is not None

    def default(self, key: str) -> Any:
        """A module default this profile declares (KeyError names the profile: a lint rule asked for one it lacks)."""
        try:
            return self.module_defaults[key]
        except KeyError:
            raise KeyError(f"{self.module}: no module default {key!r} in the {self.name} profile") from None
