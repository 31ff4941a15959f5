"""Carts: create, read, add/update/remove lines, and the stored change log that watchers follow.

Every mutation is one short write transaction: the cart row locked and read with
its lines and stock, access and version checks, the change, a version bump with
the new snapshot stored in ``cart_changes`` and the idempotency record, the
writes sent together. The caller publishes the committed change (``cloud.fanout``). Any error rolls
all of it back; a request whose key already holds a result gets that result
instead (see ``cloud.domain.idempotency``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain import idempotency
from cloud.domain.cart_repository import Batch, CartHead, CartRepository, check_access, new_id
from cloud.domain.types import Cart, CartChange, CartLine, CartStatus, ChangeKind, Fulfilment, Principal, PrincipalKind, now_ms
from cloud.domain.validate import require_expected_version, require_id, require_idempotency_key, require_quantity
from cloud.errors import CloudError, FailedPrecondition, NotFound, PermissionDenied, VersionConflict
from cloud.storage import schema

MAX_CHANGES_PER_READ = 500
KIOSK_SESSION_MS = 30 * 60 * 1000  # how long a kiosk keeps a cart after the shopper claimed it on the kiosk
_carts, _changes = schema.carts, schema.cart_changes
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
_SELECT_CLAIMED_AT = sa.select(sa.func.max(_changes.c.created_at_ms)).where(
    _changes.c.cart_id == sa.bindparam("cart_id"), _changes.c.kind == ChangeKind.CLAIMED.value)
Work = Callable[[Connection, Batch], tuple[CartChange, str]]
Apply = Callable[[Connection, Batch, CartHead], tuple[ChangeKind, CartHead]]


@dataclass(frozen=True)
class Mutation:
    """A mutation's result; ``change`` is ``None`` when an idempotent replay changed nothing."""

    cart: Cart
    change: CartChange | None


def stage_audit(writes: Batch, principal: Principal, action: str, target: str) -> None:
    """Staff act on other people's carts: every such change goes to the audit table."""
    if principal.kind is PrincipalKind.STAFF:
        writes.append((_INSERT_AUDIT, {"staff_id": principal.subject_id, "action": action, "target": target, "at_ms": now_ms()}))


def _find_line(head: CartHead, line_id: str) -> CartLine:
    for line in head.lines:
        if line.line_id == line_id:
            return line
    raise NotFound(f"line_id {line_id!r} is not in cart {head.cart_id}", field="line_id")


def claimed_at_ms(conn: Connection, cart_id: str) -> int | None:
    """When a shopper claimed the kiosk cart ``cart_id`` (its CLAIMED change); None when never (or compacted)."""
    claimed = conn.execute(_SELECT_CLAIMED_AT, {"cart_id": cart_id}).scalar()
    return None if claimed is None else int(claimed)


def check_kiosk_session(conn: Connection, principal: Principal, cart_id: str, owner_shopper_id: str | None) -> None:
    """A kiosk keeps a cart a shopper claimed from it for the kiosk session only: :data:`KIOSK_SESSION_MS`
    after the claim, long enough to pay at the kiosk; then the cart is the shopper's alone."""
    if principal.kind is not PrincipalKind.DEVICE or owner_shopper_id is None:
        return
    claimed = claimed_at_ms(conn, cart_id)
    if claimed is None or claimed <= now_ms() - KIOSK_SESSION_MS:
        raise PermissionDenied(f"cart {cart_id} belongs to a shopper whose session on this kiosk has ended; pair the "
                               "phone again to use a cart here", cart_id=cart_id)


def _head_of(cart: Cart) -> CartHead:
    return CartHead(
        cart.cart_id, cart.store_id, cart.owner_shopper_id, cart.created_by_device, cart.status, cart.merged_into, cart.version
    )


class CartService:
    """The cart use cases; every method is blocking (run it on the database worker pool)."""

    def __init__(self, repository: CartRepository) -> None:
        self.repo = repository
        self.database = repository.database

    def create_cart(self, principal: Principal, store_id: str, idempotency_key: str) -> Mutation:
        key = require_idempotency_key(idempotency_key)
        store_id = self._store_for_new_cart(principal, store_id)

        def work(conn: Connection, writes: Batch) -> tuple[CartChange, str]:
            if not self.repo.store_exists(conn, store_id):
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
            stage_audit(writes, principal, "CreateCart", head.cart_id)
            return self.repo.stage_version(writes, head, ChangeKind.CREATED, new=True)

        return self._idempotent(principal, "CreateCart", key, {"store_id": store_id}, work)

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
            rows = self.database.execute(conn, _SELECT_CURRENT_SNAPSHOT, {"cart_id": cart_id})
            if not rows:
                raise NotFound(f"cart {cart_id} does not exist", cart_id=cart_id)
            cart = Cart.from_json(rows[0].snapshot)
            check_access(principal, _head_of(cart))
            check_kiosk_session(conn, principal, cart_id, cart.owner_shopper_id)
        return cart

    def changes_after(self, cart_id: str, after_version: int) -> list[CartChange]:
        """Stored changes with version above ``after_version``, oldest first (access checked by the caller)."""
        with self.database.read() as conn:
            rows = self.database.execute(conn, _SELECT_CHANGES_AFTER, {"cart_id": cart_id, "after": after_version})
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

        def apply(conn: Connection, writes: Batch, head: CartHead) -> tuple[ChangeKind, CartHead]:
            variant = self.repo.variant(conn, sku)
            return ChangeKind.LINE_ADDED, self.repo.add_quantity(conn, writes, head, variant, quantity, pickup_only)

        return self._mutate(principal, "AddLine", cart_id, idempotency_key, expected_version, request, apply, stock_of=sku)

    def update_line(
        self, principal: Principal, cart_id: str, idempotency_key: str, line_id: str, quantity: int, expected_version: int | None = None
    ) -> Mutation:
        """Set a line's quantity; a pickup line that outgrows the shelf turns into ship-to-home."""
        require_id(line_id, "line_id")
        require_quantity(quantity)

        def apply(conn: Connection, writes: Batch, head: CartHead) -> tuple[ChangeKind, CartHead]:
            line = _find_line(head, line_id)
            fulfilment, days = line.fulfilment, (line.delivery_days_min, line.delivery_days_max)
            if fulfilment is Fulfilment.STORE_PICKUP and self.repo.on_hand(conn, head, line.sku) < quantity:
                fulfilment, days = Fulfilment.SHIP_TO_HOME, self.repo.ship_days(conn, head.store_id)
            updated = replace(line, quantity=quantity, fulfilment=fulfilment, delivery_days_min=days[0], delivery_days_max=days[1])
            return ChangeKind.LINE_UPDATED, self.repo.stage_line(writes, head, updated)

        request = {"line_id": line_id, "quantity": quantity}
        return self._mutate(principal, "UpdateLine", cart_id, idempotency_key, expected_version, request, apply)

    def remove_line(
        self, principal: Principal, cart_id: str, idempotency_key: str, line_id: str, expected_version: int | None = None
    ) -> Mutation:
        require_id(line_id, "line_id")

        def apply(conn: Connection, writes: Batch, head: CartHead) -> tuple[ChangeKind, CartHead]:
            _find_line(head, line_id)
            return ChangeKind.LINE_REMOVED, self.repo.stage_removal(writes, head, line_id)

        return self._mutate(principal, "RemoveLine", cart_id, idempotency_key, expected_version, {"line_id": line_id}, apply)

    def check_out(self, principal: Principal, cart_id: str, idempotency_key: str) -> Mutation:
        """Close a paid cart: it takes no more changes and cannot be paid again."""

        def apply(conn: Connection, writes: Batch, head: CartHead) -> tuple[ChangeKind, CartHead]:
            return ChangeKind.CHECKED_OUT, replace(head, status=CartStatus.CHECKED_OUT)

        return self._mutate(principal, "CheckOut", cart_id, idempotency_key, None, {}, apply)

    def _mutate(
        self,
        principal: Principal,
        method: str,
        cart_id: str,
        idempotency_key: str,
        expected_version: int | None,
        request: dict[str, object],
        apply: Apply,
        stock_of: str | None = None,
    ) -> Mutation:
        require_id(cart_id, "cart_id")
        key = require_idempotency_key(idempotency_key)
        require_expected_version(expected_version)

        def work(conn: Connection, writes: Batch) -> tuple[CartChange, str]:
            head = self.repo.lock_cart(conn, cart_id, stock_of=stock_of)
            check_access(principal, head)
            check_kiosk_session(conn, principal, cart_id, head.owner_shopper_id)
            if expected_version is not None and expected_version != head.version:
                raise VersionConflict(
                    f"cart {cart_id} is at version {head.version}; expected_version was {expected_version}",
                    current_version=head.version,
                )
            if head.status is not CartStatus.OPEN:
                raise FailedPrecondition(f"cart {cart_id} is {head.status.value}; only open carts change", cart_id=cart_id)
            kind, head = apply(conn, writes, head)
            stage_audit(writes, principal, method, cart_id)
            return self.repo.stage_version(writes, head, kind)

        request = {**request, "cart_id": cart_id, "expected_version": expected_version}
        return self._idempotent(principal, method, key, request, work)

    def _idempotent(self, principal: Principal, method: str, key: str, request: dict[str, object], work: Work) -> Mutation:
        """Run ``work`` and store its result under the key, all in one write transaction.

        When the key already holds a result, or ``work`` fails, a request that once
        succeeded under this key gets that stored result (and nothing changes).
        """
        digest = idempotency.request_hash(request)
        try:
            with self.database.write() as conn:
                writes: Batch = []
                change, snapshot = work(conn, writes)
                writes.append(idempotency.insert_if_new(conn, principal, method, key, digest, snapshot))
                if not self.database.execute_writes(conn, writes):
                    raise idempotency.KeyAlreadyUsed(f"idempotency_key {key!r} already holds a {method} result", field="idempotency_key")
            return Mutation(change.cart, change)
        except CloudError:
            with self.database.read() as conn:
                replay = idempotency.find_replay(conn, principal, method, key, digest)
            if replay is None:
                raise
            return Mutation(Cart.from_json(replay), None)
