"""Cross-checks on the typed model: rules that span several keys (references are checked in references.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from edakit.spec.build import resource_name
from edakit.spec.errors import Problem
from edakit.spec.model import EventGridDestination, Spec, Subscriber
from edakit.spec.source import Document

SQS_QUEUE_NAME_MAX = 80


def cross_check(spec: Spec, doc: Document) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(spec, doc))
    return problems


def _written(doc: Document, *path: str) -> tuple[str, ...]:
    """`path` if the spec writes it, else its nearest written ancestor: problems point at what the user wrote."""
    while path and path not in doc.positions:
        path = path[:-1]
    return path


def _first_written(doc: Document, *paths: tuple[str, ...]) -> tuple[str, ...]:
    """The first of `paths` the spec writes (the last one is the fallback)."""
    return next((path for path in paths if path in doc.positions), paths[-1])


# The top-level settings block each broker's channels need, and the channel/subscriber block that belongs to it.
BROKER_BLOCKS = {"kafka": "kafka", "sqs-sns": "sqs_sns", "event-grid": "event_grid", "pubsub": "pubsub",
                 "eventbridge": "eventbridge"}
# The native form of `filter.policy` per broker (kafka has no broker-side filters).
FILTER_FORMS: dict[str, tuple[type, str]] = {
    "sqs-sns": (dict, "an SNS filter policy is a mapping such as {event_type: [OrderPlaced]}, not a string"),
    "eventbridge": (dict, "an EventBridge event pattern is a mapping such as {detail-type: [OrderPlaced]}"),
    "event-grid": (dict, "an Event Grid filter is a mapping such as {includedEventTypes: [OrderPlaced]}"),
    "pubsub": (str, "a Pub/Sub filter is an expression string such as 'attributes.event_type = \"OrderPlaced\"'"),
}
# Deliveries before dead-lettering each broker accepts (Pub/Sub max_delivery_attempts, Event Grid
# max_delivery_attempts, EventBridge 1 + maximum_retry_attempts).
MAX_RECEIVE_COUNT_RANGE = {"pubsub": (5, 100), "event-grid": (1, 30), "eventbridge": (1, 186)}


def broker_blocks_match(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A broker block on a channel or subscriber of another broker would be silently ignored."""
    for channel in spec.channels.values():
        for broker, block in BROKER_BLOCKS.items():
            if ("channels", channel.name, block) in doc.positions and channel.broker != broker:
                yield doc.problem(
                    ("channels", channel.name, block),
                    f"`{block}` settings apply to {broker} channels; this channel uses {channel.broker}",
                )
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if channel is None:
            continue
        for broker, block in BROKER_BLOCKS.items():
            if ("subscribers", sub.name, block) in doc.positions and channel.broker != broker:
                yield doc.problem(
                    ("subscribers", sub.name, block),
                    f"`{block}` settings apply to {broker} subscribers; channel '{channel.name}' uses {channel.broker}",
                )
        yield from _subscriber_rules(sub, channel.broker, doc)


def _subscriber_rules(sub: Subscriber, broker: str, doc: Document) -> Iterator[Problem]:
    here = ("subscribers", sub.name)
    if sub.filter is not None and broker == "kafka":
        yield doc.problem(
            (*here, "filter"),
            "Kafka has no broker-side filtering: every consumer group reads the whole topic; remove `filter`",
        )
    elif sub.filter is not None and not isinstance(sub.filter.policy, FILTER_FORMS[broker][0]):
        yield doc.problem((*here, "filter", "policy"), FILTER_FORMS[broker][1])
    if (*here, "filter", "scope") in doc.positions and broker not in ("sqs-sns", "kafka"):
        yield doc.problem((*here, "filter", "scope"), "`scope` applies to SNS filter policies only; remove it")
    if not sub.dlq.enabled and broker in ("kafka", "event-grid", "eventbridge"):
        why = {
            "kafka": "kafka subscribers always get a DLQ topic: without one, a failing message blocks its partition",
            "event-grid": "the event-grid topic always dead-letters undeliverable events to its Blob container",
            "eventbridge": "eventbridge rules always get a DLQ: without one, events that exhaust the retries are lost",
        }[broker]
        yield doc.problem((*here, "dlq", "enabled"), why)
    if broker in MAX_RECEIVE_COUNT_RANGE and sub.dlq.enabled:
        low, high = MAX_RECEIVE_COUNT_RANGE[broker]
        if not low <= sub.dlq.max_receive_count <= high:
            yield doc.problem(
                _written(doc, *here, "dlq", "max_receive_count"),
                f"dlq.max_receive_count {sub.dlq.max_receive_count} is outside {low}-{high}, "
                f"the delivery attempts {broker} allows before dead-lettering",
            )
    if (*here, "dlq", "retention_hours") in doc.positions and broker in MAX_RECEIVE_COUNT_RANGE:
        yield doc.problem(
            (*here, "dlq", "retention_hours"),
            f"{broker} dead-letter retention is not set per subscriber; remove it",
        )
    if broker == "event-grid" and sub.event_grid is None:
        yield doc.problem(here, "an event-grid subscriber needs `event_grid.destination` (where Event Grid delivers)")
    if broker == "eventbridge" and sub.eventbridge is None:
        yield doc.problem(here, "an eventbridge subscriber (a rule) needs `eventbridge.queue_arn`, its SQS target")
    if broker == "eventbridge" and sub.filter is None:
        yield doc.problem(here, "an eventbridge subscriber (a rule) needs `filter.policy`, its event pattern")
    target = sub.eventbridge
    if target is not None and target.queue_arn.endswith(".fifo") and target.message_group_id is None:
        yield doc.problem((*here, "eventbridge"), "a FIFO queue target needs `message_group_id`")
    destination = sub.event_grid
    if destination is not None:
        needs = {"webhook": ("webhook_url",), "storage_queue": ("resource_id", "queue_name")}.get(
            destination.type, ("resource_id",)
        )
        for key in needs:
            if getattr(destination, key) is None:
                yield doc.problem(
                    (*here, "event_grid", "destination"), f"destination type {destination.type} needs `{key}`"
                )
        for key in sorted({"webhook_url", "resource_id", "queue_name"} - set(needs)):
            if getattr(destination, key) is not None:
                yield doc.problem(
                    (*here, "event_grid", "destination", key),
                    f"destination type {destination.type} takes no `{key}`",
                )
        yield from _webhook_auth(doc, (*here, "event_grid", "destination"), destination)


WEBHOOK_AUTH = ("active_directory_tenant_id", "active_directory_app_id_or_uri", "secret_header_name",
                "allow_unauthenticated_webhook")


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


def fifo_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    """FIFO topics feed only FIFO queues: the fan-out module makes every queue of a FIFO topic FIFO, so the spec
    says FIFO once, on the channel, where only SNS understands it."""
    for channel in spec.channels.values():
        if channel.fifo and channel.broker != "sqs-sns":
            yield doc.problem(
                ("channels", channel.name, "fifo"),
                f"fifo applies to sqs-sns channels (SNS FIFO topic and FIFO queues); {channel.broker} orders "
                "messages by key/partition instead",
            )
        if channel.content_based_deduplication and not channel.fifo:
            yield doc.problem(
                ("channels", channel.name, "sqs_sns", "content_based_deduplication"),
                "content-based deduplication needs a FIFO topic: set `fifo: true` or remove it",
            )
        if channel.broker != "sqs-sns":
            continue
        suffix = ".fifo" if channel.fifo else ""
        for sub in spec.subscribers_of(channel.name):
            dlq_name = f"{channel.resource_name}-{sub.name}-dlq{suffix}"
            if len(dlq_name) > SQS_QUEUE_NAME_MAX:
                yield doc.problem(
                    ("subscribers", sub.name),
                    f"queue name '{dlq_name}' is {len(dlq_name)} characters; SQS allows {SQS_QUEUE_NAME_MAX}: "
                    "shorten the spec, channel or subscriber name",
                )


def dlq_outlives_source(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A DLQ that expires first loses exactly the messages someone needs to inspect."""
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if not sub.dlq.enabled or sub.dlq.retention_hours is None or channel is None:
            continue
        if sub.queue is not None:
            source, what = sub.queue.message_retention_hours, "its queue's message_retention_hours"
        elif channel.kafka is not None:
            source, what = channel.kafka.retention_hours, f"topic '{channel.resource_name}' retention_hours"
        else:
            continue
        if sub.dlq.retention_hours < source:
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "dlq", "retention_hours"),
                f"the DLQ keeps messages {sub.dlq.retention_hours} h, less than {what} ({source} h); "
                f"set dlq.retention_hours to at least {source}",
            )


def queue_settings(spec: Spec, doc: Document) -> Iterator[Problem]:
    for sub in spec.subscribers.values():
        queue = sub.queue
        if queue is not None and queue.age_of_oldest_message_alarm_seconds >= queue.message_retention_hours * 3600:
            alarm, retention = queue.age_of_oldest_message_alarm_seconds, queue.message_retention_hours * 3600
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "sqs_sns", "age_of_oldest_message_alarm_seconds"),
                f"age_of_oldest_message_alarm_seconds ({alarm}) must be below the queue's retention ({retention} s): "
                "older messages are already deleted",
            )
        if sub.retry.min_backoff_seconds > sub.retry.max_backoff_seconds:
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "retry", "min_backoff_seconds"),
                f"min_backoff_seconds ({sub.retry.min_backoff_seconds}) exceeds max_backoff_seconds "
                f"({sub.retry.max_backoff_seconds})",
            )


def kafka_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    for channel in spec.channels.values():
        topic = channel.kafka
        if topic is not None and topic.min_insync_replicas > topic.replication_factor:
            yield doc.problem(
                _first_written(
                    doc,
                    ("channels", channel.name, "kafka", "min_insync_replicas"),
                    ("channels", channel.name, "kafka", "replication_factor"),
                    ("kafka", "min_insync_replicas"),
                    ("channels", channel.name),
                ),
                f"min_insync_replicas {topic.min_insync_replicas} exceeds the replication factor "
                f"{topic.replication_factor} of channel '{channel.name}': producers with acks=all could never write",
            )
    groups: dict[str, str] = {}
    for sub in spec.subscribers.values():
        if sub.consumer_group is None:
            continue
        if sub.consumer_group in groups:
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "kafka", "consumer_group"),
                f"consumer group '{sub.consumer_group}' is already used by subscriber '{groups[sub.consumer_group]}'; "
                "each subscriber needs its own group to receive every message",
            )
        groups.setdefault(sub.consumer_group, sub.name)


def renderable(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Each broker module takes one topic (or bus), so a spec renders one tfvars file per module: split larger
    systems into several specs."""
    modules = {"sqs-sns": "aws-sns-sqs-fanout", "event-grid": "azure-eventgrid", "pubsub": "gcp-pubsub",
               "eventbridge": "aws-eventbridge-routing"}
    for broker, module in modules.items():
        channels = [c for c in spec.channels.values() if c.broker == broker]
        for extra in channels[1:]:
            yield doc.problem(
                ("channels", extra.name),
                f"a spec may have one {broker} channel (it renders {module}.auto.tfvars.json); "
                f"'{channels[0].name}' is already one: move this channel to its own spec file",
            )
    for channel in spec.channels.values():
        if channel.broker == "sqs-sns" and not spec.subscribers_of(channel.name):
            yield doc.problem(
                ("channels", channel.name),
                "an sqs-sns channel needs at least one subscriber: SNS drops messages nobody subscribed to",
            )


def pubsub_schema(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A Pub/Sub topic takes one schema: the channel's single event's Avro file."""
    for channel in spec.channels.values():
        if channel.pubsub is None or channel.pubsub.schema_encoding is None:
            continue
        events = [spec.events[e] for e in channel.events if e in spec.events]
        if len(channel.events) != 1 or not all(e.schema.endswith(".avsc") for e in events):
            yield doc.problem(
                ("channels", channel.name, "pubsub", "schema_encoding"),
                "a Pub/Sub topic schema comes from the channel's event Avro file: the channel needs exactly one "
                "event with an .avsc schema",
            )


def aws_region_agrees(spec: Spec, doc: Document) -> Iterator[Problem]:
    """AWS pattern roots have one provider, so every AWS block of a spec names the same region."""
    regions = [
        (("sqs_sns", "region"), spec.sqs_sns.region if spec.sqs_sns else None),
        (("eventbridge", "region"), spec.eventbridge.region if spec.eventbridge else None),
        (("saga", "region"), spec.saga.region if spec.saga else None),
    ]
    named = [(path, region) for path, region in regions if region is not None]
    for path, region in named[1:]:
        if region != named[0][1]:
            first = ".".join(named[0][0])
            yield doc.problem(path, f"region {region} differs from {first} {named[0][1]}: use one AWS region")


def claim_check_store(spec: Spec, doc: Document) -> Iterator[Problem]:
    """The store sits in the same cloud as the broker and takes its location from that broker's block."""
    store = spec.claim_check
    if store is None:
        return
    if store.store == "s3" and spec.sqs_sns is None and spec.eventbridge is None:
        yield doc.problem(("claim_check", "store"), "an s3 store takes its region from `sqs_sns` or `eventbridge`")
    if store.store == "azure-blob":
        if spec.event_grid is None:
            yield doc.problem(
                ("claim_check", "store"), "an azure-blob store takes its resource group and location from `event_grid`"
            )
        if ("claim_check", "name") not in doc.positions or not re.fullmatch("[a-z0-9]{3,24}", store.name):
            yield doc.problem(
                _written(doc, "claim_check", "name"),
                "an azure-blob store needs `name`: a storage account name of 3-24 lowercase letters and digits",
            )
    if store.store == "gcs" and (spec.pubsub is None or spec.pubsub.location is None):
        yield doc.problem(("claim_check", "store"), "a gcs store takes its project and location from `pubsub`")
    longest = spec.longest_message_retention_hours()
    if longest is not None and store.payload_expiration_days * 24 < longest:
        yield doc.problem(
            _written(doc, "claim_check", "payload_expiration_days"),
            f"payloads expire after {store.payload_expiration_days} days but a message can wait {longest} h in a "
            f"queue or DLQ of this spec: set payload_expiration_days to at least {-(-longest // 24)}",
        )


# Name limits of the cloud resources a spec's names become (the modules validate the same at plan time).
EVENTBRIDGE_BUS_NAME_MAX = 40
EVENT_GRID_TOPIC_NAME = (3, 50)
EVENT_GRID_SUBSCRIPTION_NAME = (3, 64)
STATE_MACHINE_NAME_MAX = 64
PUBSUB_FILTER_BYTES_MAX = 256
GCP_LABEL = re.compile(r"[a-z][a-z0-9_-]{0,62}")
GCP_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")


def cloud_names_fit(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Derived names that a cloud would reject, reported at the spec's names rather than at `terraform plan`."""
    for channel in spec.channels.values():
        name = channel.resource_name
        if channel.broker == "eventbridge":
            if len(name) > EVENTBRIDGE_BUS_NAME_MAX:
                yield doc.problem(
                    ("channels", channel.name),
                    f"event bus name '{name}' is {len(name)} characters; EventBridge allows "
                    f"{EVENTBRIDGE_BUS_NAME_MAX}: shorten the spec or channel name",
                )
            for sub in spec.subscribers_of(channel.name):
                dlq = f"{name}-{sub.name}-dlq"
                if len(dlq) > SQS_QUEUE_NAME_MAX:
                    yield doc.problem(
                        ("subscribers", sub.name),
                        f"the rule's dead-letter queue '{dlq}' is {len(dlq)} characters; SQS allows "
                        f"{SQS_QUEUE_NAME_MAX}: shorten the spec, channel or subscriber name",
                    )
        if channel.broker == "event-grid":
            low, high = EVENT_GRID_TOPIC_NAME
            if not low <= len(name) <= high:
                yield doc.problem(
                    ("channels", channel.name),
                    f"Event Grid topic name '{name}' is {len(name)} characters; Event Grid allows {low}-{high}",
                )
            low, high = EVENT_GRID_SUBSCRIPTION_NAME
            for sub in spec.subscribers_of(channel.name):
                if not low <= len(sub.name) <= high:
                    yield doc.problem(
                        ("subscribers", sub.name),
                        f"an Event Grid event subscription name has {low}-{high} characters; '{sub.name}' has "
                        f"{len(sub.name)}",
                    )
    if spec.saga is not None:
        machine = resource_name(spec.name, spec.environment, spec.saga.definition_path.stem)
        if len(machine) > STATE_MACHINE_NAME_MAX:
            yield doc.problem(
                ("saga", "definition"),
                f"state machine name '{machine}' is {len(machine)} characters; its IAM role allows "
                f"{STATE_MACHINE_NAME_MAX}: shorten the spec or saga file name",
            )


def pubsub_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    on_gcp = spec.pubsub is not None and (
        any(c.broker == "pubsub" for c in spec.channels.values())
        or (spec.claim_check is not None and spec.claim_check.store == "gcs")
    )
    if on_gcp:  # tags become Google labels, whose format is strict
        for key, value in spec.tags.items():
            if not GCP_LABEL.fullmatch(key) or not GCP_LABEL_VALUE.fullmatch(value):
                yield doc.problem(
                    ("tags", key),
                    f"tag '{key}: {value}' cannot be a Google Cloud label: keys start with a lowercase letter, keys "
                    "and values use lowercase letters, digits, _ and - (at most 63)",
                )
    for sub in spec.subscribers.values():
        settings = sub.pubsub
        if settings is None:
            continue
        if settings.push_endpoint is not None and settings.enable_exactly_once_delivery:
            yield doc.problem(
                ("subscribers", sub.name, "pubsub", "enable_exactly_once_delivery"),
                "exactly-once delivery works only on pull subscriptions: remove `push` or this setting",
            )
        if sub.filter is not None and len(str(sub.filter.policy).encode()) > PUBSUB_FILTER_BYTES_MAX:
            yield doc.problem(
                ("subscribers", sub.name, "filter", "policy"),
                f"a Pub/Sub filter has at most {PUBSUB_FILTER_BYTES_MAX} bytes",
            )


def attribute_contract(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Filters read only attributes their channel carries (edakit.brokers.checks; imported here, as the broker
    profiles import the routing evaluators, which import the spec package)."""
    from edakit.brokers.checks import attribute_contract as check

    yield from check(spec, doc)


CHECKS: tuple[Callable[[Spec, Document], Iterator[Problem]], ...] = (
    broker_blocks_match,
    fifo_rules,
    dlq_outlives_source,
    queue_settings,
    kafka_rules,
    renderable,
    pubsub_schema,
    aws_region_agrees,
    claim_check_store,
    cloud_names_fit,
    pubsub_rules,
    attribute_contract,
)
