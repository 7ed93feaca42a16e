"""Every benchmark group, in the order `make bench` runs them."""

from __future__ import annotations

from benchmarks import consumer, embedded, es, filters, lag, runtime, saga_bench, schemas, sqs_sns
from benchmarks.harness import Group

GROUPS: list[Group] = [schemas.GROUP, filters.GROUP, sqs_sns.CODEC, embedded.GROUP, consumer.INSTRUMENTATION,
                       consumer.ROUTER, sqs_sns.MOTO, runtime.GROUP, lag.GROUP, es.GROUP, es.RELAY,
                       saga_bench.SQLITE, saga_bench.POSTGRES]
