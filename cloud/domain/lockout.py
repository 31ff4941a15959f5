"""Wrong-password lockout: failed password checks per account and per network peer, kept in the database.

Every door that takes an account password (shopper ``SignIn``, ``StaffSignIn``, the password that
``SetPaymentPin`` asks for again) checks :meth:`PasswordGuard.check` before it verifies anything
and reports the outcome after. The check counts the try as a failure at once, in the transaction
that checks the limits (serialised per account and peer), and the right password removes it
again: counted only after the slow hash check, guesses sent at the same moment all passed the
check before any was counted, so a burst got as many guesses as there were workers.

When an account has ``max_per_account`` failures within the window, or a peer (one client
address) ``max_per_peer``, the door answers ``RESOURCE_EXHAUSTED`` until the oldest of those
failures leaves the window — even for the right password, or the lock would only slow guessing
down. Failures are rows of ``password_failures``, so a restart or another replica sees the same
count; the failure that locks an account or peer is written to the hash-chained payments audit log.

An account is named by what the caller typed as well as by whom it reaches: an unknown email or
staff id is locked exactly like a real one, so the lock does not tell which accounts exist.

The lock is also a lever against the account's owner: whoever knows an email or staff id can keep
it locked (5 wrong passwords per window), and a shared store address can be paused by anyone
behind it. That is accepted to stop guessing; sessions already issued are not touched, and the
audit entry names the account and the address, for an operator to block.
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.types import now_ms
from cloud.errors import RateLimited
from cloud.storage import Database, schema
from cloud.storage.database import lock_key_for_transaction
from payments.audit import AuditLog

_LOGGER = logging.getLogger(__name__)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_PEER = 50           # a store's kiosks and staff may share one address
FAILURE_WINDOW_MS = 15 * 60 * 1000
LOCKED_EVENT = "auth.password_locked"
_ADVISORY_SPACE = 0x4F4C  # pg_advisory_xact_lock key space of the lockout
_failures = schema.password_failures


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong passwords an account and a peer get within ``window_ms`` before they wait."""

    max_per_account: int = MAX_FAILURES_PER_ACCOUNT
    max_per_peer: int = MAX_FAILURES_PER_PEER
    window_ms: int = FAILURE_WINDOW_MS

    def __post_init__(self) -> None:
        if self.max_per_account < 1 or self.max_per_peer < 1:
            raise ValueError(f"max_per_account and max_per_peer must be >= 1; got {self.max_per_account}, "
                             f"{self.max_per_peer}")
        if self.window_ms < 1000:
            raise ValueError(f"window_ms must be at least 1000 ms; got {self.window_ms}")


def shopper_account(shopper_id: str) -> str:
    return f"shopper:{shopper_id}"


def staff_account(staff_id: str) -> str:
    return f"staff:{staff_id}"


def unknown_email_account(email: str) -> str:
    """The account key of an email nobody registered (hashed: the table is no list of typed emails)."""
    return "email:" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def peer_address(peer: str) -> str:
    """The client address of a gRPC peer string without its port (``ipv4:10.0.0.7:53211`` -> ``ipv4:10.0.0.7``).

    A client's port changes with every connection; its address is what a per-peer limit counts. An
    IPv6 client is counted by its /64 (``ipv6:2001:db8:1:2::/64``): a home line or phone gets a whole
    /64 and may pick any address in it, so counting single addresses would count nothing. An
    IPv4-mapped IPv6 address counts as the IPv4 address.
    """
    if not peer.startswith(("ipv4:", "ipv6:")):
        return peer[:64]
    address = _ip(urllib.parse.unquote(peer[5:]).rpartition(":")[0])
    return _counted(address) if address is not None else (peer.rpartition(":")[0] or peer)[:64]


def client_address(peer: str, forwarded_for: str, trusted_proxies: Sequence[Network]) -> str:
    """The address a per-peer limit counts: the gRPC peer's, or behind a trusted proxy the client it forwarded.

    A proxy appends the address it saw to ``x-forwarded-for``, so the right-most entry that is not
    itself a trusted proxy is the client; entries left of it are the client's own word and are not
    read. From a peer that is no trusted proxy the header is ignored: anyone can write it.
    """
    counted = peer_address(peer)
    hop = _ip(urllib.parse.unquote(peer[5:]).rpartition(":")[0]) if peer.startswith(("ipv4:", "ipv6:")) else None
    for entry in reversed(forwarded_for.split(",") if forwarded_for else []):
        if hop is None or not any(hop in network for network in trusted_proxies):
            break
        hop = _ip(entry.strip())
        if hop is None:  # the proxy wrote nothing usable: count by the proxy, not by the client's word
            break
        counted = _counted(hop)
    return counted


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an address (brackets, a port or an IPv6 zone around it allowed), IPv4-mapped as IPv4; None if none."""
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        address = ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _counted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv4Address):
        return f"ipv4:{address}"
    return f"ipv6:{ipaddress.IPv6Network((address, 64), strict=False)}"


class PasswordGuard:
    """Counts wrong passwords and refuses accounts and peers that had too many (blocking; worker pool)."""

    def __init__(self, database: Database, audit: AuditLog, policy: LockoutPolicy = LockoutPolicy()) -> None:
        self.database = database
        self.audit = audit
        self.policy = policy

    def check(self, account: str, peer: str) -> int:
        """Raise ``RateLimited`` while ``account`` or ``peer`` is locked; else count this try as failed now.

        Returns the try's ticket for :meth:`failed`; :meth:`succeeded` takes the count back.
        """
        stamp = now_ms()
        with self.database.write() as conn:
            self._serialise(conn, account, peer)
            conn.execute(_failures.delete().where(_failures.c.at_ms <= stamp - self.policy.window_ms))
            for column, value, limit, what in self._limits(account, peer):
                unlocks_at = self._unlocks_at(conn, column, value, limit, stamp)
                if unlocks_at is not None:
                    wait_s = max(1, -(-(unlocks_at - stamp) // 1000))
                    raise RateLimited(
                        f"too many wrong passwords for this {what} in the last {self.policy.window_ms // 60000} min; "
                        f"try again in {_minutes(wait_s)}", retry_after_s=wait_s)
            inserted = conn.execute(_failures.insert().values(account=account, peer=peer, at_ms=stamp))
            return int(inserted.inserted_primary_key[0])

    def failed(self, account: str, peer: str, door: str, ticket: int) -> None:
        """The try ``ticket`` at ``door`` (``SignIn``, ``StaffSignIn``, ``SetPaymentPin``) was wrong; audit a new lock."""
        self.audit.transaction(lambda conn: self._audit_lock(conn, account, peer, door, ticket))

    def succeeded(self, account: str) -> None:
        """The right password: the account's failures, this try's included, no longer count."""
        with self.database.write() as conn:
            conn.execute(_failures.delete().where(_failures.c.account == account))

    def _serialise(self, conn: Connection, account: str, peer: str) -> None:
        """One check at a time per account and per peer (locked in one order, so two checks never wait on each other)."""
        for key in sorted({account, peer} - {""}):
            lock_key_for_transaction(conn, _ADVISORY_SPACE, key)

    def _limits(self, account: str, peer: str) -> list[tuple[sa.Column, str, int, str]]:
        limits = [(_failures.c.account, account, self.policy.max_per_account, "account")]
        if peer:
            limits.append((_failures.c.peer, peer, self.policy.max_per_peer, "network address"))
        return limits

    def _unlocks_at(self, conn: Connection, column: sa.Column, value: str, limit: int, stamp: int) -> int | None:
        """When the failures of ``value`` drop below ``limit`` again (ms), or None when they are below it now."""
        since = stamp - self.policy.window_ms
        recent = conn.execute(sa.select(_failures.c.at_ms).where(column == value, _failures.c.at_ms > since)
                              .order_by(_failures.c.at_ms.desc()).limit(limit)).scalars().all()
        return recent[-1] + self.policy.window_ms if len(recent) >= limit else None

    def _audit_lock(self, conn: Connection, account: str, peer: str, door: str, ticket: int) -> None:
        """Audit the lock when ``ticket`` is the failure that reached a limit (counted in ticket order, so once)."""
        since = now_ms() - self.policy.window_ms
        for column, value, limit, what in self._limits(account, peer):
            count = conn.execute(sa.select(sa.func.count()).where(
                column == value, _failures.c.at_ms > since, _failures.c.failure_id <= ticket)).scalar_one()
            if count == limit:
                _LOGGER.warning("%s %s locked after %d wrong passwords (%s)", what, value, count, door)
                self.audit.append_in(conn, LOCKED_EVENT, value, {
                    "locked": what, "door": door, "failures": count, "window_ms": self.policy.window_ms,
                    "account": account, "peer": peer,
                })


def open_guard(database: Database, policy: LockoutPolicy = LockoutPolicy()) -> PasswordGuard:
    """The guard over ``database``, auditing locks in the payments audit log on the same database."""
    return PasswordGuard(database, AuditLog(database.write_engine()), policy)


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{-(-seconds // 60)} min"
