"""A store's stock for its staff: SKUs below their safety stock, and replenishment requests.

Each store keeps a safety stock per SKU (``safety_stock``, seeded from the catalog's
``stock.json``). When an order (``note_sold``, after a capture took store stock) or a stock
count leaves a SKU below it, a replenishment request is recorded, once per SKU until it is
received or cancelled: the unique ``open_key`` ("store|sku" while open) makes a second open
request for the SKU impossible, whichever replica or transaction tries. Staff list the store's
low stock and its requests, raise one by hand, mark one received (the stock goes up by its
quantity) or cancel it.

Who may call what: staff only (a shopper or a kiosk's device token is refused), and only for a
store they work in (``staff_stores``); a request of another store is "not found" to them.
Every change carries an idempotency key, scoped to the staff member: the same key and request
give the first answer back; a new key with the same request acts again (and is refused where
that makes no sense: receiving a request twice).
"""
from __future__ import annotations

import enum
import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from cloud.domain.idempotency import find_replay, remember, request_hash
from cloud.domain.types import Principal, PrincipalKind, now_ms
from cloud.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from cloud.storage import Database, schema

_stock, _safety, _requests = schema.stock, schema.safety_stock, schema.replenishments
MAX_LISTED = 200
MAX_QUANTITY = 10_000
SYSTEM = "system"


class Status(str, enum.Enum):
    OPEN = "open"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Reason(str, enum.Enum):
    ORDER = "order"
    COUNT = "count"
    STAFF = "staff"


@dataclass(frozen=True)
class Replenishment:
    request_id: str
    store_id: str
    sku: str
    quantity: int
    status: Status
    reason: Reason
    raised_by: str
    created_at_ms: int
    closed_at_ms: int = 0
    closed_by: str = ""


@dataclass(frozen=True)
class LowStock:
    sku: str
    product_name: str
    size_label: str
    colour: str
    on_hand: int
    safety_stock: int
    open_request_id: str


@dataclass(frozen=True)
class CountResult:
    sku: str
    on_hand: int
    safety_stock: int
    raised: Replenishment | None


def _open_key(store_id: str, sku: str) -> str:
    return f"{store_id}|{sku}"


def _request(row: sa.Row[Any]) -> Replenishment:
    return Replenishment(row.request_id, row.store_id, row.sku, int(row.quantity), Status(row.status), Reason(row.reason),
                         row.raised_by, int(row.created_at_ms), int(row.closed_at_ms or 0), row.closed_by or "")


def _to_json(value: Replenishment | CountResult) -> str:
    return json.dumps(asdict(value))


def _request_from_json(data: dict[str, Any]) -> Replenishment:
    return Replenishment(**{**data, "status": Status(data["status"]), "reason": Reason(data["reason"])})


def _count_from_json(text: str) -> CountResult:
    data = json.loads(text)
    raised = data.pop("raised")
    return CountResult(**data, raised=_request_from_json(raised) if raised else None)


def open_if_low(conn: Connection, store_id: str, sku: str, reason: Reason, raised_by: str = SYSTEM) -> Replenishment | None:
    """Record a replenishment request if ``sku`` is below its safety stock in ``store_id`` and none is open."""
    row = conn.execute(
        sa.select(_stock.c.on_hand, _safety.c.minimum, _safety.c.reorder_quantity)
        .select_from(_safety.outerjoin(_stock, sa.and_(_stock.c.store_id == _safety.c.store_id, _stock.c.sku == _safety.c.sku)))
        .where(_safety.c.store_id == store_id, _safety.c.sku == sku)
    ).first()
    if row is None or (row.on_hand or 0) >= row.minimum:
        return None
    return _insert_open(conn, store_id, sku, int(row.reorder_quantity), reason, raised_by)


def _insert_open(conn: Connection, store_id: str, sku: str, quantity: int, reason: Reason,
                 raised_by: str) -> Replenishment | None:
    """Insert an open request unless one is open for the SKU (then None); safe against a concurrent insert."""
    request = Replenishment(f"rp_{uuid.uuid4().hex[:20]}", store_id, sku, quantity, Status.OPEN, reason, raised_by, now_ms())
    values = {**asdict(request), "status": request.status.value, "reason": request.reason.value,
              "open_key": _open_key(store_id, sku), "closed_at_ms": None, "closed_by": None}
    insert = postgresql.insert(_requests) if conn.dialect.name == "postgresql" else sqlite.insert(_requests)
    inserted = conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["open_key"])
                            .returning(_requests.c.request_id)).first()
    return request if inserted is not None else None


def require_staff_of(database: Database, principal: Principal, store_id: str) -> None:
    """PermissionDenied unless ``principal`` is staff working in ``store_id`` (``staff_stores``)."""
    with database.read() as conn:
        StockService._require_staff_of(conn, principal, store_id)


class StockService:
    """Staff's stock use cases over the database; every method checks the caller first."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # --- who may ------------------------------------------------------------------------------
    @staticmethod
    def _require_staff(principal: Principal) -> None:
        if principal.kind is not PrincipalKind.STAFF:
            raise PermissionDenied(f"stock and replenishment are for store staff; the caller is a {principal.kind.value}")

    @classmethod
    def _require_staff_of(cls, conn: Connection, principal: Principal, store_id: str) -> None:
        cls._require_staff(principal)
        if not store_id:
            raise InvalidArgument("store_id is required", field="store_id")
        works_there = conn.execute(sa.select(schema.staff_stores.c.store_id).where(
            schema.staff_stores.c.staff_id == principal.subject_id, schema.staff_stores.c.store_id == store_id)).first()
        if works_there is None:
            raise PermissionDenied(f"staff {principal.subject_id} does not work in store {store_id}", field="store_id")

    @staticmethod
    def _check_sku(conn: Connection, store_id: str, sku: str) -> None:
        if not sku:
            raise InvalidArgument("sku is required", field="sku")
        if conn.execute(sa.select(schema.variants.c.sku).where(schema.variants.c.sku == sku)).first() is None:
            raise NotFound(f"no SKU {sku!r} in the catalog", field="sku")

    # --- reads --------------------------------------------------------------------------------
    def list_low_stock(self, principal: Principal, store_id: str) -> list[LowStock]:
        """The store's SKUs below their safety stock, emptiest first, with any open request."""
        variants, products = schema.variants, schema.products
        with self.database.read() as conn:
            self._require_staff_of(conn, principal, store_id)
            on_hand = sa.func.coalesce(_stock.c.on_hand, 0)
            rows = conn.execute(
                sa.select(_safety.c.sku, _safety.c.minimum, on_hand.label("on_hand"), products.c.name,
                          variants.c.size_label, variants.c.colour_name, _requests.c.request_id)
                .select_from(
                    _safety.outerjoin(_stock, sa.and_(_stock.c.store_id == _safety.c.store_id, _stock.c.sku == _safety.c.sku))
                    .join(variants, variants.c.sku == _safety.c.sku)
                    .join(products, products.c.product_id == variants.c.product_id)
                    .outerjoin(_requests, _requests.c.open_key == _safety.c.store_id + sa.literal("|") + _safety.c.sku))
                .where(_safety.c.store_id == store_id, on_hand < _safety.c.minimum)
                .order_by(on_hand, _safety.c.sku)
                .limit(MAX_LISTED)
            ).all()
        return [LowStock(r.sku, r.name, r.size_label, r.colour_name, int(r.on_hand), int(r.minimum), r.request_id or "")
                for r in rows]

    def list_requests(self, principal: Principal, store_id: str, open_only: bool = False) -> list[Replenishment]:
        with self.database.read() as conn:
            self._require_staff_of(conn, principal, store_id)
            query = sa.select(_requests).where(_requests.c.store_id == store_id)
            if open_only:
                query = query.where(_requests.c.status == Status.OPEN.value)
            rows = conn.execute(query.order_by(_requests.c.created_at_ms.desc(), _requests.c.request_id.desc())
                                .limit(MAX_LISTED)).all()
        return [_request(r) for r in rows]

    # --- changes ------------------------------------------------------------------------------
    def raise_request(self, principal: Principal, store_id: str, sku: str, quantity: int, key: str) -> Replenishment:
        """Raise a request by hand (``quantity`` 0: the SKU's reorder quantity); refused while one is open."""
        if not 0 <= quantity <= MAX_QUANTITY:
            raise InvalidArgument(f"quantity must be 0..{MAX_QUANTITY}; got {quantity}", field="quantity")
        digest = request_hash({"store_id": store_id, "sku": sku, "quantity": quantity})
        with self.database.write() as conn:
            self._require_staff_of(conn, principal, store_id)
            replay = find_replay(conn, principal, "RaiseReplenishment", key, digest)
            if replay is not None:
                return _request_from_json(json.loads(replay))
            self._check_sku(conn, store_id, sku)
            if not quantity:
                reorder = conn.execute(sa.select(_safety.c.reorder_quantity).where(
                    _safety.c.store_id == store_id, _safety.c.sku == sku)).scalar()
                quantity = int(reorder or 1)
            raised = _insert_open(conn, store_id, sku, quantity, Reason.STAFF, principal.subject_id)
            if raised is None:
                raise FailedPrecondition(f"a replenishment request for {sku} is already open in {store_id}", field="sku")
            remember(conn, principal, "RaiseReplenishment", key, digest, _to_json(raised))
        return raised

    def receive(self, principal: Principal, request_id: str, key: str) -> Replenishment:
        """The delivery arrived: the request is received and the store's stock goes up by its quantity."""
        return self._close(principal, request_id, key, Status.RECEIVED)

    def cancel(self, principal: Principal, request_id: str, key: str) -> Replenishment:
        return self._close(principal, request_id, key, Status.CANCELLED)

    def _close(self, principal: Principal, request_id: str, key: str, status: Status) -> Replenishment:
        method = "ReceiveReplenishment" if status is Status.RECEIVED else "CancelReplenishment"
        digest = request_hash({"request_id": request_id})
        self._require_staff(principal)
        with self.database.write() as conn:
            row = conn.execute(sa.select(_requests).where(_requests.c.request_id == request_id).with_for_update()).first()
            try:
                if row is None:
                    raise PermissionDenied("no such request")
                self._require_staff_of(conn, principal, row.store_id)
            except PermissionDenied:  # another store's request is as unknown to this staff member as a made-up id
                raise NotFound(f"no replenishment request {request_id!r}", field="request_id") from None
            replay = find_replay(conn, principal, method, key, digest)
            if replay is not None:
                return _request_from_json(json.loads(replay))
            if row.status != Status.OPEN.value:
                raise FailedPrecondition(f"replenishment request {request_id} is already {row.status}", field="request_id")
            closed_at = now_ms()
            conn.execute(sa.update(_requests).where(_requests.c.request_id == request_id).values(
                status=status.value, open_key=None, closed_at_ms=closed_at, closed_by=principal.subject_id))
            if status is Status.RECEIVED:
                self._add_stock(conn, row.store_id, row.sku, int(row.quantity))
            closed = Replenishment(**{**asdict(_request(row)), "status": status, "closed_at_ms": closed_at,
                                      "closed_by": principal.subject_id})
            remember(conn, principal, method, key, digest, _to_json(closed))
        return closed

    @staticmethod
    def _add_stock(conn: Connection, store_id: str, sku: str, quantity: int) -> None:
        updated = conn.execute(sa.update(_stock).where(_stock.c.store_id == store_id, _stock.c.sku == sku)
                               .values(on_hand=_stock.c.on_hand + quantity))
        if updated.rowcount == 0:
            conn.execute(_stock.insert().values(store_id=store_id, sku=sku, on_hand=quantity))

    def record_count(self, principal: Principal, store_id: str, sku: str, counted: int, key: str) -> CountResult:
        """Staff counted ``counted`` on the shelf: that is the stock now; below the safety stock opens a request."""
        if not 0 <= counted <= MAX_QUANTITY:
            raise InvalidArgument(f"counted must be 0..{MAX_QUANTITY}; got {counted}", field="counted")
        digest = request_hash({"store_id": store_id, "sku": sku, "counted": counted})
        with self.database.write() as conn:
            self._require_staff_of(conn, principal, store_id)
            replay = find_replay(conn, principal, "RecordStockCount", key, digest)
            if replay is not None:
                return _count_from_json(replay)
            self._check_sku(conn, store_id, sku)
            updated = conn.execute(sa.update(_stock).where(_stock.c.store_id == store_id, _stock.c.sku == sku)
                                   .values(on_hand=counted))
            if updated.rowcount == 0:
                conn.execute(_stock.insert().values(store_id=store_id, sku=sku, on_hand=counted))
            raised = open_if_low(conn, store_id, sku, Reason.COUNT)
            minimum = conn.execute(sa.select(_safety.c.minimum).where(
                _safety.c.store_id == store_id, _safety.c.sku == sku)).scalar()
            result = CountResult(sku, counted, int(minimum or 0), raised)
            remember(conn, principal, "RecordStockCount", key, digest, _to_json(result))
        return result

    def note_sold(self, store_id: str, skus: list[str]) -> list[Replenishment]:
        """After an order took store stock of ``skus``: open a request for each now below its safety stock.

        Called by the cloud after a capture (the order is already committed); a SKU with an open
        request is left alone, so a retry or a second replica's call adds nothing.
        """
        raised = []
        with self.database.write() as conn:
            for sku in dict.fromkeys(skus):
                opened = open_if_low(conn, store_id, sku, Reason.ORDER)
                if opened is not None:
                    raised.append(opened)
        return raised
