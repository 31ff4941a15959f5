"""Orders created when a payment is captured, taking stock from the store or the endless aisle.

Each purchase line first tries the store's own shelf with one conditional update on
the cloud's ``stock(store_id, sku, on_hand)`` table (never going below zero, safe
against concurrent checkouts); a line the store cannot fill ships to the shopper's
home from the central warehouse (the endless aisle). This runs inside the capture
transaction, so the order, the stock movement and the ledger postings commit together.
"""
from __future__ import annotations

import dataclasses
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from payments.errors import OrderStockError
from payments.intents import PaymentIntent
from payments.money import Money
from payments.storage import order_lines, orders

# The cloud schema owns ``stock``; payments only needs these three columns of it.
_stock = sa.table("stock", sa.column("store_id"), sa.column("sku"), sa.column("on_hand"))


class Fulfilment(str, enum.Enum):
    """Where a line's goods come from; stable values stored in ``order_lines.fulfilment``."""

    STORE_STOCK = "store_stock"
    SHIP_TO_HOME = "ship_to_home"


@dataclasses.dataclass(frozen=True)
class OrderLine:
    sku: str
    description: str
    quantity: int
    unit_price: Money
    fulfilment: Fulfilment

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclasses.dataclass(frozen=True)
class Order:
    order_id: str
    intent_id: str
    store_id: str
    shopper_id: str
    cart_id: str
    total: Money
    lines: tuple[OrderLine, ...]
    created_at_ms: int

    def as_dict(self) -> dict[str, object]:
        return {
            "order_id": self.order_id, "intent_id": self.intent_id, "store_id": self.store_id,
            "shopper_id": self.shopper_id, "cart_id": self.cart_id, "total": self.total.as_dict(),
            "created_at_ms": self.created_at_ms,
            "lines": [{"sku": line.sku, "description": line.description, "quantity": line.quantity,
                       "unit_price": line.unit_price.as_dict(), "fulfilment": line.fulfilment.value}
                      for line in self.lines],
        }


def take_from_store(conn: Connection, store_id: str, sku: str, quantity: int) -> bool:
    """Decrement the store's stock of ``sku`` by ``quantity`` if it has that many; True when it did."""
    result = conn.execute(
        sa.update(_stock)
        .where(_stock.c.store_id == store_id, _stock.c.sku == sku, _stock.c.on_hand >= quantity)
        .values(on_hand=_stock.c.on_hand - quantity)
    )
    return result.rowcount == 1


def create_order_in(conn: Connection, intent: PaymentIntent, now_ms: int) -> Order:
    """Create the order for a captured ``intent`` inside the caller's transaction."""
    if intent.lines and not sa.inspect(conn).has_table("stock"):
        raise OrderStockError(
            "the database has no stock table to take store stock from; migrate the cloud schema first",
            intent_id=intent.intent_id,
        )
    lines = tuple(
        OrderLine(
            sku=line.sku, description=line.description, quantity=line.quantity, unit_price=line.unit_price,
            fulfilment=Fulfilment.STORE_STOCK if take_from_store(conn, intent.store_id, line.sku, line.quantity)
            else Fulfilment.SHIP_TO_HOME,
        )
        for line in intent.lines
    )
    order = Order(
        order_id=f"ord_{uuid.uuid4().hex[:24]}", intent_id=intent.intent_id, store_id=intent.store_id,
        shopper_id=intent.shopper_id, cart_id=intent.cart_id, total=intent.amount, lines=lines, created_at_ms=now_ms,
    )
    conn.execute(orders.insert().values(
        order_id=order.order_id, intent_id=order.intent_id, store_id=order.store_id, shopper_id=order.shopper_id,
        cart_id=order.cart_id, total_minor=order.total.minor, currency=order.total.currency, created_at_ms=now_ms,
    ))
    if lines:
        conn.execute(order_lines.insert(), [
            {"order_id": order.order_id, "line_no": number, "sku": line.sku, "description": line.description,
             "quantity": line.quantity, "unit_minor": line.unit_price.minor, "fulfilment": line.fulfilment.value}
            for number, line in enumerate(lines, start=1)
        ])
    return order


def load_order(conn: Connection, intent_id: str) -> Order | None:
    """The order created for ``intent_id``, or None before capture."""
    row = conn.execute(sa.select(orders).where(orders.c.intent_id == intent_id)).first()
    if row is None:
        return None
    rows = conn.execute(
        sa.select(order_lines).where(order_lines.c.order_id == row.order_id).order_by(order_lines.c.line_no)
    )
    lines = tuple(
        OrderLine(sku=r.sku, description=r.description, quantity=int(r.quantity),
                  unit_price=Money(int(r.unit_minor), row.currency), fulfilment=Fulfilment(r.fulfilment))
        for r in rows
    )
    return Order(
        order_id=row.order_id, intent_id=row.intent_id, store_id=row.store_id, shopper_id=row.shopper_id,
        cart_id=row.cart_id, total=Money(int(row.total_minor), row.currency), lines=lines,
        created_at_ms=int(row.created_at_ms),
    )
