"""Connection-level cart storage shared by the cart, pairing and profile services.

A mutation reads once and writes once: ``lock_cart`` locks the cart row and
fetches it with its lines and their store stock in one query; the changes are
then *staged* into a ``Batch`` and the caller runs the batch at the end of the
transaction, so on PostgreSQL all the writes share one round trip (one statement
of data-modifying ``WITH`` parts, see ``Database.execute_writes``). The statements
are built once at import.

Who sees a cart (``check_access``): staff see all; a shopper the carts it owns; a
kiosk device the carts of its own store that it created.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.types import Cart, CartChange, CartLine, CartStatus, ChangeKind, Fulfilment, Principal, PrincipalKind, now_ms
from cloud.domain.validate import MAX_QUANTITY
from cloud.errors import CloudError, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from cloud.storage import Database, schema
from omnifit.errors import ErrorCode
from payments.money import Money

Batch = list[tuple[sa.Executable, dict[str, object]]]  # statements to run together before commit
_carts, _lines, _changes, _stock = schema.carts, schema.cart_lines, schema.cart_changes, schema.stock


@dataclass(frozen=True)
class CartHead:
    """The cart row (locked for the rest of the transaction) with its lines in order."""

    cart_id: str
    store_id: str
    owner_shopper_id: str | None
    created_by_device: str | None
    status: CartStatus
    merged_into: str | None
    version: int
    lines: tuple[CartLine, ...] = ()
    max_position: int = -1  # of the lines stored; a new line goes after it
    on_hand: Mapping[str, int] = field(default_factory=dict, compare=False)  # store stock of the SKUs read with it


@dataclass(frozen=True)
class VariantInfo:
    """What a cart line copies from the catalog when it is added (prices are fixed at that moment)."""

    sku: str
    product_id: str
    name: str
    size_label: str
    colour: str
    price: Money


class CartBusy(CloudError):
    """Other writers kept committing to the cart while this one waited for it."""

    code = ErrorCode.CONFLICT


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def check_access(principal: Principal, head: CartHead) -> None:
    """Refuse a caller that may not see this cart."""
    if principal.kind is PrincipalKind.STAFF:
        return
    if principal.kind is PrincipalKind.SHOPPER and head.owner_shopper_id == principal.subject_id:
        return
    if (
        principal.kind is PrincipalKind.DEVICE
        and head.store_id == principal.store_id
        and head.created_by_device == principal.subject_id
    ):
        return
    raise PermissionDenied(f"cart {head.cart_id} belongs to another store or shopper", cart_id=head.cart_id)


HEAD_COLUMNS = (
    _carts.c.cart_id,
    _carts.c.store_id,
    _carts.c.owner_shopper_id,
    _carts.c.created_by_device,
    _carts.c.status,
    _carts.c.merged_into,
    _carts.c.version,
)
_requested = _stock.alias("requested")
_REQUESTED_ON_HAND = (
    sa.select(_requested.c.on_hand)
    .where(_requested.c.store_id == _carts.c.store_id, _requested.c.sku == sa.bindparam("stock_of", type_=sa.String))
    .correlate(_carts)
    .scalar_subquery()
    .label("requested_on_hand")
)
# Under READ COMMITTED, a joined SELECT ... FOR UPDATE that waited for the cart's lock
# rechecks its conditions against the cart's new row but keeps the other tables' rows
# from its older snapshot: stale lines. Joining the change row *of the cart's version*
# makes that recheck fail whenever another writer committed meanwhile (every change
# bumps the version), so the query returns nothing and ``lock_cart`` reads again,
# already holding the lock, with a fresh snapshot.
_SELECT_CART_WITH_LINES = (
    sa.select(*HEAD_COLUMNS, *(c for c in _lines.c if c.name != "cart_id"), _stock.c.on_hand, _REQUESTED_ON_HAND)
    .join_from(_carts, _changes, sa.and_(_changes.c.cart_id == _carts.c.cart_id, _changes.c.version == _carts.c.version))
    .join(_lines, _lines.c.cart_id == _carts.c.cart_id, isouter=True)
    .join(_stock, sa.and_(_stock.c.store_id == _carts.c.store_id, _stock.c.sku == _lines.c.sku), isouter=True)
    .where(_carts.c.cart_id == sa.bindparam("cart_id"))
    .order_by(_lines.c.position)
)
_CART_EXISTS = sa.select(_carts.c.cart_id).where(_carts.c.cart_id == sa.bindparam("cart_id"))
MAX_LOCK_READS = 4
_SELECT_ON_HAND = sa.select(_stock.c.on_hand).where(_stock.c.store_id == sa.bindparam("store_id"), _stock.c.sku == sa.bindparam("sku"))
_UPDATE_CART = (
    _carts.update()
    .where(_carts.c.cart_id == sa.bindparam("b_cart_id"))
    .values(
        version=sa.bindparam("version"),
        status=sa.bindparam("status"),
        owner_shopper_id=sa.bindparam("owner_shopper_id"),
        merged_into=sa.bindparam("merged_into"),
        updated_at_ms=sa.bindparam("updated_at_ms"),
    )
)
INSERT_CART = _carts.insert()
_INSERT_CHANGE = _changes.insert()
_INSERT_LINE = _lines.insert()
_UPDATE_LINE = (
    _lines.update()
    .where(_lines.c.line_id == sa.bindparam("b_line_id"))
    .values(
        quantity=sa.bindparam("quantity"),
        fulfilment=sa.bindparam("fulfilment"),
        delivery_days_min=sa.bindparam("delivery_days_min"),
        delivery_days_max=sa.bindparam("delivery_days_max"),
    )
)
_DELETE_LINE = _lines.delete().where(_lines.c.line_id == sa.bindparam("line_id"))
_SELECT_SHIP_DAYS = sa.select(schema.stores.c.ship_days_min, schema.stores.c.ship_days_max).where(
    schema.stores.c.store_id == sa.bindparam("store_id")
)
_SELECT_VARIANT = (
    sa.select(
        schema.variants.c.sku,
        schema.variants.c.product_id,
        schema.products.c.name,
        schema.variants.c.size_label,
        schema.variants.c.colour_name,
        schema.products.c.price_minor,
        schema.products.c.currency,
    )
    .join_from(schema.variants, schema.products, schema.variants.c.product_id == schema.products.c.product_id)
    .where(schema.variants.c.sku == sa.bindparam("sku"))
)


def _line_from_row(row: sa.Row[Any]) -> CartLine:
    return CartLine(
        line_id=row.line_id,
        sku=row.sku,
        product_id=row.product_id,
        name=row.name,
        size_label=row.size_label,
        colour=row.colour,
        quantity=row.quantity,
        unit_price=Money(row.unit_price_minor, row.currency),
        fulfilment=Fulfilment(row.fulfilment),
        delivery_days_min=row.delivery_days_min,
        delivery_days_max=row.delivery_days_max,
    )


def _line_params(line: CartLine) -> dict[str, object]:
    return {
        "line_id": line.line_id,
        "sku": line.sku,
        "product_id": line.product_id,
        "name": line.name,
        "size_label": line.size_label,
        "colour": line.colour,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price.minor,
        "currency": line.unit_price.currency,
        "fulfilment": line.fulfilment.value,
        "delivery_days_min": line.delivery_days_min,
        "delivery_days_max": line.delivery_days_max,
    }


class CartRepository:
    """Reads carts under lock and stages their changes; catalog facts it needs are cached."""

    def __init__(self, database: Database, currency: str) -> None:
        self.database = database
        self.currency = currency
        self._lock_statement = database.lock_for_update(_SELECT_CART_WITH_LINES, of=_carts)
        self._lock_nowait = database.lock_for_update(_SELECT_CART_WITH_LINES, of=_carts, nowait=True)
        self._cache_lock = threading.Lock()
        self._variants: dict[str, VariantInfo] = {}  # the catalog and stores do not change while serving
        self._ship_days: dict[str, tuple[int, int]] = {}

    def lock_cart(self, conn: Connection, cart_id: str, stock_of: str | None = None) -> CartHead:
        """The cart, its lines and their store stock (plus ``stock_of``'s), the row locked (PostgreSQL).

        One query, read again only when another writer committed while this one
        waited for the lock (see ``_SELECT_CART_WITH_LINES``). SQLite's write
        transaction already excludes other writers. Inside a group-committed batch
        the lock does not wait (``NOWAIT``; the write is then run again on its own).
        """
        rows = self._read_locked(conn, cart_id, stock_of)
        first, stored = rows[0], [r for r in rows if r.line_id is not None]
        on_hand = {r.sku: r.on_hand or 0 for r in stored}
        if stock_of is not None:
            on_hand[stock_of] = first.requested_on_hand or 0
        return CartHead(
            cart_id=first.cart_id,
            store_id=first.store_id,
            owner_shopper_id=first.owner_shopper_id,
            created_by_device=first.created_by_device,
            status=CartStatus(first.status),
            merged_into=first.merged_into,
            version=first.version,
            lines=tuple(_line_from_row(r) for r in stored),
            max_position=max((r.position for r in stored), default=-1),
            on_hand=on_hand,
        )

    def _read_locked(self, conn: Connection, cart_id: str, stock_of: str | None) -> list[sa.Row[Any]]:
        statement = self._lock_nowait if self.database.in_batch else self._lock_statement
        for _ in range(MAX_LOCK_READS):
            rows = self.database.execute(conn, statement, {"cart_id": cart_id, "stock_of": stock_of})
            if rows:
                return rows
            if not self.database.execute(conn, _CART_EXISTS, {"cart_id": cart_id}):
                raise NotFound(f"cart {cart_id} does not exist", cart_id=cart_id)
        raise CartBusy(f"cart {cart_id} kept changing while this request waited for it; retry", cart_id=cart_id)

    def build_cart(self, head: CartHead, updated_at_ms: int) -> Cart:
        subtotal = sum(line.unit_price.minor * line.quantity for line in head.lines)
        return Cart(
            cart_id=head.cart_id,
            version=head.version,
            store_id=head.store_id,
            owner_shopper_id=head.owner_shopper_id,
            created_by_device=head.created_by_device,
            status=head.status,
            merged_into=head.merged_into,
            lines=head.lines,
            subtotal=Money(subtotal, self.currency),
            updated_at_ms=updated_at_ms,
        )

    def stage_version(self, writes: Batch, head: CartHead, kind: ChangeKind, new: bool = False) -> tuple[CartChange, str]:
        """Stage ``head`` (status, owner, merge target, lines) one version up with its snapshot.

        ``new`` inserts the cart row instead of updating it. Returns the change and its
        snapshot JSON; the caller publishes the change once it is committed.
        """
        stamp = now_ms()
        head = replace(head, version=head.version + 1)
        cart_row = {
            "version": head.version,
            "status": head.status.value,
            "owner_shopper_id": head.owner_shopper_id,
            "merged_into": head.merged_into,
            "updated_at_ms": stamp,
        }
        if new:
            row = {c.name: getattr(head, c.name) for c in HEAD_COLUMNS}
            writes.append((INSERT_CART, {**row, **cart_row, "created_at_ms": stamp}))
        else:
            writes.append((_UPDATE_CART, {**cart_row, "b_cart_id": head.cart_id}))
        cart = self.build_cart(head, stamp)
        snapshot = cart.to_json()
        change_row = {"cart_id": cart.cart_id, "version": cart.version, "kind": kind.value, "snapshot": snapshot, "created_at_ms": stamp}
        writes.append((_INSERT_CHANGE, change_row))
        return CartChange(kind, cart), snapshot

    @staticmethod
    def stage_line(writes: Batch, head: CartHead, line: CartLine) -> CartHead:
        """Stage inserting ``line`` or, when ``head`` holds its ``line_id``, updating its quantity and fulfilment."""
        params = _line_params(line)
        if any(e.line_id == line.line_id for e in head.lines):
            changed = {key: params[key] for key in ("quantity", "fulfilment", "delivery_days_min", "delivery_days_max")}
            writes.append((_UPDATE_LINE, {**changed, "b_line_id": line.line_id}))
            return replace(head, lines=tuple(line if e.line_id == line.line_id else e for e in head.lines))
        position = head.max_position + 1
        writes.append((_INSERT_LINE, {**params, "cart_id": head.cart_id, "position": position}))
        return replace(head, lines=(*head.lines, line), max_position=position)

    @staticmethod
    def stage_removal(writes: Batch, head: CartHead, line_id: str) -> CartHead:
        writes.append((_DELETE_LINE, {"line_id": line_id}))
        return replace(head, lines=tuple(e for e in head.lines if e.line_id != line_id))

    def variant(self, conn: Connection, sku: str) -> VariantInfo:
        with self._cache_lock:
            cached = self._variants.get(sku)
        if cached is not None:
            return cached
        row = conn.execute(_SELECT_VARIANT, {"sku": sku}).first()
        if row is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog", field="sku", sku=sku)
        info = VariantInfo(row.sku, row.product_id, row.name, row.size_label, row.colour_name, Money(row.price_minor, row.currency))
        with self._cache_lock:
            self._variants[sku] = info
        return info

    def store_exists(self, conn: Connection, store_id: str) -> bool:
        with self._cache_lock:
            if store_id in self._ship_days:
                return True
        row = conn.execute(_SELECT_SHIP_DAYS, {"store_id": store_id}).first()
        if row is None:
            return False
        with self._cache_lock:
            self._ship_days[store_id] = (row.ship_days_min, row.ship_days_max)
        return True

    def ship_days(self, conn: Connection, store_id: str) -> tuple[int, int]:
        """The store's ship-to-home estimate in days."""
        if not self.store_exists(conn, store_id):
            raise NotFound(f"store_id {store_id!r} is not a store", field="store_id")
        return self._ship_days[store_id]

    def on_hand(self, conn: Connection, head: CartHead, sku: str) -> int:
        """The cart's store's stock of ``sku``: as read with the cart when it was, else read now."""
        if sku in head.on_hand:
            return head.on_hand[sku]
        return int(conn.execute(_SELECT_ON_HAND, {"store_id": head.store_id, "sku": sku}).scalar() or 0)

    def add_quantity(
        self, conn: Connection, writes: Batch, head: CartHead, variant: VariantInfo, quantity: int, pickup_only: bool
    ) -> CartHead:
        """Add ``quantity`` of ``variant``: from the shelf when the store holds enough, else shipped (endless aisle)."""
        in_cart = {line.fulfilment: line for line in head.lines if line.sku == variant.sku}
        pickup = in_cart.get(Fulfilment.STORE_PICKUP)
        wanted_from_shelf = quantity + (pickup.quantity if pickup else 0)
        on_hand = self.on_hand(conn, head, variant.sku)
        if on_hand >= wanted_from_shelf:
            fulfilment, days = Fulfilment.STORE_PICKUP, (0, 0)
        elif pickup_only:
            raise FailedPrecondition(
                f"store {head.store_id} holds {on_hand} of SKU {variant.sku}; {wanted_from_shelf} wanted for pickup",
                field="pickup_only",
                on_hand=on_hand,
            )
        else:
            fulfilment, days = Fulfilment.SHIP_TO_HOME, self.ship_days(conn, head.store_id)
        current = in_cart.get(fulfilment)
        total = quantity + (current.quantity if current else 0)
        if total > MAX_QUANTITY:
            raise InvalidArgument(
                f"quantity: the line for SKU {variant.sku} would hold {total}; at most {MAX_QUANTITY}", field="quantity"
            )
        line = CartLine(
            line_id=current.line_id if current else new_id("ln"),
            sku=variant.sku,
            product_id=variant.product_id,
            name=variant.name,
            size_label=variant.size_label,
            colour=variant.colour,
            quantity=total,
            unit_price=current.unit_price if current else variant.price,
            fulfilment=fulfilment,
            delivery_days_min=days[0],
            delivery_days_max=days[1],
        )
        return self.stage_line(writes, head, line)
