"""Azure Event Grid profile (`broker: event-grid`): a custom topic, one event subscription per subscriber.

- Filters: the ARM `filter` object (includedEventTypes, subjectBeginsWith, advancedFilters...) on the event itself
  (no message attributes), evaluated by edakit.routing.eventgrid. `edakit routes` derives the event a kit example
  becomes with the runtime's own encoder (edakit.runtime.adapters.eventgrid.encode: the CloudEvents 1.0 JSON the
  publisher sends).
- Module `azure-eventgrid` (one topic per spec): topic names 3-50 characters, event subscription names 3-64;
  dead letters go to the topic's Blob container (always); 1-30 delivery attempts.
- Event Grid pushes to webhooks: the kit does not consume it through a Broker adapter (EventGridWebhook instead).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from edakit.brokers.eventbridge import event_of
from edakit.brokers.profile import BrokerProfile, Capabilities, DeliveryRules, FilterLanguage, SizeLimit

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.message import Message
    from edakit.spec.errors import Problem
    from edakit.spec.model import Channel, EventGridDestination, Filter, Spec
    from edakit.spec.source import Document

BROKER = "event-grid"
TOPIC_NAME = (3, 50)
SUBSCRIPTION_NAME = (3, 64)
WEBHOOK_AUTH = ("active_directory_tenant_id", "active_directory_app_id_or_uri", "secret_header_name",
                "allow_unauthenticated_webhook")


def _explain(subscription_filter: Filter, body: Any, attributes: Mapping[str, Mapping[str, str]]) -> list[str]:
    from edakit.routing.eventgrid import explain_eventgrid

    return explain_eventgrid(dict(subscription_filter.policy), event_of(body))  # type: ignore[arg-type]


def _validate(subscription_filter: Filter) -> None:
    from edakit.routing.eventgrid import validate_eventgrid_filter

    validate_eventgrid_filter(dict(subscription_filter.policy))  # type: ignore[arg-type]


def _encode(message: Message, contract: AttributeContract | None) -> tuple[str, dict[str, dict[str, str]]]:
    from edakit.runtime.adapters.eventgrid import encode

    return encode(message).decode(), {}


def _render(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import azure_eventgrid

    return azure_eventgrid.tfvars(spec, channels)


def names(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Topic and event subscription names Event Grid accepts."""
    for channel in spec.channels.values():
        if channel.broker != BROKER:
            continue
        name = channel.resource_name
        low, high = TOPIC_NAME
        if not low <= len(name) <= high:
            yield doc.problem(("channels", channel.name), f"Event Grid topic name '{name}' is {len(name)} characters; "
                                                          f"Event Grid allows {low}-{high}")
        low, high = SUBSCRIPTION_NAME
        for sub in spec.subscribers_of(channel.name):
            if not low <= len(sub.name) <= high:
                yield doc.problem(("subscribers", sub.name),
                                  f"an Event Grid event subscription name has {low}-{high} characters; '{sub.name}' "
                                  f"has {len(sub.name)}")


def destinations(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Each destination type names what it needs and nothing else; a webhook authenticates Event Grid."""
    for sub in spec.subscribers.values():
        destination = sub.event_grid
        if destination is None:
            continue
        here = ("subscribers", sub.name, "event_grid", "destination")
        needs = {"webhook": ("webhook_url",), "storage_queue": ("resource_id", "queue_name")}.get(
            destination.type, ("resource_id",))
        for key in needs:
            if getattr(destination, key) is None:
                yield doc.problem(here, f"destination type {destination.type} needs `{key}`")
        for key in sorted({"webhook_url", "resource_id", "queue_name"} - set(needs)):
            if getattr(destination, key) is not None:
                yield doc.problem((*here, key), f"destination type {destination.type} takes no `{key}`")
        yield from _webhook_auth(doc, here, destination)


def _webhook_auth(doc: Document, here: tuple[str | int, ...], destination: EventGridDestination) -> Iterator[Problem]:
    """A webhook must be able to tell Event Grid's deliveries from anyone's POST: an Entra ID token, a secret
    header, or the explicit opt-out (the azure-eventgrid module refuses the rest at plan time)."""
    if destination.type != "webhook":
        for key in WEBHOOK_AUTH:
            if (*here, key) in doc.positions:
                yield doc.problem((*here, key), f"destination type {destination.type} takes no `{key}` (webhooks only)")
        return
    entra = (destination.active_directory_tenant_id, destination.active_directory_app_id_or_uri)
    if (entra[0] is None) != (entra[1] is None):
        yield doc.problem(here, "`active_directory_tenant_id` and `active_directory_app_id_or_uri` go together "
                                "(the Entra ID tenant and application Event Grid requests the token for)")
    if None in entra and destination.secret_header_name is None and not destination.allow_unauthenticated_webhook:
        yield doc.problem(here, "a webhook needs `active_directory_tenant_id` + `active_directory_app_id_or_uri` "
                                "(an Entra ID token) and/or `secret_header_name` (a secret header), so that it can "
                                "refuse deliveries that are not Event Grid's; `allow_unauthenticated_webhook: true` "
                                "accepts anyone")
    header = (destination.secret_header_name or "").lower()
    if header.startswith("aeg-") or (header == "authorization" and entra[0] is not None):
        yield doc.problem((*here, "secret_header_name"),
                          f"secret_header_name {destination.secret_header_name!r}: aeg-* headers are Event Grid's "
                          f"own, and Authorization carries the Entra ID token")


PROFILE = BrokerProfile(
    name=BROKER,
    block="event_grid",
    title="Event Grid",
    module="azure-eventgrid",
    render=_render,
    capabilities=Capabilities(ordering="none", native_dlq=True, leases=False, server_side_filtering=True,
                              replay=True, fifo_topics=False, one_channel_per_spec=True),
    delivery=DeliveryRules(
        max_receive_count=(1, 30), dlq_retention_per_subscriber=False,
        dlq_required="the event-grid topic always dead-letters undeliverable events to its Blob container",
        target_required="an event-grid subscriber needs `event_grid.destination` (where Event Grid delivers)"),
    filters=FilterLanguage(name="Event Grid filter", form=dict,
                           form_hint="an Event Grid filter is a mapping such as {includedEventTypes: [OrderPlaced]}",
                           explain=_explain, validate=_validate),
    encode=_encode,
    checks=(names, destinations),
    module_defaults={
        "event_subscriptions.retry_policy.max_delivery_attempts": 30,
        "event_subscriptions.retry_policy.event_time_to_live": 1440,
        "dead_letter_storage.create": True,
        "dead_letter_storage.retention_days": 30,
        "identity.type": "SystemAssigned",
    },
    # 1 MB per event and per published array (a larger one is refused with 413): "1 MB", the smaller reading.
    size_limit=SizeLimit(1_000_000, base64=True, default_threshold=704 * 1024),
    adapter_module="eventgrid",
    messaging_system="eventgrid",
)
