"""The reference event-sourced Order aggregate (demo and tests): every event it raises is a subject of
schemas/order-events, at the newest version."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

from edakit.es.mapping import EventSchemas
from edakit.es.projection import ProjectionConsistencyError, ReadModel, query
from edakit.es.store import SchemaApplication
from edakit.runtime.outbox.tx import Transaction, execute

REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


class OrderStateError(ValueError):
    """A command the order's current state does not allow."""


class Order(Aggregate):
    class Placed(Aggregate.Created):
        customer_id: str
        items: list[dict[str, Any]]
        total_amount: float
        currency: str
        shipping_address: dict[str, str] | None
        sales_channel: str

    @event(Placed)
    def __init__(self, customer_id: str, items: list[dict[str, Any]], total_amount: float, currency: str,
                 shipping_address: dict[str, str] | None, sales_channel: str) -> None:
        self.customer_id = customer_id
        self.items = items
        self.total_amount = total_amount
        self.currency = currency
        self.shipping_address = shipping_address
        self.sales_channel = sales_channel
        self.status = "placed"
        self.payment_id: str | None = None
        self.shipment_id: str | None = None

    class Paid(Aggregate.Event):
        payment_id: str
        amount: float

    @event(Paid)
    def _paid(self, payment_id: str, amount: float) -> None:
        self.status = "paid"
        self.payment_id = payment_id

    def pay(self, payment_id: str) -> None:
        if self.status != "placed":
            raise OrderStateError(f"order {self.id} is {self.status}: only a placed order can be paid")
        self._paid(payment_id, self.total_amount)

    class Shipped(Aggregate.Event):
        shipment_id: str
        carrier: str
        tracking_number: str | None

    @event(Shipped)
    def _shipped(self, shipment_id: str, carrier: str, tracking_number: str | None) -> None:
        self.status = "shipped"
        self.shipment_id = shipment_id

    def ship(self, shipment_id: str, carrier: str, tracking_number: str | None = None) -> None:
        if self.status != "paid":
            raise OrderStateError(f"order {self.id} is {self.status}: only a paid order can be shipped")
        self._shipped(shipment_id, carrier, tracking_number)

    class Cancelled(Aggregate.Event):
        reason: str

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = "cancelled"

    def cancel(self, reason: str) -> None:
        if self.status in ("shipped", "cancelled"):
            raise OrderStateError(f"order {self.id} is {self.status}: it can no longer be cancelled")
        self._cancelled(reason)


def register_order_events(schemas: EventSchemas) -> None:
    schemas.register(Order.Placed, "order-events/order-placed", id_field="order_id")
    schemas.register(Order.Paid, "order-events/order-paid", id_field="order_id")
    schemas.register(Order.Shipped, "order-events/order-shipped", id_field="order_id")
    schemas.register(Order.Cancelled, "order-events/order-cancelled", id_field="order_id")


class Orders(SchemaApplication):
    """Commands (PlaceOrder, PayOrder, ShipOrder, CancelOrder) on Order aggregates."""

    schemas_root: ClassVar[Path] = REPO_SCHEMAS

    @classmethod
    def register_events(cls, schemas: EventSchemas) -> None:
        register_order_events(schemas)

    def place_order(self, customer_id: str, items: list[dict[str, Any]], *, currency: str = "EUR",
                    shipping_address: dict[str, str] | None = None, sales_channel: str = "web") -> Any:
        total = round(sum(i["quantity"] * i["unit_price"] for i in items), 2)
        order = Order(customer_id, items, total, currency, shipping_address, sales_channel)
        self.save(order)
        return order.id

    def pay_order(self, order_id: Any, payment_id: str) -> None:
        order: Order = self.repository.get(order_id)
        order.pay(payment_id)
        self.save(order)

    def ship_order(self, order_id: Any, shipment_id: str, carrier: str, tracking_number: str | None = None) -> None:
        order: Order = self.repository.get(order_id)
        order.ship(shipment_id, carrier, tracking_number)
        self.save(order)

    def cancel_order(self, order_id: Any, reason: str) -> None:
        order: Order = self.repository.get(order_id)
        order.cancel(reason)
        self.save(order)


STATUS_OF = {Order.Paid: "paid", Order.Shipped: "shipped", Order.Cancelled: "cancelled"}


class OrderSummaries(ReadModel):
    """The query side: one row per order with its status. Every event of an order changes its row, so the row's
    version must be the event's minus one: an event applied twice, or one skipped, is a ProjectionConsistencyError
    (the tests' proof that no event is applied twice and none skipped)."""

    name = "order_summaries"
    tables = {"order_summaries": (
        "CREATE TABLE IF NOT EXISTS {table} (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, "
        "status TEXT NOT NULL, total_amount DOUBLE PRECISION NOT NULL, currency TEXT NOT NULL, "
        "sales_channel TEXT NOT NULL, version INTEGER NOT NULL)")}
    events = (Order.Placed, Order.Paid, Order.Shipped, Order.Cancelled)

    def apply(self, tx: Transaction, event: Any) -> None:
        table = self.table("order_summaries")
        order_id, version = str(event.originator_id), event.originator_version
        if isinstance(event, Order.Placed):
            changed = execute(tx, f"INSERT INTO {table} VALUES (:order_id, :customer_id, 'placed', :total, "
                                  ":currency, :channel, 1) ON CONFLICT (order_id) DO NOTHING",
                              {"order_id": order_id, "customer_id": event.customer_id, "total": event.total_amount,
                               "currency": event.currency, "channel": event.sales_channel})
        else:
            changed = execute(tx, f"UPDATE {table} SET status = :status, version = :version "
                                  "WHERE order_id = :order_id AND version = :previous",
                              {"status": STATUS_OF[type(event)], "version": version, "order_id": order_id,
                               "previous": version - 1})
        if changed != 1:
            raise ProjectionConsistencyError(f"{self.name}: {type(event).__qualname__} v{version} of order {order_id} "
                                             "does not follow the read model (applied twice, or one skipped)")


def order_rows(tx: Transaction, status: str | None = None) -> list[dict[str, Any]]:
    """The query the read model serves: orders (optionally of one status), by order id."""
    where = " WHERE status = :status" if status else ""
    return query(tx, f"SELECT * FROM order_summaries{where} ORDER BY order_id", {"status": status} if status else {})
