"""The reference event-sourced Order aggregate (demo and tests): every event it raises is a subject of
schemas/order-events, at the newest version."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.domain import Aggregate, event

from edakit.es.mapping import EventSchemas
from edakit.es.store import SchemaApplication

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
