"""Signed expiring tokens, password hashing, and turning a bearer token into a ``Principal``.

A token is ``ofv1.<payload>.<signature>``: base64url JSON ``{"k": kind, "s": subject,
"st": store, "x": expiry ms}`` and its HMAC-SHA256 under the secret that the first
migration generated (shared by every replica through the settings table, read
once per process). Device tokens are also checked against the devices table so
they can be revoked; that answer is cached for ``revocation_ttl_s``.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import time

import sqlalchemy as sa

from cloud.domain.types import Principal, PrincipalKind, now_ms
from cloud.errors import InvalidArgument, Unauthenticated
from cloud.storage import Database, schema

TOKEN_PREFIX = "ofv1"
TOKEN_SECRET_KEY = "token_secret"
TOKEN_LIFETIME_MS = {
    PrincipalKind.SHOPPER: 12 * 3600 * 1000,
    PrincipalKind.STAFF: 8 * 3600 * 1000,
    PrincipalKind.DEVICE: 365 * 24 * 3600 * 1000,
}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MAX_REMEMBERED_TOKENS = 10_000


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64encode(salt)}${_b64encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    fresh = hashlib.scrypt(password.encode("utf-8"), salt=_b64decode(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(fresh, _b64decode(digest))


class TokenSigner:
    """Issues and verifies tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError(f"token secret must be at least 16 bytes; got {len(secret)}")
        self._secret = secret
        self._verified: dict[str, tuple[Principal, int]] = {}  # token -> principal, expiry (ms)

    def _sign(self, payload: str) -> str:
        return _b64encode(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, principal: Principal, lifetime_ms: int | None = None) -> tuple[str, int]:
        """A token for ``principal`` and its expiry (ms since the epoch)."""
        expires = now_ms() + (lifetime_ms if lifetime_ms is not None else TOKEN_LIFETIME_MS[principal.kind])
        body = {"k": principal.kind.value, "s": principal.subject_id, "st": principal.store_id, "x": expires}
        payload = _b64encode(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{TOKEN_PREFIX}.{payload}.{self._sign(payload)}", expires

    def verify(self, token: str) -> Principal:
        """The principal a token names; ``Unauthenticated`` if it is malformed, forged or expired.

        Tokens that verified are remembered (a bounded cache) so a busy caller pays
        for the HMAC and the JSON once, not per call; expiry is checked every time.
        """
        known = self._verified.get(token)
        if known is not None:
            if known[1] <= now_ms():
                raise Unauthenticated("token has expired; sign in again")
            return known[0]
        principal, expires = self._verify_signed(token)
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _verify_signed(self, token: str) -> tuple[Principal, int]:
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise Unauthenticated(f"token is malformed; expected {TOKEN_PREFIX}.<payload>.<signature>")
        if not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            raise Unauthenticated("token signature does not verify (forged or from another deployment)")
        try:
            body = json.loads(_b64decode(parts[1]))
            principal = Principal(PrincipalKind(body["k"]), str(body["s"]), body.get("st"))
            expires = int(body["x"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise Unauthenticated("token payload is malformed") from exc
        if expires <= now_ms():
            raise Unauthenticated("token has expired; sign in again")
        return principal, expires


def signer_for(database: Database) -> TokenSigner:
    return TokenSigner(bytes.fromhex(database.setting(TOKEN_SECRET_KEY)))


class Authenticator:
    """Turns the ``authorization`` metadata value into a ``Principal``."""

    def __init__(self, database: Database, signer: TokenSigner, revocation_ttl_s: float = 1.0) -> None:
        self._database = database
        self._signer = signer
        self._ttl_s = revocation_ttl_s
        self._active_devices: dict[str, float] = {}  # device_id -> monotonic time it was last seen active
        self._lock = threading.Lock()

    def verify_header(self, header: str | None) -> Principal:
        """The principal of ``Bearer <token>`` from signature and expiry alone (no database)."""
        if not header:
            raise Unauthenticated("missing authorization metadata; expected 'authorization: Bearer <token>'")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
        return self._signer.verify(token.strip())

    def needs_device_check(self, principal: Principal) -> bool:
        """Whether ``check_device`` must ask the database (a device not seen active lately)."""
        if principal.kind is not PrincipalKind.DEVICE:
            return False
        with self._lock:
            seen = self._active_devices.get(principal.subject_id)
        return seen is None or time.monotonic() - seen >= self._ttl_s

    def check_device(self, principal: Principal) -> None:
        """Refuse a device that is unknown, revoked or moved to another store (blocking)."""
        with self._database.read() as conn:
            row = conn.execute(
                sa.select(schema.devices.c.store_id, schema.devices.c.revoked_at_ms).where(
                    schema.devices.c.device_id == principal.subject_id
                )
            ).first()
        if row is None or row.revoked_at_ms is not None or row.store_id != principal.store_id:
            raise Unauthenticated(f"device {principal.subject_id} is unknown or its token was revoked")
        with self._lock:
            self._active_devices[principal.subject_id] = time.monotonic()


def require_password(password: str, field: str = "password") -> str:
    if not 8 <= len(password) <= 256:
        raise InvalidArgument(f"{field} must be 8..256 characters; got {len(password)}", field=field)
    return password
