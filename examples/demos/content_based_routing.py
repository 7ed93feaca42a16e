"""Content-based routing on the embedded broker: each subscriber's cloud filter decides what reaches it.

What happens (no servers; the broker is one SQLite file in a temporary directory):
1. Each subscriber of a spec becomes a consumer group on the embedded broker, with its filter as the spec writes it
   (an EventBridge event pattern for configs/order-routing-eventbridge.yaml, SNS filter policies for
   configs/order-events-sns.yaml). The embedded broker evaluates them with the kit's own evaluators.
2. The spec's example events (examples/events/<spec>/) are published, one by one.
3. Every group reads what reached it. The demo prints who got what and checks it against `edakit routes`'
   prediction for the same examples (edakit.routing.routes.route); any difference exits 1.

EventBridge examples are events as the bus delivers them: the demo publishes source, detail-type and detail as the
Message's source, type and payload, as a PutEvents entry would. SNS examples marked `publisher: external` stand for
a foreign publisher's raw attributes, which the kit's publisher cannot send: they are shown as skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from edakit.routing.routes import ExampleEvent, examples_dir, load_examples, route
from edakit.runtime.adapters.embedded import EmbeddedBroker, SubscriptionFilter
from edakit.runtime.message import Message
from edakit.spec.loader import load_spec
from edakit.spec.model import Spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = ("configs/order-routing-eventbridge.yaml", "configs/order-events-sns.yaml")


def as_message(spec: Spec, example: ExampleEvent) -> Message | None:
    """The Message a kit publisher sends for the example, None when only a foreign publisher can send it."""
    broker = spec.channels[next(iter(spec.channels))].broker
    if broker == "eventbridge":
        event = example.body
        return Message(id=event["id"], type=event["detail-type"], source=event["source"],
                       payload=json.dumps(event["detail"], separators=(",", ":")).encode(),
                       time=datetime.fromisoformat(event["time"].replace("Z", "+00:00")))
    return None if example.external else example.kit_message("urn:edakit:example")


def run_spec(path: Path, workdir: Path) -> bool:
    spec = load_spec(path)
    print(f"\n== {path.relative_to(ROOT)} ({spec.name}): subscribers and their filters")
    broker = EmbeddedBroker(workdir / f"{spec.name}.sqlite3")
    for name, sub in spec.subscribers.items():
        found = SubscriptionFilter.from_spec(spec, name)
        broker.create_group(spec.channels[sub.channel].resource_name, name, filter=found)
        policy = "none: receives everything on its channel" if found is None else json.dumps(found.policy)
        print(f"   {name:<15} on {sub.channel:<13} filter {policy}")
    receivers = {name: broker.subscriber(spec.channels[sub.channel].resource_name, name)
                 for name, sub in spec.subscribers.items()}
    publisher = broker.publisher()
    ok = True
    for example in load_examples(examples_dir(spec)):
        label = Path(example.file).name
        message = as_message(spec, example)
        if message is None:
            print(f"-- {label}: a foreign publisher's raw message; the kit's publisher cannot send it, skipped")
            continue
        channels = [c for c, channel in spec.channels.items() if example.event in channel.events]
        for channel in channels:
            publisher.publish(spec.channels[channel].resource_name, [message])
        got = []
        for name, receiver in receivers.items():
            deliveries = receiver.receive(max_messages=10, timeout=0)
            for delivery in deliveries:
                delivery.ack()
            if any(d.message.id == message.id for d in deliveries):
                got.append(name)
        predicted = [d.subscriber for d in route(spec, example) if d.receives]
        verdict = "as `edakit routes` predicts" if got == predicted else f"MISMATCH: edakit routes says {predicted}"
        ok &= got == predicted
        print(f"-> {label}: {example.event} published; received by {', '.join(got) or 'nobody'} ({verdict})")
        for delivery in route(spec, example):
            if not delivery.receives and delivery.subscriber in spec.subscribers:
                print(f"     {delivery.subscriber:<15} filtered out: {'; '.join(delivery.reasons)}")
    publisher.close()
    for receiver in receivers.values():
        receiver.close()
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("specs", nargs="*", type=Path, default=[ROOT / s for s in SPECS],
                        help="spec files whose subscribers and examples to route (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="edakit-cbr-") as workdir:
        ok = all([run_spec(Path(spec).resolve(), Path(workdir)) for spec in args.specs])
    print("\ncontent-based routing:", "PASS: every group received exactly what edakit routes predicts" if ok
          else "FAIL: the embedded broker routed differently from edakit routes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
