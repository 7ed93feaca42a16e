"""CQRS and event sourcing on SQLite and the embedded broker, as the seed's sketch draws it:

    commands (PlaceOrder, PayOrder, ShipOrder, CancelOrder) -> Order aggregate -> event store
        -> relay -> broker -> projector -> query database -> queries

What happens, in order (no servers needed; every database is a SQLite file in --db-dir):
1. Commands run against Order aggregates (pyeventsourcing); each event is stored as its registry schema's payload
   (schemas/order-events), validated on save. A command the order's state forbids is refused and stores nothing.
2. The relay follows the store's notification log and publishes each event as a CloudEvent (id stable per stored
   event) to the embedded broker, advancing its position after the broker's acknowledgement. A second relay
   re-sends everything: the duplicates a crash would cause.
3. The projector is a Router over the broker subscription: the idempotency record and the read-model writes
   commit in one transaction in the query database, so the duplicates are skipped.
4. A query is served from the read model (paid orders, orders by status).
5. An OrderPlaced stored at schema v1 (by the application as deployed before v2) is read as v2: the
   schema-generated upcaster fills shipping_address and sales_channel with their defaults.
6. The projection is rebuilt from position 0 into fresh tables and swapped in; it equals the broker-fed one.

Exits 0 when every check holds, 1 (naming the check) when one does not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

from edakit.es.mapping import EventSchemas
from edakit.es.orders import REPO_SCHEMAS, Orders, OrderStateError, OrderSummaries, order_rows
from edakit.es.projection import broker_handler, open_view, rebuild
from edakit.es.relay import EventStoreRelay
from edakit.es.store import SchemaApplication, store_env
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import SqlIdempotencyStore
from edakit.runtime.middleware import Router


class DemoFailed(Exception):
    """A check of the demo did not hold."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoFailed(what)
    print(f"   ok: {what}")


class LegacyOrder(Aggregate):
    """The Order aggregate as deployed when order-placed had only its v1 schema."""

    class Placed(Aggregate.Created):
        customer_id: str
        items: list[dict[str, Any]]
        total_amount: float
        currency: str

    @event(Placed)
    def __init__(self, customer_id: str, items: list[dict[str, Any]], total_amount: float, currency: str) -> None:
        self.customer_id = customer_id


class LegacyOrders(SchemaApplication):
    name = "Orders"
    schemas_root: ClassVar[Path] = REPO_SCHEMAS

    @classmethod
    def register_events(cls, schemas: EventSchemas) -> None:
        schemas.register(LegacyOrder.Placed, "order-events/order-placed", id_field="order_id", version=1)


def run(db_dir: Path) -> None:
    store = f"sqlite:{db_dir / 'events.db'}"
    app = Orders(env=store_env(store))
    broker = EmbeddedBroker(db_dir / "broker.db")
    subscription = broker.subscriber("orders.events", "order-summaries")  # before anything is published

    print("1. commands -> Order aggregates -> event store")
    alice = app.place_order("alice", [{"product_id": "book", "quantity": 2, "unit_price": 12.5}],
                            shipping_address={"line1": "1 Main St", "city": "Oslo", "postal_code": "0150",
                                              "country": "NO"})
    bob = app.place_order("bob", [{"product_id": "ebook", "quantity": 1, "unit_price": 9.0}], sales_channel="mobile")
    carol = app.place_order("carol", [{"product_id": "pen", "quantity": 10, "unit_price": 1.2}])
    print(f"   PlaceOrder x3: {alice}, {bob}, {carol}")
    app.pay_order(alice, "pay-a")
    app.ship_order(alice, "ship-a", "posten", "TRK-1")
    app.pay_order(bob, "pay-b")
    app.cancel_order(carol, "customer changed their mind")
    print("   PayOrder alice, ShipOrder alice, PayOrder bob, CancelOrder carol")
    try:
        app.ship_order(carol, "ship-c", "posten")
        raise DemoFailed("shipping a cancelled order was accepted")
    except OrderStateError as refused:
        print(f"   ShipOrder carol refused: {refused}")
    head = app.recorder.max_notification_id()
    for n in app.recorder.select_notifications(start=None, limit=100):
        print(f"   stored #{n.id}  {n.topic:32}  stream {n.originator_id} v{n.originator_version}")
    check(head == 7, "7 events stored (3 placed, 2 paid, 1 shipped, 1 cancelled), none for the refusal")

    print("2. event store -> relay -> broker")
    relay = EventStoreRelay(app, broker.publisher(), batch_size=3)
    print(f"   relay lag before: {relay.lag().as_dict()}")
    check(relay.drain() == 7 and relay.lag().events_behind == 0, "the relay published all 7 and caught up")
    EventStoreRelay(app, broker.publisher(), name="crashed-and-restarted").drain()
    print("   a second relay re-sent all 7 events (same CloudEvent ids): the duplicates a crash can cause")

    print("3. broker -> projector (Router + idempotency) -> query database")
    view = open_view(OrderSummaries, f"sqlite:{db_dir / 'query.db'}")
    handler = broker_handler(app, view, SqlIdempotencyStore("order-summaries", window_hours=24))
    router = Router(subscription, handler, max_messages=10, receive_timeout=0.2)
    handled = router.run_until_idle(0.3)
    with view.connection() as conn:
        processed = conn.execute("SELECT COUNT(*) FROM processed_events").fetchone()[0]
    print(f"   handled {handled} deliveries, {processed} distinct events projected")
    check(handled == 14 and processed == 7, "each event projected once, each duplicate skipped")

    print("4. query served from the read model")
    with view.connection() as conn:
        paid = order_rows(conn, "paid")
        everything = order_rows(conn)
    for row in everything:
        print(f"   {row['customer_id']:6} {row['status']:9} {row['total_amount']:6.2f} {row['currency']} "
              f"via {row['sales_channel']} (v{row['version']})")
    check([r["customer_id"] for r in paid] == ["bob"], "paid orders: bob's")
    check({r["customer_id"]: r["status"] for r in everything} == {"alice": "shipped", "bob": "paid",
                                                                   "carol": "cancelled"}, "every order's status")

    print("5. a v1 OrderPlaced read as v2")
    legacy = LegacyOrders(env=store_env(store))
    old = LegacyOrder("dave", [{"product_id": "mug", "quantity": 1, "unit_price": 7.0}], 7.0, "EUR")
    legacy.save(old)
    [stored] = app.recorder.select_notifications(start=head, limit=1, inclusive_of_start=False)
    print(f"   stored by the pre-v2 application as {stored.topic}: {stored.state.decode()}")
    placed = next(iter(app.events.get(old.id)))
    print(f"   read by today's application: shipping_address={placed.shipping_address!r} "
          f"sales_channel={placed.sales_channel!r}")
    check(stored.topic.endswith("@v1") and (placed.shipping_address, placed.sales_channel) == (None, "web"),
          "the v1 event reads as v2 with the schema's defaults")
    relay.drain()
    router.run_until_idle(0.3)

    print("6. rebuild the projection from position 0 and swap it in")
    with view.connection() as conn:
        before = order_rows(conn)
    projected = rebuild(app, view)
    with view.connection() as conn:
        after = order_rows(conn)
    print(f"   rebuilt from {projected} events; position {view.max_tracking_id(app.name)}")
    check(projected == 8 and after == before and len(after) == 4, "the rebuilt read model equals the broker-fed one")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", type=Path, help="where the SQLite files go (default: a fresh temporary dir)")
    args = parser.parse_args(argv)
    try:
        if args.db_dir:
            args.db_dir.mkdir(parents=True, exist_ok=True)
            run(args.db_dir)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                run(Path(tmp))
    except DemoFailed as failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
