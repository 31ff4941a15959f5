"""Shopper accounts, staff credentials and kiosk devices: registration, sign-in, token issue.

Sign-in goes through the wrong-password lockout (:mod:`cloud.domain.lockout`): too many wrong
passwords for an account or from one client address are ``RESOURCE_EXHAUSTED`` for a while.
"""
from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from cloud.domain.auth import TokenSigner, hash_password, require_password, verify_password
from cloud.domain.lockout import PasswordGuard, open_guard, shopper_account, staff_account, unknown_email_account
from cloud.domain.types import Principal, PrincipalKind, Session, now_ms
from cloud.domain.validate import require_id, require_text
from cloud.errors import FailedPrecondition, InvalidArgument, NotFound, Unauthenticated
from cloud.storage import Database, schema

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Verified when the email is unknown too, so timing does not tell which emails exist.
_DUMMY_HASH = hash_password("not-a-real-password")


def _require_email(email: str) -> str:
    require_text(email, "email", 254)
    if not _EMAIL.match(email):
        raise InvalidArgument(f"email {email[:60]!r} is not an email address", field="email")
    return email.lower()


def _require_phone(phone: str) -> str:
    if not _E164.match(phone):
        raise InvalidArgument(f"phone {phone[:20]!r} is not E.164 (e.g. +8613800138000)", field="phone")
    return phone


class AccountService:
    """Blocking account operations (run them on the worker pool)."""

    def __init__(self, database: Database, signer: TokenSigner, guard: PasswordGuard | None = None) -> None:
        self.database = database
        self.signer = signer
        self.guard = guard if guard is not None else open_guard(database)

    def _session(self, principal: Principal) -> Session:
        token, expires = self.signer.issue(principal)
        return Session(token=token, subject_id=principal.subject_id, expires_at_ms=expires)

    def register_shopper(self, email: str, password: str, phone: str, display_name: str) -> Session:
        email = _require_email(email)
        require_password(password)
        phone = _require_phone(phone)
        if len(display_name) > 100 or not display_name.isprintable():
            raise InvalidArgument("display_name must be at most 100 printable characters", field="display_name")
        shopper_id = f"shp_{uuid.uuid4().hex[:20]}"
        password_hash = hash_password(password)
        s = schema.shoppers
        with self.database.write() as conn:
            if conn.execute(sa.select(s.c.shopper_id).where(s.c.email == email)).first() is not None:
                raise FailedPrecondition(f"email {email} is already registered; sign in instead", field="email")
            conn.execute(
                s.insert().values(
                    shopper_id=shopper_id,
                    email=email,
                    password_hash=password_hash,
                    phone=phone,
                    display_name=display_name,
                    created_at_ms=now_ms(),
                )
            )
        return self._session(Principal(PrincipalKind.SHOPPER, shopper_id))

    def sign_in(self, email: str, password: str, peer: str = "") -> Session:
        """A shopper session for the right email and password; ``peer`` is the client address the lockout counts."""
        email = _require_email(email)
        s = schema.shoppers
        with self.database.read() as conn:
            row = conn.execute(sa.select(s.c.shopper_id, s.c.password_hash).where(s.c.email == email)).first()
        account = shopper_account(row.shopper_id) if row else unknown_email_account(email)
        self._check_password(account, peer, "SignIn", password, row.password_hash if row else None,
                             "email or password is wrong")
        return self._session(Principal(PrincipalKind.SHOPPER, row.shopper_id))

    def staff_sign_in(self, staff_id: str, password: str, peer: str = "") -> Session:
        require_id(staff_id, "staff_id", max_length=64)
        s = schema.staff
        with self.database.read() as conn:
            row = conn.execute(sa.select(s.c.password_hash).where(s.c.staff_id == staff_id)).first()
        self._check_password(staff_account(staff_id), peer, "StaffSignIn", password, row.password_hash if row else None,
                             "staff_id or password is wrong")
        return self._session(Principal(PrincipalKind.STAFF, staff_id))

    def _check_password(self, account: str, peer: str, door: str, password: str, stored: str | None, wrong: str) -> None:
        """Refuse a locked account or peer, then the wrong password (counted); the right one clears the account's count.

        ``stored`` None (no such account) is checked against a dummy hash, so the answer takes as long.
        """
        ticket = self.guard.check(account, peer)
        if not verify_password(password, stored or _DUMMY_HASH) or stored is None:
            self.guard.failed(account, peer, door, ticket)
            raise Unauthenticated(wrong)
        self.guard.succeeded(account)

    def create_staff(self, staff_id: str, password: str) -> None:
        """Create a staff credential, or replace the password of an existing one."""
        require_id(staff_id, "staff_id", max_length=64)
        require_password(password)
        s = schema.staff
        password_hash = hash_password(password)
        with self.database.write() as conn:
            if conn.execute(sa.select(s.c.staff_id).where(s.c.staff_id == staff_id)).first() is None:
                conn.execute(s.insert().values(staff_id=staff_id, password_hash=password_hash, created_at_ms=now_ms()))
            else:
                conn.execute(s.update().where(s.c.staff_id == staff_id).values(password_hash=password_hash))

    def issue_device_token(self, store_id: str) -> Session:
        """Register a new kiosk device bound to ``store_id`` and return its (revocable) token."""
        require_id(store_id, "store_id")
        device_id = f"dev_{uuid.uuid4().hex[:20]}"
        with self.database.write() as conn:
            st = schema.stores
            if conn.execute(sa.select(st.c.store_id).where(st.c.store_id == store_id)).first() is None:
                raise NotFound(f"store {store_id!r} does not exist", field="store_id")
            conn.execute(schema.devices.insert().values(device_id=device_id, store_id=store_id, created_at_ms=now_ms()))
        return self._session(Principal(PrincipalKind.DEVICE, device_id, store_id))

    def revoke_device(self, device_id: str) -> None:
        d = schema.devices
        with self.database.write() as conn:
            done = conn.execute(
                d.update().where(d.c.device_id == device_id, d.c.revoked_at_ms.is_(None)).values(revoked_at_ms=now_ms())
            )
            if done.rowcount == 0:
                raise NotFound(f"device {device_id!r} does not exist or is already revoked", field="device_id")
