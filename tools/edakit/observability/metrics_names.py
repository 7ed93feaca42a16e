"""The names `edakit lag serve` exports: one truth for the exporter, the generated Prometheus rules and the dashboards.

Prometheus conventions: `edakit_` prefix, base units in the name (`_seconds`, `_messages`), no `_total` (these are
gauges: a lag is a level, not a count). Label names are the constants below; label values are the broker's own names
(topic, consumer group, queue, subscription).

Every figure carries `broker` and `target` (two clusters may both have a group `billing`; without `target` their
series would collide), plus the labels named beside it below. The exporter's own gauges carry `target` only.
"""

from __future__ import annotations

# --- labels -----------------------------------------------------------------------------------------------------
LABEL_BROKER = "broker"  # kafka | sqs | pubsub | eventgrid | outbox | eventstore
LABEL_TARGET = "target"  # the address scraped, redacted (kafka://host:9092, sqs:http://..., sqlite:PATH)
LABEL_TOPIC = "topic"  # Kafka topic, Pub/Sub topic, Event Grid topic
LABEL_GROUP = "group"  # Kafka consumer group
LABEL_PARTITION = "partition"  # Kafka partition number, as a string
LABEL_QUEUE = "queue"  # SQS queue name
LABEL_SUBSCRIPTION = "subscription"  # Pub/Sub subscription, Event Grid event subscription
LABEL_STATE = "state"  # one of QUEUE_STATES
LABEL_RELAY = "relay"  # outbox: its database and table, redacted (one relay reads one table); event store: its name
LABEL_PROJECTION = "projection"  # the read model's name (ReadModel.name)
LABEL_ADVICE = "advice"  # one of ADVICE_VALUES

QUEUE_STATES = ("visible", "in_flight", "dlq")
ADVICE_VALUES = ("add_consumers", "add_partitions", "none", "unknown")  # unknown: the broker described no members

# --- Kafka (per group and partition; kminion/Burrow style) ---------------------------------------------------------
# end offset (high watermark) minus committed offset; a partition with no commit counts from its low watermark
CONSUMER_LAG_MESSAGES = "edakit_consumer_lag_messages"  # {topic,group,partition}
# now minus the timestamp of the first record not yet consumed (the record at the committed offset); 0 when caught up
CONSUMER_LAG_SECONDS = "edakit_consumer_lag_seconds"  # {topic,group,partition}
CONSUMER_COMMITTED_OFFSET = "edakit_consumer_committed_offset"  # {topic,group,partition}; -1 = no commit
PARTITION_END_OFFSET = "edakit_partition_end_offset"  # {topic,partition}: every topic but __internal ones, DLQs too
CONSUMER_GROUP_MEMBERS = "edakit_consumer_group_members"  # {group}
CONSUMER_GROUP_PARTITIONS = "edakit_consumer_group_partitions"  # {group}: partitions the group has offsets on
# 1 for the advice that applies to a lagging group (add_consumers: fewer members than partitions; add_partitions:
# as many members as partitions already), "none" when the group does not lag
CONSUMER_GROUP_ADVICE = "edakit_consumer_group_advice"  # {group,advice}

# --- queues: SQS (and the DLQ depth of any broker that has one) ---------------------------------------------------
QUEUE_MESSAGES = "edakit_queue_messages"  # {queue,state}
# CloudWatch ApproximateAgeOfOldestMessage; absent where the broker emits no metrics (moto)
QUEUE_OLDEST_MESSAGE_AGE_SECONDS = "edakit_queue_oldest_message_age_seconds"  # {queue}

# --- Pub/Sub (Cloud Monitoring; absent on the emulator) -------------------------------------------------------------
SUBSCRIPTION_BACKLOG_MESSAGES = "edakit_subscription_backlog_messages"  # {subscription}
SUBSCRIPTION_OLDEST_UNACKED_AGE_SECONDS = "edakit_subscription_oldest_unacked_age_seconds"  # {subscription}

# --- Event Grid ----------------------------------------------------------------------------------------------------
DEAD_LETTERED_EVENTS = "edakit_dead_lettered_events"  # {subscription}: events in the dead-letter container
DEAD_LETTER_BLOBS = "edakit_dead_letter_blobs"  # {subscription}: blobs Event Grid wrote for the subscription
# Azure Monitor DeadLetteredCount / DeliveryAttemptFailCount (absent where Azure Monitor is not configured)
DELIVERY_FAILED_EVENTS = "edakit_delivery_failed_events"  # {subscription}; not exported yet (Azure Monitor)

# --- outbox relays ---------------------------------------------------------------------------------------------------
OUTBOX_ROWS = "edakit_outbox_rows"  # {relay}: rows not yet published
OUTBOX_OLDEST_AGE_SECONDS = "edakit_outbox_oldest_age_seconds"  # {relay}: age of the oldest unpublished row
OUTBOX_FAILING_ROWS = "edakit_outbox_failing_rows"  # {relay}: rows whose last publish failed (in backoff)
OUTBOX_DEAD_LETTER_ROWS = "edakit_outbox_dead_letter_rows"  # {relay}: rows in the outbox's dead-letter table

# --- event-store relays and projections (tracking records; `target` is the event store) ------------------------------
# notifications after the follower's position, and the age of the oldest of them (0 when caught up)
EVENT_STORE_RELAY_LAG_EVENTS = "edakit_event_store_relay_lag_events"  # {relay}
EVENT_STORE_RELAY_LAG_SECONDS = "edakit_event_store_relay_lag_seconds"  # {relay}
EVENT_STORE_PROJECTION_LAG_EVENTS = "edakit_event_store_projection_lag_events"  # {projection}
EVENT_STORE_PROJECTION_LAG_SECONDS = "edakit_event_store_projection_lag_seconds"  # {projection}

# --- the exporter itself (per target, every scrape) -------------------------------------------------------------------
LAG_SCRAPE_SUCCESS = "edakit_lag_scrape_success"  # {target}: 1 the target answered within its deadline, else 0
LAG_SCRAPE_DURATION_SECONDS = "edakit_lag_scrape_duration_seconds"  # {target}

ALL_METRICS = (
    CONSUMER_LAG_MESSAGES, CONSUMER_LAG_SECONDS, CONSUMER_COMMITTED_OFFSET, PARTITION_END_OFFSET,
    CONSUMER_GROUP_MEMBERS, CONSUMER_GROUP_PARTITIONS, CONSUMER_GROUP_ADVICE,
    QUEUE_MESSAGES, QUEUE_OLDEST_MESSAGE_AGE_SECONDS,
    SUBSCRIPTION_BACKLOG_MESSAGES, SUBSCRIPTION_OLDEST_UNACKED_AGE_SECONDS,
    DEAD_LETTERED_EVENTS, DEAD_LETTER_BLOBS, DELIVERY_FAILED_EVENTS,
    OUTBOX_ROWS, OUTBOX_OLDEST_AGE_SECONDS, OUTBOX_FAILING_ROWS, OUTBOX_DEAD_LETTER_ROWS,
    EVENT_STORE_RELAY_LAG_EVENTS, EVENT_STORE_RELAY_LAG_SECONDS, EVENT_STORE_PROJECTION_LAG_EVENTS,
    EVENT_STORE_PROJECTION_LAG_SECONDS,
    LAG_SCRAPE_SUCCESS, LAG_SCRAPE_DURATION_SECONDS,
)
