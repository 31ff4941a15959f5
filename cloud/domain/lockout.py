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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.types import now_ms
from cloud.errors import CloudError, RateLimited
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


@dataclass(frozen=True)
class Limit:
    """At most ``max_failures`` failures per value of ``column`` within the counter's window; ``what`` names
    the value in messages and the audit log ("account", "network address", "kiosk")."""

    column: str
    max_failures: int
    what: str


@dataclass(frozen=True)
class Counted:
    """A try counted as failed: its row (``ticket``) and each key's failures in the window with it."""

    ticket: int
    failures: dict[str, int]


Refusal = Callable[[Limit, int, int], CloudError]  # (limit reached, failures, seconds until one leaves) -> error


class FailureCounter:
    """Failed attempts per key within a window, as rows of ``table`` (``failure_id``, ``at_ms`` and a
    column per kind of key), so a restart or another replica sees the same count. Blocking (worker pool).

    :meth:`count_try` refuses a key that reached its limit, else counts the try as failed at once, in
    the transaction that checks the limits (serialised per key with a PostgreSQL advisory lock in
    ``advisory_space``): counted only after the slow check it guards, tries sent at the same moment all
    passed before any was counted. A try that turns out right (or failed on our side) is taken back.
    One counter serves the password lockout, the kiosk's face-identify miss limit and the kiosk's wrong PINs.
    """

    def __init__(self, database: Database, table: sa.Table, limits: Sequence[Limit], window_ms: int,
                 advisory_space: int, refuse: Refusal) -> None:
        if not limits or any(limit.max_failures < 1 for limit in limits):
            raise ValueError(f"a failure counter needs limits of at least 1; got {list(limits)}")
        if window_ms < 1000:
            raise ValueError(f"window_ms must be at least 1000 ms; got {window_ms}")
        self.database = database
        self.table = table
        self.limits = tuple(limits)
        self.window_ms = window_ms
        self._space = advisory_space
        self._refuse = refuse

    def count_try(self, keys: Mapping[str, str]) -> Counted:
        """Raise the refusal while a key of ``keys`` (column -> value; empty values not limited) is at its
        limit; else insert the try's row (``keys`` are its columns) and return it counted."""
        stamp = now_ms()
        table = self.table
        with self.database.write() as conn:
            for value in sorted({value for _, value in self._active(keys)}):  # one order: no two wait on each other
                lock_key_for_transaction(conn, self._space, value)
            conn.execute(table.delete().where(table.c.at_ms <= stamp - self.window_ms))
            failures: dict[str, int] = {}
            for limit, value in self._active(keys):
                recent = conn.execute(sa.select(table.c.at_ms).where(table.c[limit.column] == value,
                                                                     table.c.at_ms > stamp - self.window_ms)
                                      .order_by(table.c.at_ms.desc()).limit(limit.max_failures)).scalars().all()
                if len(recent) >= limit.max_failures:
                    wait_s = max(1, -(-(recent[-1] + self.window_ms - stamp) // 1000))
                    raise self._refuse(limit, len(recent), wait_s)
                failures[limit.column] = len(recent) + 1
            inserted = conn.execute(table.insert().values(**keys, at_ms=stamp))
            assert inserted.inserted_primary_key is not None
            return Counted(int(inserted.inserted_primary_key[0]), failures)

    def take_back(self, ticket: int) -> None:
        """The try ``ticket`` was no failure (right, or it failed on our side)."""
        with self.database.write() as conn:
            conn.execute(self.table.delete().where(self.table.c.failure_id == ticket))

    def clear(self, column: str, value: str) -> None:
        """Forget every failure of ``value`` (the right password clears the account's wrong ones)."""
        with self.database.write() as conn:
            conn.execute(self.table.delete().where(self.table.c[column] == value))

    def reached_at(self, conn: Connection, keys: Mapping[str, str], ticket: int) -> list[tuple[Limit, str, int]]:
        """The limits that the failure ``ticket`` itself reached (counted in ticket order, so each lock once)."""
        since = now_ms() - self.window_ms
        reached = []
        for limit, value in self._active(keys):
            count = conn.execute(sa.select(sa.func.count()).where(
                self.table.c[limit.column] == value, self.table.c.at_ms > since,
                self.table.c.failure_id <= ticket)).scalar_one()
            if count == limit.max_failures:
                reached.append((limit, value, count))
        return reached

    def _active(self, keys: Mapping[str, str]) -> list[tuple[Limit, str]]:
        return [(limit, keys[limit.column]) for limit in self.limits if keys.get(limit.column)]


def _password_refusal(window_ms: int) -> Refusal:
    def refuse(limit: Limit, _failures: int, wait_s: int) -> CloudError:
        return RateLimited(f"too many wrong passwords for this {limit.what} in the last {window_ms // 60000} min; "
                           f"try again in {_minutes(wait_s)}", retry_after_s=wait_s)
    return refuse


class PasswordGuard:
    """Counts wrong passwords and refuses accounts and peers that had too many (blocking; worker pool)."""

    def __init__(self, database: Database, audit: AuditLog, policy: LockoutPolicy = LockoutPolicy()) -> None:
        self.database = database
        self.audit = audit
        self.policy = policy
        self.counter = FailureCounter(
            database, _failures,
            (Limit("account", policy.max_per_account, "account"), Limit("peer", policy.max_per_peer, "network address")),
            policy.window_ms, _ADVISORY_SPACE, _password_refusal(policy.window_ms))

    def check(self, account: str, peer: str) -> int:
        """Raise ``RateLimited`` while ``account`` or ``peer`` is locked; else count this try as failed now.

        Returns the try's ticket for :meth:`failed`; :meth:`succeeded` takes the count back.
        """
        return self.counter.count_try({"account": account, "peer": peer}).ticket

    def failed(self, account: str, peer: str, door: str, ticket: int) -> None:
        """The try ``ticket`` at ``door`` (``SignIn``, ``StaffSignIn``, ``SetPaymentPin``) was wrong; audit a new lock."""
        self.audit.transaction(lambda conn: self._audit_lock(conn, account, peer, door, ticket))

    def succeeded(self, account: str) -> None:
        """The right password: the account's failures, this try's included, no longer count."""
        self.counter.clear("account", account)

    def _audit_lock(self, conn: Connection, account: str, peer: str, door: str, ticket: int) -> None:
        """Audit the lock when ``ticket`` is the failure that reached a limit."""
        for limit, value, count in self.counter.reached_at(conn, {"account": account, "peer": peer}, ticket):
            _LOGGER.warning("%s %s locked after %d wrong passwords (%s)", limit.what, value, count, door)
            self.audit.append_in(conn, LOCKED_EVENT, value, {
                "locked": limit.what, "door": door, "failures": count, "window_ms": self.policy.window_ms,
                "account": account, "peer": peer,
            })


def open_guard(database: Database, policy: LockoutPolicy = LockoutPolicy()) -> PasswordGuard:
    """The guard over ``database``, auditing locks in the payments audit log on the same database."""
    return PasswordGuard(database, AuditLog(database.write_engine()), policy)


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{-(-seconds // 60)} min"
