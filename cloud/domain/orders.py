"""A shopper's own orders, newest first, a page at a time (the mobile app's order history).

Who: shoppers only, for themselves; a kiosk or a staff token is refused (kiosks see a
cart's receipt through the payment it took, staff through the admin tools). On whose
data: the caller's ``shopper_id`` is the only filter, taken from the token, never from
the request. How often: a read of at most ``MAX_PAGE_SIZE`` orders per call; a page
token names the last order seen and is bound to the caller, so it cannot page through
another shopper's orders.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.types import Principal, PrincipalKind
from cloud.errors import InvalidArgument, PermissionDenied
from cloud.storage import schema
from cloud.storage.database import Database
from payments.money import Money
from payments.orders import Fulfilment, Order, OrderLine
from payments.storage import order_lines, orders

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class OrderSummary:
    order: Order
    store_name: str


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[OrderSummary, ...]
    next_page_token: str
    total_size: int


def _owner_digest(principal: Principal) -> str:
    return hashlib.sha256(principal.key.encode("utf-8")).hexdigest()[:16]


def _encode_token(created_at_ms: int, order_id: str, principal: Principal) -> str:
    raw = json.dumps({"t": created_at_ms, "o": order_id, "f": _owner_digest(principal)})
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def _decode_token(token: str, principal: Principal) -> tuple[int, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        created, order_id, owner = int(raw["t"]), str(raw["o"]), raw["f"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidArgument("page_token is not a token this service issued", field="page.page_token") from exc
    if owner != _owner_digest(principal):
        raise InvalidArgument("page_token was issued to another caller; start again without it", field="page.page_token")
    return created, order_id


def check_page_size(page_size: int) -> int:
    if page_size < 0 or page_size > MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be 0..{MAX_PAGE_SIZE} (0: {DEFAULT_PAGE_SIZE}); got {page_size}",
                              field="page.page_size")
    return page_size or DEFAULT_PAGE_SIZE


class OrderHistory:
    """Read-only access to orders for the shoppers who placed them."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def list_orders(self, principal: Principal, page_size: int = 0, page_token: str = "") -> OrderPage:
        if principal.kind is not PrincipalKind.SHOPPER:
            raise PermissionDenied(f"{principal.kind.value} tokens cannot list orders; shoppers list their own",
                                   kind=principal.kind.value)
        size = check_page_size(page_size)
        mine = orders.c.shopper_id == principal.subject_id
        query = sa.select(orders, schema.stores.c.name.label("store_name")).select_from(
            orders.outerjoin(schema.stores, schema.stores.c.store_id == orders.c.store_id)
        ).where(mine)
        if page_token:
            created, order_id = _decode_token(page_token, principal)
            query = query.where(sa.or_(orders.c.created_at_ms < created,
                                       sa.and_(orders.c.created_at_ms == created, orders.c.order_id < order_id)))
        query = query.order_by(orders.c.created_at_ms.desc(), orders.c.order_id.desc()).limit(size + 1)
        with self.database.read() as conn:
            total = int(conn.execute(sa.select(sa.func.count()).select_from(orders).where(mine)).scalar_one())
            rows = conn.execute(query).all()
            lines = _lines_of(conn, [row.order_id for row in rows[:size]])
            page = [OrderSummary(_order(row, lines.get(row.order_id, [])), row.store_name or row.store_id)
                    for row in rows[:size]]
        last = rows[size - 1] if len(rows) > size else None
        token = _encode_token(int(last.created_at_ms), last.order_id, principal) if last is not None else ""
        return OrderPage(orders=tuple(page), next_page_token=token, total_size=total)


def _lines_of(conn: Connection, order_ids: list[str]) -> dict[str, list[sa.Row]]:  # type: ignore[type-arg]
    """The lines of each order in ``order_ids``, in their order (one query for the whole page)."""
    found: dict[str, list[sa.Row]] = {}  # type: ignore[type-arg]
    if order_ids:
        query = sa.select(order_lines).where(order_lines.c.order_id.in_(order_ids)).order_by(
            order_lines.c.order_id, order_lines.c.line_no)
        for line in conn.execute(query):
            found.setdefault(line.order_id, []).append(line)
    return found


def _order(row: sa.Row, lines: list[sa.Row]) -> Order:  # type: ignore[type-arg]
    return Order(
        order_id=row.order_id, intent_id=row.intent_id, store_id=row.store_id, shopper_id=row.shopper_id,
        cart_id=row.cart_id, total=Money(int(row.total_minor), row.currency), created_at_ms=int(row.created_at_ms),
        lines=tuple(OrderLine(sku=line.sku, description=line.description, quantity=int(line.quantity),
                              unit_price=Money(int(line.unit_minor), row.currency),
                              fulfilment=Fulfilment(line.fulfilment)) for line in lines),
    )
