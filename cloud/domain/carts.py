"""Carts: create, read, add/update/remove lines, and the stored change log that watchers follow.

Every mutation is one short write transaction: cart row lock (with its lines),
access and version checks, the change itself, a version bump with the new snapshot
stored in ``cart_changes`` (a trigger sends ``pg_notify`` on PostgreSQL), and the
idempotency record. Any error rolls all of it back; a request whose key already
holds a result gets that result instead (see ``cloud.domain.idempotency``).

Who sees a cart: staff see all; a shopper the carts it owns; a kiosk device the
carts of its own store that it created.
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain import idempotency
from cloud.domain.types import (
    Cart,
    CartChange,
    CartLine,
    CartStatus,
    ChangeKind,
    Fulfilment,
    Money,
    Principal,
    PrincipalKind,
    now_ms,
)
from cloud.domain.validate import (
    MAX_QUANTITY,
    require_expected_version,
    require_id,
    require_idempotency_key,
    require_quantity,
)
from cloud.errors import CloudError, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, VersionConflict
from cloud.storage import Database, schema

MAX_CHANGES_PER_READ = 500
_carts, _lines, _changes = schema.carts, schema.cart_lines, schema.cart_changes


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


@dataclass(frozen=True)
class VariantInfo:
    """What a cart line copies from the catalog when it is added (prices are fixed at that moment)."""

    sku: str
    product_id: str
    name: str
    size_label: str
    colour: str
    price: Money


@dataclass(frozen=True)
class Mutation:
    """A mutation's result; ``change`` is ``None`` when an idempotent replay changed nothing."""

    cart: Cart
    change: CartChange | None


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


# Statements of the hot path, built once: SQLAlchemy memoises their compiled form and
# cache key on the object, so a mutation pays only for parameter binding and the driver.
_HEAD_COLUMNS = (
    _carts.c.cart_id,
    _carts.c.store_id,
    _carts.c.owner_shopper_id,
    _carts.c.created_by_device,
    _carts.c.status,
    _carts.c.merged_into,
    _carts.c.version,
)
_LINE_COLUMNS = tuple(c for c in _lines.c if c.name != "cart_id")
_SELECT_CART_WITH_LINES = (
    sa.select(*_HEAD_COLUMNS, *_LINE_COLUMNS)
    .join_from(_carts, _lines, _lines.c.cart_id == _carts.c.cart_id, isouter=True)
    .where(_carts.c.cart_id == sa.bindparam("cart_id"))
    .order_by(_lines.c.position)
)
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
_SELECT_ON_HAND = sa.select(schema.stock.c.on_hand).where(
    schema.stock.c.store_id == sa.bindparam("store_id"), schema.stock.c.sku == sa.bindparam("sku")
)
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


def _line_from_row(row: sa.Row) -> CartLine:
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


class CartRepository:
    """Connection-level cart operations shared by the cart, pairing and profile services."""

    def __init__(self, database: Database, currency: str) -> None:
        self.database = database
        self.currency = currency
        self._lock_statement = database.lock_for_update(_SELECT_CART_WITH_LINES, of=_carts)
        self._variants: dict[str, VariantInfo] = {}  # the catalog is immutable while serving
        self._variants_lock = threading.Lock()
        self._ship_days: dict[str, tuple[int, int]] = {}

    def lock_cart(self, conn: Connection, cart_id: str) -> CartHead:
        """The cart and its lines in one query, the cart row locked (PostgreSQL) until commit."""
        rows = conn.execute(self._lock_statement, {"cart_id": cart_id}).all()
        if not rows:
            raise NotFound(f"cart {cart_id} does not exist", cart_id=cart_id)
        first = rows[0]
        lines = tuple(_line_from_row(r) for r in rows if r.line_id is not None)
        return CartHead(
            cart_id=first.cart_id,
            store_id=first.store_id,
            owner_shopper_id=first.owner_shopper_id,
            created_by_device=first.created_by_device,
            status=CartStatus(first.status),
            merged_into=first.merged_into,
            version=first.version,
            lines=lines,
            max_position=max((r.position for r in rows if r.line_id is not None), default=-1),
        )

    def build_cart(self, head: CartHead, updated_at_ms: int) -> Cart:
        subtotal = sum(line.unit_price.minor_units * line.quantity for line in head.lines)
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

    def commit_version(self, conn: Connection, head: CartHead, kind: ChangeKind) -> tuple[CartChange, str]:
        """Store ``head`` (status, owner, merge target) one version up with its snapshot.

        Returns the change and its snapshot JSON. On PostgreSQL a trigger on
        ``cart_changes`` sends the ``pg_notify`` inside this same transaction.
        """
        stamp = now_ms()
        head = replace(head, version=head.version + 1)
        conn.execute(
            _UPDATE_CART,
            {
                "b_cart_id": head.cart_id,
                "version": head.version,
                "status": head.status.value,
                "owner_shopper_id": head.owner_shopper_id,
                "merged_into": head.merged_into,
                "updated_at_ms": stamp,
            },
        )
        cart = self.build_cart(head, stamp)
        snapshot = cart.to_json()
        conn.execute(
            _INSERT_CHANGE, {"cart_id": cart.cart_id, "version": cart.version, "kind": kind.value, "snapshot": snapshot, "created_at_ms": stamp}
        )
        return CartChange(kind, cart), snapshot

    def variant(self, conn: Connection, sku: str) -> VariantInfo:
        with self._variants_lock:
            cached = self._variants.get(sku)
        if cached is not None:
            return cached
        row = conn.execute(_SELECT_VARIANT, {"sku": sku}).first()
        if row is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog", field="sku", sku=sku)
        info = VariantInfo(row.sku, row.product_id, row.name, row.size_label, row.colour_name, Money(row.price_minor, row.currency))
        with self._variants_lock:
            self._variants[sku] = info
        return info

    def on_hand(self, conn: Connection, store_id: str, sku: str) -> int:
        return int(conn.execute(_SELECT_ON_HAND, {"store_id": store_id, "sku": sku}).scalar() or 0)

    def ship_days(self, conn: Connection, store_id: str) -> tuple[int, int]:
        """The store's ship-to-home estimate in days (stores are seeded once; cached)."""
        if store_id not in self._ship_days:
            row = conn.execute(_SELECT_SHIP_DAYS, {"store_id": store_id}).one()
            self._ship_days[store_id] = (row.ship_days_min, row.ship_days_max)
        return self._ship_days[store_id]

    def put_line(self, conn: Connection, head: CartHead, line: CartLine) -> CartHead:
        """Insert ``line`` or, when ``head`` holds its ``line_id``, update its quantity and fulfilment."""
        if any(e.line_id == line.line_id for e in head.lines):
            conn.execute(
                _UPDATE_LINE,
                {
                    "b_line_id": line.line_id,
                    "quantity": line.quantity,
                    "fulfilment": line.fulfilment.value,
                    "delivery_days_min": line.delivery_days_min,
                    "delivery_days_max": line.delivery_days_max,
                },
            )
            return replace(head, lines=tuple(line if e.line_id == line.line_id else e for e in head.lines))
        position = head.max_position + 1
        conn.execute(
            _INSERT_LINE,
            {
                "line_id": line.line_id,
                "cart_id": head.cart_id,
                "position": position,
                "sku": line.sku,
                "product_id": line.product_id,
                "name": line.name,
                "size_label": line.size_label,
                "colour": line.colour,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price.minor_units,
                "currency": line.unit_price.currency,
                "fulfilment": line.fulfilment.value,
                "delivery_days_min": line.delivery_days_min,
                "delivery_days_max": line.delivery_days_max,
            },
        )
        return replace(head, lines=(*head.lines, line), max_position=position)

    def remove_line(self, conn: Connection, head: CartHead, line_id: str) -> CartHead:
        conn.execute(_DELETE_LINE, {"line_id": line_id})
        return replace(head, lines=tuple(e for e in head.lines if e.line_id != line_id))

    def add_quantity(self, conn: Connection, head: CartHead, variant: VariantInfo, quantity: int, pickup_only: bool) -> CartHead:
        """Add ``quantity`` of ``variant`` to the cart: from the shelf when the store holds enough, else shipped."""
        in_cart = {line.fulfilment: line for line in head.lines if line.sku == variant.sku}
        pickup = in_cart.get(Fulfilment.STORE_PICKUP)
        wanted_from_shelf = quantity + (pickup.quantity if pickup else 0)
        on_hand = self.on_hand(conn, head.store_id, variant.sku)
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
        return self.put_line(conn, head, line)


_SELECT_STORE = sa.select(schema.stores.c.store_id).where(schema.stores.c.store_id == sa.bindparam("store_id"))
_INSERT_CART = _carts.insert()
_SELECT_CURRENT_SNAPSHOT = (
    sa.select(_changes.c.snapshot)
    .join_from(_changes, _carts, sa.and_(_changes.c.cart_id == _carts.c.cart_id, _changes.c.version == _carts.c.version))
    .where(_carts.c.cart_id == sa.bindparam("cart_id"))
)
_SELECT_CHANGES_AFTER = (
    sa.select(_changes.c.kind, _changes.c.snapshot)
    .where(_changes.c.cart_id == sa.bindparam("cart_id"), _changes.c.version > sa.bindparam("after"))
    .order_by(_changes.c.version)
    .limit(MAX_CHANGES_PER_READ)
)
_INSERT_AUDIT = schema.staff_audit.insert()
Apply = Callable[[Connection, CartHead], tuple[ChangeKind, CartHead]]


class CartService:
    """The cart use cases; every method is blocking (run it on the database worker pool)."""

    def __init__(self, repository: CartRepository) -> None:
        self.repo = repository
        self.database = repository.database

    def create_cart(self, principal: Principal, store_id: str, idempotency_key: str) -> Mutation:
        key = require_idempotency_key(idempotency_key)
        store_id = self._store_for_new_cart(principal, store_id)

        def work(conn: Connection) -> tuple[CartChange, str]:
            if conn.execute(_SELECT_STORE, {"store_id": store_id}).first() is None:
                raise NotFound(f"store_id {store_id!r} is not a store", field="store_id")
            head = CartHead(
                cart_id=new_id("cart"),
                store_id=store_id,
                owner_shopper_id=principal.subject_id if principal.kind is PrincipalKind.SHOPPER else None,
                created_by_device=principal.subject_id if principal.kind is PrincipalKind.DEVICE else None,
                status=CartStatus.OPEN,
                merged_into=None,
                version=0,
            )
            stamp = now_ms()
            row = {c.name: getattr(head, c.name) for c in _HEAD_COLUMNS}
            conn.execute(_INSERT_CART, {**row, "status": head.status.value, "created_at_ms": stamp, "updated_at_ms": stamp})
            audit_staff(conn, principal, "CreateCart", head.cart_id)
            return self.repo.commit_version(conn, head, ChangeKind.CREATED)

        return self._idempotent(principal, "CreateCart", key, {"store_id": store_id}, work)

    def _idempotent(
        self, principal: Principal, method: str, key: str, request: dict[str, object], work: Callable[[Connection], tuple[CartChange, str]]
    ) -> Mutation:
        """Run ``work`` in one write transaction and store its result under the key.

        When the key already holds a result, or ``work`` fails, a request that once
        succeeded under this key gets that stored result (and nothing changes).
        """
        digest = idempotency.request_hash(request)
        try:
            with self.database.write() as conn:
                change, snapshot = work(conn)
                idempotency.store_once(conn, principal, method, key, digest, snapshot)
            return Mutation(change.cart, change)
        except CloudError:
            with self.database.read() as conn:
                replay = idempotency.find_replay(conn, principal, method, key, digest)
            if replay is None:
                raise
            return Mutation(Cart.from_json(replay), None)

    @staticmethod
    def _store_for_new_cart(principal: Principal, store_id: str) -> str:
        if principal.kind is PrincipalKind.DEVICE:
            if store_id and store_id != principal.store_id:
                raise PermissionDenied(
                    f"store_id {store_id!r}: this kiosk belongs to store {principal.store_id}", field="store_id"
                )
            return principal.store_id or ""
        return require_id(store_id, "store_id")

    def get_cart(self, principal: Principal, cart_id: str) -> Cart:
        require_id(cart_id, "cart_id")
        with self.database.read() as conn:
            snapshot = conn.execute(_SELECT_CURRENT_SNAPSHOT, {"cart_id": cart_id}).scalar()
        if snapshot is None:
            raise NotFound(f"cart {cart_id} does not exist", cart_id=cart_id)
        cart = Cart.from_json(snapshot)
        check_access(principal, _head_of(cart))
        return cart

    def changes_after(self, cart_id: str, after_version: int) -> list[CartChange]:
        """Stored changes with version above ``after_version``, oldest first (access checked by the caller)."""
        with self.database.read() as conn:
            rows = conn.execute(_SELECT_CHANGES_AFTER, {"cart_id": cart_id, "after": after_version}).all()
        return [CartChange(ChangeKind(r.kind), Cart.from_json(r.snapshot)) for r in rows]

    def add_line(
        self,
        principal: Principal,
        cart_id: str,
        idempotency_key: str,
        sku: str,
        quantity: int,
        expected_version: int | None = None,
        pickup_only: bool = False,
    ) -> Mutation:
        require_id(sku, "sku")
        require_quantity(quantity)
        request = {"sku": sku, "quantity": quantity, "pickup_only": pickup_only}

        def apply(conn: Connection, head: CartHead) -> tuple[ChangeKind, CartHead]:
            return ChangeKind.LINE_ADDED, self.repo.add_quantity(conn, head, self.repo.variant(conn, sku), quantity, pickup_only)

        return self._mutate(principal, "AddLine", cart_id, idempotency_key, expected_version, request, apply)

    def update_line(
        self, principal: Principal, cart_id: str, idempotency_key: str, line_id: str, quantity: int, expected_version: int | None = None
    ) -> Mutation:
        require_id(line_id, "line_id")
        require_quantity(quantity)

        def apply(conn: Connection, head: CartHead) -> tuple[ChangeKind, CartHead]:
            line = _find_line(head, line_id)
            fulfilment, days = line.fulfilment, (line.delivery_days_min, line.delivery_days_max)
            if fulfilment is Fulfilment.STORE_PICKUP and self.repo.on_hand(conn, head.store_id, line.sku) < quantity:
                fulfilment, days = Fulfilment.SHIP_TO_HOME, self.repo.ship_days(conn, head.store_id)
            updated = replace(line, quantity=quantity, fulfilment=fulfilment, delivery_days_min=days[0], delivery_days_max=days[1])
            return ChangeKind.LINE_UPDATED, self.repo.put_line(conn, head, updated)

        request = {"line_id": line_id, "quantity": quantity}
        return self._mutate(principal, "UpdateLine", cart_id, idempotency_key, expected_version, request, apply)

    def remove_line(
        self, principal: Principal, cart_id: str, idempotency_key: str, line_id: str, expected_version: int | None = None
    ) -> Mutation:
        require_id(line_id, "line_id")

        def apply(conn: Connection, head: CartHead) -> tuple[ChangeKind, CartHead]:
            _find_line(head, line_id)
            return ChangeKind.LINE_REMOVED, self.repo.remove_line(conn, head, line_id)

        return self._mutate(principal, "RemoveLine", cart_id, idempotency_key, expected_version, {"line_id": line_id}, apply)

    def _mutate(
        self,
        principal: Principal,
        method: str,
        cart_id: str,
        idempotency_key: str,
        expected_version: int | None,
        request: dict[str, object],
        apply: Apply,
    ) -> Mutation:
        require_id(cart_id, "cart_id")
        key = require_idempotency_key(idempotency_key)
        require_expected_version(expected_version)

        def work(conn: Connection) -> tuple[CartChange, str]:
            head = self.repo.lock_cart(conn, cart_id)
            check_access(principal, head)
            if expected_version is not None and expected_version != head.version:
                raise VersionConflict(
                    f"cart {cart_id} is at version {head.version}; expected_version was {expected_version}",
                    current_version=head.version,
                )
            if head.status is not CartStatus.OPEN:
                raise FailedPrecondition(f"cart {cart_id} is {head.status.value}; only open carts change", cart_id=cart_id)
            kind, head = apply(conn, head)
            audit_staff(conn, principal, method, cart_id)
            return self.repo.commit_version(conn, head, kind)

        request = {**request, "cart_id": cart_id, "expected_version": expected_version}
        return self._idempotent(principal, method, key, request, work)


def audit_staff(conn: Connection, principal: Principal, action: str, target: str) -> None:
    """Staff act on other people's carts: every such change is written to the audit table."""
    if principal.kind is PrincipalKind.STAFF:
        conn.execute(_INSERT_AUDIT, {"staff_id": principal.subject_id, "action": action, "target": target, "at_ms": now_ms()})


def _find_line(head: CartHead, line_id: str) -> CartLine:
    for line in head.lines:
        if line.line_id == line_id:
            return line
    raise NotFound(f"line_id {line_id!r} is not in cart {head.cart_id}", field="line_id")


def _head_of(cart: Cart) -> CartHead:
    return CartHead(
        cart.cart_id, cart.store_id, cart.owner_shopper_id, cart.created_by_device, cart.status, cart.merged_into, cart.version
    )
