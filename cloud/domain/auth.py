"""Signed expiring tokens, password hashing, and turning a bearer token into a ``Principal``.

A token is ``ofv1.<payload>.<signature>``: base64url JSON ``{"k": kind, "s": subject,
"st": store, "x": expiry ms, "i": issued ms, "g": credential generation, "kid": key id}`` and its
HMAC-SHA256 under the key ``kid`` names (:mod:`cloud.domain.token_keys`: a key file or the
environment, shared by every replica; tokens from before key ids have no ``kid`` and verify with the
database's old secret while it is retiring).

Every call's token is also checked against the database, the answer cached for
``revocation_ttl_s``: a device must exist, be unrevoked and still belong to the token's store; a
shopper or staff member must exist with the credential generation the token carries (a password
change or sign-out-everywhere moves it on), and staff must not be disabled.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from cloud.domain.token_keys import VERIFY_WINDOW_MS, TokenKeyRing, configured_key_file, resolve_token_keys
from cloud.domain.types import Principal, PrincipalKind, now_ms
from cloud.errors import CloudError, InvalidArgument, Unauthenticated
from cloud.storage import Database, schema

_LOGGER = logging.getLogger(__name__)
TOKEN_PREFIX = "ofv1"
TOKEN_LIFETIME_MS = {
    PrincipalKind.SHOPPER: 12 * 3600 * 1000,
    PrincipalKind.STAFF: 8 * 3600 * 1000,
    PrincipalKind.DEVICE: VERIFY_WINDOW_MS,  # renewed by the kiosk (RenewDeviceToken) long before it ends
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
    """Issues tokens under the ring's active key and verifies them under the key each names.

    ``reload`` (a key file's loader) is asked again for the ring when a token names a key this
    process does not hold (at most once a second) and once a minute, so ``omnifit admin token-key
    rotate`` reaches running replicas without a restart.
    """

    def __init__(self, keys: TokenKeyRing | bytes, reload: Callable[[], TokenKeyRing] | None = None) -> None:
        self.keys = keys if isinstance(keys, TokenKeyRing) else TokenKeyRing.single(keys)
        self._reload = reload
        self._loaded_at = time.monotonic()
        self._verified: dict[str, Principal] = {}

    def _sign(self, secret: bytes, payload: str) -> str:
        return _b64encode(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())

    def derive(self, purpose: str) -> bytes:
        """A secret for another signed value (face match tokens), from the active key; every replica derives the same."""
        return hmac.new(self.keys.active.secret, f"omnifit/derived/{purpose}".encode(), hashlib.sha256).digest()

    def issue(self, principal: Principal, lifetime_ms: int | None = None) -> tuple[str, int]:
        """A token for ``principal`` (its generation included) and its expiry (ms since the epoch)."""
        self._maybe_reload(False)
        issued = now_ms()
        expires = issued + (lifetime_ms if lifetime_ms is not None else TOKEN_LIFETIME_MS[principal.kind])
        key = self.keys.active
        body = {"k": principal.kind.value, "s": principal.subject_id, "st": principal.store_id, "x": expires,
                "i": issued, "g": principal.generation, "kid": key.key_id}
        payload = _b64encode(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{TOKEN_PREFIX}.{payload}.{self._sign(key.secret, payload)}", expires

    def verify(self, token: str) -> Principal:
        """The principal a token names; ``Unauthenticated`` if it is malformed, forged or expired.

        Tokens that verified are remembered (a bounded cache) so a busy caller pays
        for the HMAC and the JSON once, not per call; expiry, and whether the key that
        signed it still verifies, are checked every time.
        """
        known = self._verified.get(token)
        if known is None:
            known = self._verify_signed(token)
            if len(self._verified) >= MAX_REMEMBERED_TOKENS:
                self._verified.clear()
            self._verified[token] = known
        if known.expires_at_ms <= now_ms():
            raise Unauthenticated("token has expired; sign in again")
        return known

    def _maybe_reload(self, unknown_key: bool) -> bool:
        if self._reload is None:
            return False
        age = time.monotonic() - self._loaded_at
        if age < (1.0 if unknown_key else 60.0):
            return False
        self._loaded_at = time.monotonic()
        try:
            self.keys = self._reload()
        except CloudError as exc:
            _LOGGER.error("cannot reload the token keys: %s", exc)
            return False
        self._verified.clear()
        return True

    def _verify_signed(self, token: str) -> Principal:
        self._maybe_reload(False)
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise Unauthenticated(f"token is malformed; expected {TOKEN_PREFIX}.<payload>.<signature>")
        try:
            body = json.loads(_b64decode(parts[1]))
            key_id = body.get("kid")
            if key_id is not None and not isinstance(key_id, str):
                raise TypeError("kid")
        except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
            raise Unauthenticated("token payload is malformed") from exc
        key = self.keys.verifier(key_id, now_ms())
        if key is None and key_id is not None and key_id not in self.keys.keys and self._maybe_reload(True):
            key = self.keys.verifier(key_id, now_ms())
        if key is None or not hmac.compare_digest(self._sign(key.secret, parts[1]), parts[2]):
            raise Unauthenticated("token signature does not verify (forged, from another deployment, or its key retired)")
        try:
            return Principal(PrincipalKind(body["k"]), str(body["s"]), body.get("st"),
                             generation=int(body.get("g", 0)), expires_at_ms=int(body["x"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated("token payload is malformed") from exc


def signer_for(database: Database, key_file: Path | None = None) -> TokenSigner:
    """The signer of ``database``'s deployment: its key ring as :func:`resolve_token_keys` finds it."""
    ring = resolve_token_keys(database, key_file)
    path = configured_key_file(database, key_file)
    reload = (lambda: TokenKeyRing.load_file(path)) if path is not None else None
    return TokenSigner(ring, reload)


@dataclass(frozen=True)
class _Standing:
    """What the database says about a token's subject now."""

    exists: bool
    generation: int = 0
    store_id: str | None = None
    barred: bool = False  # a revoked device, a disabled staff member


class Authenticator:
    """Turns the ``authorization`` metadata value into a ``Principal`` and checks it against the database."""

    def __init__(self, database: Database, signer: TokenSigner, revocation_ttl_s: float = 1.0) -> None:
        self._database = database
        self._signer = signer
        self._ttl_s = revocation_ttl_s
        self._standing: dict[str, tuple[_Standing, float]] = {}  # principal key -> standing, monotonic time read
        self._lock = threading.Lock()

    def verify_header(self, header: str | None) -> Principal:
        """The principal of ``Bearer <token>`` from signature and expiry alone (no database)."""
        if not header:
            raise Unauthenticated("missing authorization metadata; expected 'authorization: Bearer <token>'")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
        return self._signer.verify(token.strip())

    def check_cached(self, principal: Principal) -> bool:
        """Judge ``principal`` on a recent database answer: True if it stands, ``Unauthenticated`` if not;
        False when there is no recent answer (then :meth:`check` asks the database)."""
        with self._lock:
            entry = self._standing.get(principal.key)
        if entry is None or time.monotonic() - entry[1] >= self._ttl_s:
            return False
        _judge(principal, entry[0])
        return True

    def check(self, principal: Principal) -> None:
        """Ask the database whether ``principal``'s token still stands (blocking); ``Unauthenticated`` if not."""
        standing = self._read(principal)
        with self._lock:
            if len(self._standing) >= MAX_REMEMBERED_TOKENS:
                self._standing.clear()
            self._standing[principal.key] = (standing, time.monotonic())
        _judge(principal, standing)

    def forget(self, principal_key: str) -> None:
        """Drop the cached answer for a subject whose credentials just changed (the next call asks the database)."""
        with self._lock:
            self._standing.pop(principal_key, None)

    def _read(self, principal: Principal) -> _Standing:
        with self._database.read() as conn:
            if principal.kind is PrincipalKind.DEVICE:
                d = schema.devices
                row = conn.execute(sa.select(d.c.store_id, d.c.revoked_at_ms).where(d.c.device_id == principal.subject_id)).first()
                return _Standing(True, 0, row.store_id, row.revoked_at_ms is not None) if row else _Standing(False)
            if principal.kind is PrincipalKind.STAFF:
                s = schema.staff
                row = conn.execute(sa.select(s.c.credential_generation, s.c.disabled_at_ms)
                                   .where(s.c.staff_id == principal.subject_id)).first()
                return _Standing(True, row.credential_generation, None, row.disabled_at_ms is not None) if row else _Standing(False)
            sh = schema.shoppers
            generation = conn.execute(sa.select(sh.c.credential_generation)
                                      .where(sh.c.shopper_id == principal.subject_id)).scalar()
            return _Standing(generation is not None, generation or 0)


def _judge(principal: Principal, standing: _Standing) -> None:
    if principal.expires_at_ms and principal.expires_at_ms <= now_ms():
        raise Unauthenticated("token has expired; sign in again")
    if principal.kind is PrincipalKind.DEVICE:
        if not standing.exists or standing.barred or standing.store_id != principal.store_id:
            raise Unauthenticated(f"device {principal.subject_id} is unknown or its token was revoked")
        return
    if not standing.exists or standing.barred:
        raise Unauthenticated(f"{principal.kind.value} {principal.subject_id} is unknown or disabled; sign in again")
    if principal.generation != standing.generation:
        raise Unauthenticated("this session was ended (password changed or signed out everywhere); sign in again")



def require_password(password: str, field: str = "password") -> str:
    if not 8 <= len(password) <= 256:
        raise InvalidArgument(f"{field} must be 8..256 characters; got {len(password)}", field=field)
    return password
