"""Open a broker from a URL given on the command line (`edakit dlq`, `edakit outbox`; see SCHEMES). AWS credentials
and region come from the usual boto3 sources (environment, ~/.aws)."""

from __future__ import annotations

from pathlib import Path

from edakit.runtime.adapters.base import Broker
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker

SCHEMES = "embedded:PATH, kafka://HOST:PORT[,HOST:PORT...], sqs: or sqs:ENDPOINT_URL"

KAFKA_TOOL_CONSUMER = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


class BrokerUrlError(ValueError):
    """A broker URL that names no broker we can open."""


def open_broker(url: str) -> Broker:
    scheme, sep, rest = url.partition(":")
    if scheme == "sqs" and sep:
        if rest and not rest.startswith(("http://", "https://")):
            raise BrokerUrlError(f"broker {url!r}: expected sqs: or sqs:http(s)://HOST:PORT (an endpoint URL)")
        return SqsSnsBroker(endpoint_url=rest or None)
    if not sep or not rest:
        raise BrokerUrlError(f"broker {url!r}: expected one of {SCHEMES}")
    if scheme == "embedded":
        path = Path(rest)
        if not path.is_file():  # opening would create an empty broker file: certainly not the DLQ meant
            raise BrokerUrlError(f"broker {url!r}: embedded broker file {path} does not exist")
        return EmbeddedBroker(path)
    if scheme == "kafka":
        bootstrap = rest.removeprefix("//")
        if not bootstrap or any(not h.rpartition(":")[2].isdigit() for h in bootstrap.split(",")):
            raise BrokerUrlError(f"broker {url!r}: expected kafka://HOST:PORT[,HOST:PORT...]")
        # A one-shot tool joins its group once: short session timings make that join take ~1 s instead of ~20 s.
        return KafkaBroker(bootstrap, consumer_config=KAFKA_TOOL_CONSUMER)
    raise BrokerUrlError(f"broker {url!r}: unknown scheme {scheme!r}; expected one of {SCHEMES}")
