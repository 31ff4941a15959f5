"""Kiosk-to-phone handoff: short-lived single-use pairing codes, shown as QR codes, claimed by a shopper.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), so
31**8 (about 8.5e11) possibilities; only its SHA-256 is stored. Claims are counted
per shopper account and per client address in the database (so every replica sees
them; a claim that succeeds is taken back), and an account or address with too many
failures in the window is refused before its code is even looked at: new accounts
from one address share that address's budget.
"""
from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.cart_repository import Batch, CartHead, CartRepository, check_access
from cloud.domain.lockout import FailureCounter, Limit
from cloud.domain.profiles import cart_key, merge_profile, shopper_key
from cloud.domain.types import Cart, CartChange, CartStatus, ChangeKind, FitProfile, PairingCode, Principal, PrincipalKind, now_ms
from cloud.domain.validate import MAX_QUANTITY, require_id
from cloud.errors import CloudError, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, RateLimited
from cloud.storage import Database, schema

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
CODE_TTL_MS = 5 * 60 * 1000
QR_PREFIX = "omnifit://pair/"
MAX_FAILURES = 5
MAX_FAILURES_PER_PEER = 20  # a store's wifi may put many phones behind one address
FAILURE_WINDOW_MS = 60 * 1000
_ADVISORY_SPACE = 0x5041  # pg_advisory_xact_lock key space of the pairing-claim limit
_codes, _failures = schema.pairing_codes, schema.pairing_failures


@dataclass(frozen=True)
class ClaimResult:
    cart: Cart  # the kiosk cart, now the shopper's
    profile: FitProfile
    changes: tuple[CartChange, ...]  # every cart version the claim wrote, for the watchers


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


QR_SIZE_PX = 264  # 33 modules (version 2 plus the quiet zone) at 8 px


def qr_png(payload: str) -> bytes:
    """``payload`` as a QR code PNG (error correction M, about 8 px modules) that reads back."""
    from assets.qr import scannable_qr  # imported here: only pairing draws QR codes

    image = scannable_qr(payload, QR_SIZE_PX)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def parse_code(text: str) -> str:
    """The code from a bare code or a whole ``omnifit://pair/<code>`` payload (case-insensitive)."""
    code = text.strip()
    if code.lower().startswith(QR_PREFIX):
        code = code[len(QR_PREFIX):]
    code = code.upper()
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        raise InvalidArgument(f"code must be {CODE_LENGTH} characters of {ALPHABET}; got {len(code)} characters", field="code")
    return code


class PairingService:
    """Create and claim pairing codes; blocking methods for the worker pool."""

    def __init__(
        self,
        database: Database,
        carts: CartRepository,
        ttl_ms: int = CODE_TTL_MS,
        max_failures: int = MAX_FAILURES,
        failure_window_ms: int = FAILURE_WINDOW_MS,
        max_failures_per_peer: int = MAX_FAILURES_PER_PEER,
    ) -> None:
        self.database = database
        self.carts = carts
        self.ttl_ms = ttl_ms
        self.max_failures = max_failures
        self.failure_window_ms = failure_window_ms
        self.failures = FailureCounter(
            database, _failures,
            (Limit("principal", max_failures, "account"), Limit("peer", max_failures_per_peer, "network address")),
            failure_window_ms, _ADVISORY_SPACE, self._refusal)

    def create_code(self, principal: Principal, cart_id: str) -> PairingCode:
        if principal.kind is PrincipalKind.SHOPPER:
            raise PermissionDenied("only a kiosk device (or staff) creates pairing codes")
        require_id(cart_id, "cart_id")
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        stamp = now_ms()
        with self.database.write() as conn:
            head = self.carts.lock_cart(conn, cart_id)
            check_access(principal, head)
            _require_anonymous_open(head)
            conn.execute(
                _codes.insert().values(
                    code_hash=_hash(code), cart_id=cart_id, created_by=principal.key, created_at_ms=stamp, expires_at_ms=stamp + self.ttl_ms
                )
            )
        payload = QR_PREFIX + code
        return PairingCode(code=code, expires_at_ms=stamp + self.ttl_ms, qr_payload=payload, qr_png=qr_png(payload))

    def claim(self, principal: Principal, code_text: str, peer: str = "") -> ClaimResult:
        """Hand the kiosk cart (and its anonymous profile) to the calling shopper; ``peer`` is its client address."""
        if principal.kind is not PrincipalKind.SHOPPER:
            raise PermissionDenied("only a signed-in shopper claims a pairing code")
        ticket = self.failures.count_try({"principal": principal.key, "peer": peer}).ticket
        try:
            code = parse_code(code_text)
            with self.database.write() as conn:
                result = self._claim(conn, principal, code)
        except CloudError:
            raise  # a wrong, used or expired code: the try stays counted
        except BaseException:
            self.failures.take_back(ticket)  # our failure, not the caller's
            raise
        self.failures.take_back(ticket)
        return result

    def _refusal(self, limit: Limit, failures: int, wait_s: int) -> CloudError:
        return RateLimited(f"{failures} failed pairing claims from this {limit.what} in the last "
                           f"{self.failure_window_ms // 1000} s; wait and try again", retry_after_s=wait_s)

    def _claim(self, conn: Connection, principal: Principal, code: str) -> ClaimResult:
        query = sa.select(_codes.c.cart_id, _codes.c.expires_at_ms, _codes.c.claimed_at_ms).where(_codes.c.code_hash == _hash(code))
        row = conn.execute(self.database.lock_for_update(query)).first()
        if row is None:
            raise NotFound("pairing code is unknown", field="code")
        if row.claimed_at_ms is not None:
            raise FailedPrecondition("pairing code was already used; ask the kiosk for a new one", field="code")
        if row.expires_at_ms <= now_ms():
            raise FailedPrecondition("pairing code has expired; ask the kiosk for a new one", field="code")
        conn.execute(_codes.update().where(_codes.c.code_hash == _hash(code))
                     .values(claimed_at_ms=now_ms(), claimed_by=principal.subject_id))
        kiosk = self.carts.lock_cart(conn, row.cart_id)
        _require_anonymous_open(kiosk)
        writes: Batch = []
        changes = []
        for old in self._open_carts_of(conn, principal.subject_id, kiosk.store_id):
            kiosk, merged = self._merge_cart(conn, writes, old, kiosk)
            changes.append(merged)
        claimed, _ = self.carts.stage_version(writes, replace(kiosk, owner_shopper_id=principal.subject_id), ChangeKind.CLAIMED)
        for statement, params in writes:  # in order: a merge may write the same line twice
            self.database.execute(conn, statement, params)
        profile = merge_profile(conn, cart_key(kiosk.cart_id), shopper_key(principal.subject_id), principal.subject_id)
        return ClaimResult(cart=claimed.cart, profile=profile, changes=(*changes, claimed))

    def _open_carts_of(self, conn: Connection, shopper_id: str, store_id: str) -> list[CartHead]:
        """The shopper's open carts at ``store_id``: a kiosk cart takes in only its own store's, so the
        kiosk never shows what the shopper has in a cart at another store (that cart stays open)."""
        c = schema.carts
        ids = conn.execute(
            sa.select(c.c.cart_id).where(c.c.owner_shopper_id == shopper_id, c.c.status == CartStatus.OPEN.value,
                                         c.c.store_id == store_id).order_by(c.c.created_at_ms)
        ).scalars().all()
        heads = [self.carts.lock_cart(conn, cart_id) for cart_id in ids]
        return [head for head in heads if head.status is CartStatus.OPEN]  # a racing claim may have merged one

    def _merge_cart(self, conn: Connection, writes: Batch, old: CartHead, into: CartHead) -> tuple[CartHead, CartChange]:
        """Move ``old``'s lines into ``into`` (each SKU capped at the quantity limit) and mark ``old`` merged."""
        for line in old.lines:
            room = MAX_QUANTITY - sum(present.quantity for present in into.lines if present.sku == line.sku)
            if room > 0:
                variant = self.carts.variant(conn, line.sku)
                into = self.carts.add_quantity(conn, writes, into, variant, min(room, line.quantity), pickup_only=False)
        merged, _ = self.carts.stage_version(writes, replace(old, status=CartStatus.MERGED, merged_into=into.cart_id), ChangeKind.MERGED)
        return into, merged


def _require_anonymous_open(head: CartHead) -> None:
    if head.status is not CartStatus.OPEN or head.owner_shopper_id is not None:
        raise FailedPrecondition(f"cart {head.cart_id} is not an open anonymous kiosk cart", cart_id=head.cart_id)
