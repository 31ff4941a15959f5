"""Shopper accounts, staff credentials and kiosk devices: registration, sign-in, token issue.

Sign-in goes through the wrong-password lockout (:mod:`cloud.domain.lockout`): too many wrong
passwords for an account or from one client address are ``RESOURCE_EXHAUSTED`` for a while.
"""
from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.auth import TokenSigner, hash_password, require_password, verify_password
from cloud.domain.lockout import (
    FailureCounter,
    Limit,
    PasswordGuard,
    open_guard,
    shopper_account,
    staff_account,
    unknown_email_account,
)
from cloud.domain.types import Principal, PrincipalKind, Session, now_ms
from cloud.domain.validate import require_id, require_text
from cloud.errors import CloudError, InvalidArgument, NotFound, PermissionDenied, RateLimited, Unauthenticated
from cloud.fanout import NOTIFY_CHANNEL, revocation_entry
from cloud.storage import Database, schema

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
REGISTRATIONS_PER_PEER = 20                 # a store's wifi may put many phones behind one address
REGISTRATION_WINDOW_MS = 60 * 60 * 1000
EXISTING_EMAIL_EVENT = "account.registration_for_existing_email"
_REGISTRATION_SPACE = 0x5247  # pg_advisory_xact_lock key space of the registration limit


def _registration_refusal(limit: Limit, _count: int, wait_s: int) -> CloudError:
    return RateLimited(f"too many registrations from this {limit.what}; try again in {wait_s // 60 + 1} min",
                       retry_after_s=wait_s)


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

    def __init__(self, database: Database, signer: TokenSigner, guard: PasswordGuard | None = None,
                 registrations_per_peer: int = REGISTRATIONS_PER_PEER, registration_window_ms: int = REGISTRATION_WINDOW_MS) -> None:
        self.database = database
        self.signer = signer
        self.guard = guard if guard is not None else open_guard(database)
        self.registrations = FailureCounter(
            database, schema.registration_attempts, (Limit("peer", registrations_per_peer, "network address"),),
            registration_window_ms, _REGISTRATION_SPACE, _registration_refusal)

    def _session(self, principal: Principal) -> Session:
        token, expires = self.signer.issue(principal)
        return Session(token=token, subject_id=principal.subject_id, expires_at_ms=expires)

    def register_shopper(self, email: str, password: str, phone: str, display_name: str, peer: str = "") -> str | None:
        """Create a shopper account for a free ``email``; the new shopper id, or None when the email was taken.

        The caller must answer both alike (the wire answer is the same, so registering is no oracle of
        which emails have accounts): the taken email's account is left as it was, and its owner gets an
        audit notice. Both paths hash the password and write once, so they take as long. ``peer``, the
        client address, is limited to ``registrations_per_peer`` registrations per window.
        """
        email = _require_email(email)
        require_password(password)
        phone = _require_phone(phone)
        if len(display_name) > 100 or not display_name.isprintable():
            raise InvalidArgument("display_name must be at most 100 printable characters", field="display_name")
        self.registrations.count_try({"peer": peer})
        shopper_id = f"shp_{uuid.uuid4().hex[:20]}"
        password_hash = hash_password(password)
        s = schema.shoppers
        with self.database.write() as conn:
            owner = conn.execute(sa.select(s.c.shopper_id).where(s.c.email == email)).scalar()
            if owner is None:
                conn.execute(s.insert().values(shopper_id=shopper_id, email=email, password_hash=password_hash, phone=phone,
                                               display_name=display_name, created_at_ms=now_ms()))
        if owner is not None:
            self.guard.audit.append(EXISTING_EMAIL_EVENT, owner, {"peer": peer})
            return None
        return shopper_id

    def sign_in(self, email: str, password: str, peer: str = "") -> Session:
        """A shopper session for the right email and password; ``peer`` is the client address the lockout counts."""
        email = _require_email(email)
        s = schema.shoppers
        with self.database.read() as conn:
            row = conn.execute(sa.select(s.c.shopper_id, s.c.password_hash, s.c.credential_generation)
                               .where(s.c.email == email)).first()
        account = shopper_account(row.shopper_id) if row else unknown_email_account(email)
        self._check_password(account, peer, "SignIn", password, row.password_hash if row else None,
                             "email or password is wrong")
        assert row is not None  # an unknown email never has the right password
        return self._session(Principal(PrincipalKind.SHOPPER, row.shopper_id, generation=row.credential_generation))

    def staff_sign_in(self, staff_id: str, password: str, peer: str = "") -> Session:
        require_id(staff_id, "staff_id", max_length=64)
        s = schema.staff
        with self.database.read() as conn:
            row = conn.execute(sa.select(s.c.password_hash, s.c.credential_generation, s.c.disabled_at_ms)
                               .where(s.c.staff_id == staff_id)).first()
        self._check_password(staff_account(staff_id), peer, "StaffSignIn", password, row.password_hash if row else None,
                             "staff_id or password is wrong")
        assert row is not None
        if row.disabled_at_ms is not None:  # said only to whoever knows the password
            raise PermissionDenied(f"staff member {staff_id} is disabled; ask an administrator")
        return self._session(Principal(PrincipalKind.STAFF, staff_id, generation=row.credential_generation))

    def _check_password(self, account: str, peer: str, door: str, password: str, stored: str | None, wrong: str) -> None:
        """Refuse a locked account or peer, then the wrong password (counted); the right one clears the account's count.

        ``stored`` None (no such account) is checked against a dummy hash, so the answer takes as long.
        """
        ticket = self.guard.check(account, peer)
        if not verify_password(password, stored or _DUMMY_HASH) or stored is None:
            self.guard.failed(account, peer, door, ticket)
            raise Unauthenticated(wrong)
        self.guard.succeeded(account)

    def create_staff(self, staff_id: str, password: str) -> bool:
        """Create a staff credential, or replace the password of an existing one, which ends its sessions
        (and enables it again). True when the staff member already existed."""
        require_id(staff_id, "staff_id", max_length=64)
        require_password(password)
        s = schema.staff
        password_hash = hash_password(password)
        with self.database.write() as conn:
            if conn.execute(sa.select(s.c.staff_id).where(s.c.staff_id == staff_id)).first() is None:
                conn.execute(s.insert().values(staff_id=staff_id, password_hash=password_hash, created_at_ms=now_ms()))
                return False
            conn.execute(s.update().where(s.c.staff_id == staff_id).values(
                password_hash=password_hash, credential_generation=s.c.credential_generation + 1, disabled_at_ms=None))
            announce_revocation(conn, staff_principal_key(staff_id))
            return True

    def set_staff_disabled(self, staff_id: str, disabled: bool) -> None:
        """Disable a staff member (their tokens stop at once, sign-in is refused) or enable them again."""
        require_id(staff_id, "staff_id", max_length=64)
        s = schema.staff
        with self.database.write() as conn:
            done = conn.execute(s.update().where(s.c.staff_id == staff_id).values(
                disabled_at_ms=now_ms() if disabled else None,
                credential_generation=s.c.credential_generation + (1 if disabled else 0)))
            if done.rowcount == 0:
                raise NotFound(f"staff member {staff_id!r} does not exist", field="staff_id")
            if disabled:
                announce_revocation(conn, staff_principal_key(staff_id))

    def sign_out_everywhere(self, caller: Principal, shopper_id: str = "", staff_id: str = "") -> str:
        """End every session of an account: the caller's own (no target), or staff for a shopper or a staff
        member (audited). Returns the principal key whose tokens ended, for the watchers to hear."""
        if caller.kind is PrincipalKind.DEVICE:
            raise PermissionDenied("a kiosk device has no account sessions to end; revoke the device instead")
        if shopper_id and staff_id:
            raise InvalidArgument("name shopper_id or staff_id, not both", field="staff_id")
        if (shopper_id or staff_id) and caller.kind is not PrincipalKind.STAFF:
            if shopper_id != caller.subject_id or caller.kind is not PrincipalKind.SHOPPER:
                raise PermissionDenied("only staff end another account's sessions")
        if shopper_id or (not staff_id and caller.kind is PrincipalKind.SHOPPER):
            table, column, subject = schema.shoppers, schema.shoppers.c.shopper_id, shopper_id or caller.subject_id
            key = Principal(PrincipalKind.SHOPPER, subject).key
        else:
            table, column, subject = schema.staff, schema.staff.c.staff_id, staff_id or caller.subject_id
            key = staff_principal_key(subject)
        require_id(subject, "shopper_id" if table is schema.shoppers else "staff_id", max_length=64)
        with self.database.write() as conn:
            done = conn.execute(table.update().where(column == subject).values(
                credential_generation=table.c.credential_generation + 1))
            if done.rowcount == 0:
                raise NotFound(f"{'shopper' if table is schema.shoppers else 'staff member'} {subject!r} does not exist")
            if caller.kind is PrincipalKind.STAFF and key != caller.key:
                conn.execute(schema.staff_audit.insert().values(
                    staff_id=caller.subject_id, action="sign_out_everywhere", target=key, at_ms=now_ms()))
            announce_revocation(conn, key)
        return key

    def renew_device_token(self, caller: Principal) -> Session:
        """A fresh token for the calling kiosk device (same device, store and revocation), for its full lifetime."""
        if caller.kind is not PrincipalKind.DEVICE:
            raise PermissionDenied("only a kiosk device renews its device token")
        return self._session(Principal(PrincipalKind.DEVICE, caller.subject_id, caller.store_id))

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
            announce_revocation(conn, Principal(PrincipalKind.DEVICE, device_id).key)


def staff_principal_key(staff_id: str) -> str:
    return Principal(PrincipalKind.STAFF, staff_id).key


def announce_revocation(conn: Connection, principal_key: str) -> None:
    """On PostgreSQL, tell every replica at commit that ``principal_key``'s tokens ended, so its open
    streams end now (:mod:`cloud.fanout`); elsewhere they find out at their next periodic check."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_notify(:channel, :payload)"),
                     {"channel": NOTIFY_CHANNEL, "payload": revocation_entry(principal_key)})
