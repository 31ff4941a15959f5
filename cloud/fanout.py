"""Change fan-out: wake ``WatchCart`` streams when a cart version is committed.

``CartHub`` lives on the server's event loop. Mutations served by this process
publish their change directly (the watcher needs no database read); with
PostgreSQL, ``PgNotifier`` then announces ``<cart_id>:<version>`` on channel
``omnifit_cart`` and ``PgListener`` holds one ``LISTEN`` connection in a thread
and hands every announcement (from any replica, this one included) to the loop,
where watchers that are behind read the stored changes. After the listener reconnects every watcher re-reads, so a notification
lost while it was down delays a change but never drops it.

The hub also ends watches whose credentials ended: :meth:`CartHub.follow` re-checks the watcher's
token every ``recheck_s`` seconds and at its expiry, and at once when a revocation is announced —
in-process by :meth:`CartHub.revoke`, from other replicas as ``!<principal key>`` entries on the
same channel (sent by the database transaction that revoked, see ``cloud.domain.accounts``).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from cloud.domain.types import CartChange, ChangeKind, now_ms

if TYPE_CHECKING:
    import psycopg

_LOGGER = logging.getLogger(__name__)
NOTIFY_CHANNEL = "omnifit_cart"
MAX_PAYLOAD_BYTES = 7000
REVOCATION_MARK = "!"  # a payload entry "!<principal key>": that principal's tokens ended
# A watcher re-reads the change log this often even without a wake-up, so a lost
# notification delays a change by at most this much.
WATCH_POLL_S = 5.0
# A watcher's token is checked again this often (and at its expiry, and on a revocation).
CREDENTIAL_RECHECK_S = 5.0


class Notifier(Protocol):
    """Tells the other replicas that a cart version was committed (``PgNotifier``, ``cloud.fanout_nats.NatsFanout``)."""

    def notify(self, cart_id: str, version: int) -> None: ...


@dataclass(eq=False)
class Subscription:
    """One watcher's mailbox: the newest version it heard of and the changes handed over in-process."""

    cart_id: str
    principal_key: str = ""  # whose token opened the watch, for revocations
    revoked: bool = False    # a revocation of principal_key was announced: check the token now
    event: asyncio.Event = field(default_factory=asyncio.Event)
    notified_version: int = 0
    local: dict[int, CartChange] = field(default_factory=dict)
    resync: bool = False  # set when notifications may have been lost

    def take_local(self, last_version: int) -> list[CartChange]:
        """The in-process changes that follow ``last_version`` without a gap, oldest first."""
        taken = []
        while last_version + 1 in self.local:
            last_version += 1
            taken.append(self.local.pop(last_version))
        for stale in [v for v in self.local if v <= last_version]:
            del self.local[stale]
        return taken


class CartHub:
    """Per-cart subscriptions on one event loop; ``publish`` must run on that loop."""

    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}
        self.revocation_listeners: list[Callable[[str], None]] = []  # told first (the authenticator's cache)

    @contextlib.contextmanager
    def subscribe(self, cart_id: str, principal_key: str = "") -> Iterator[Subscription]:
        sub = Subscription(cart_id, principal_key)
        self._subscriptions.setdefault(cart_id, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subscriptions.get(cart_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscriptions[cart_id]

    def publish(self, cart_id: str, version: int, change: CartChange | None = None) -> None:
        for sub in self._subscriptions.get(cart_id, ()):
            sub.notified_version = max(sub.notified_version, version)
            if change is not None:
                sub.local[version] = change
            sub.event.set()

    def publish_change(self, change: CartChange) -> None:
        self.publish(change.cart.cart_id, change.cart.version, change)

    def resync_all(self) -> None:
        for subs in self._subscriptions.values():
            for sub in subs:
                sub.resync = True
                sub.event.set()

    def revoke(self, principal_key: str) -> None:
        """``principal_key``'s tokens ended: forget cached answers, and its watchers check their token now."""
        for listener in self.revocation_listeners:
            listener(principal_key)
        for subs in self._subscriptions.values():
            for sub in subs:
                if sub.principal_key == principal_key:
                    sub.revoked = True
                    sub.event.set()

    async def follow(
        self,
        sub: Subscription,
        last: int,
        target: int,
        changes_after: Callable[[int], Awaitable[list[CartChange]]],
        recheck: Callable[[bool], Awaitable[None]],
        expires_at_ms: int = 0,
        poll_s: float = WATCH_POLL_S,
        recheck_s: float = CREDENTIAL_RECHECK_S,
    ) -> AsyncIterator[CartChange]:
        """Every change of ``sub``'s cart after version ``last``, in order, for as long as the watcher's token stands.

        ``changes_after(version)`` reads the stored log; ``recheck(fresh)`` raises (``Unauthenticated``) once
        the token no longer stands — ``fresh`` after a revocation, to skip cached answers. Changes handed over
        in-process need no read; a wake-up for a version we lack, a resync, or ``poll_s`` without news reads
        the log. A log compacted past ``last`` gives the cart as stored, as a SNAPSHOT.
        """
        next_check = time.monotonic() + recheck_s
        next_poll = time.monotonic() + poll_s
        while True:
            if sub.revoked or time.monotonic() >= next_check or (expires_at_ms and now_ms() >= expires_at_ms):
                fresh, sub.revoked = sub.revoked, False
                await recheck(fresh)
                next_check = time.monotonic() + recheck_s
            sub.event.clear()
            for change in sub.take_local(last):
                yield change
                last = change.cart.version
            target = max(target, sub.notified_version)
            if sub.resync or last < target:
                sub.resync = False
                next_poll = time.monotonic() + poll_s
                fetched = await changes_after(last)
                if fetched and fetched[0].cart.version > last + 1:
                    # The versions in between were compacted (cloud.domain.retention): send the cart as stored.
                    yield CartChange(ChangeKind.SNAPSHOT, fetched[0].cart)
                    last = fetched[0].cart.version
                for change in fetched:
                    if change.cart.version == last + 1:
                        yield change
                        last = change.cart.version
                if fetched and last < max(target, sub.notified_version):
                    continue  # the log holds more than one read returns
            wait_s = max(0.0, min(next_poll, next_check) - time.monotonic())
            if expires_at_ms:
                wait_s = min(wait_s, max(0.0, (expires_at_ms - now_ms()) / 1000))
            try:
                await asyncio.wait_for(sub.event.wait(), timeout=wait_s)
            except TimeoutError:
                if time.monotonic() >= next_poll:
                    sub.resync = True

    @property
    def watcher_count(self) -> int:
        return sum(len(subs) for subs in self._subscriptions.values())


def encode_payloads(entries: list[tuple[str, int]]) -> list[str]:
    """``cart_id:version`` entries joined by commas, split to stay under PostgreSQL's 8000-byte payload limit."""
    payloads, current = [], ""
    for cart_id, version in entries:
        entry = f"{cart_id}:{version}"
        if current and len(current) + 1 + len(entry) > MAX_PAYLOAD_BYTES:
            payloads.append(current)
            current = ""
        current = f"{current},{entry}" if current else entry
    return [*payloads, current] if current else payloads


def revocation_entry(principal_key: str) -> str:
    """The notification entry announcing that ``principal_key``'s tokens ended."""
    return REVOCATION_MARK + principal_key


def parse_revocations(payload: str) -> list[str]:
    """The principal keys a notification announces revoked."""
    return [entry[1:] for entry in payload.split(",") if entry.startswith(REVOCATION_MARK) and len(entry) > 1]


def parse_payload(payload: str) -> list[tuple[str, int]]:
    """The ``(cart_id, version)`` entries of one notification; malformed entries (and revocations) are skipped."""
    entries = []
    for entry in payload.split(","):
        if entry.startswith(REVOCATION_MARK):
            continue
        cart_id, _, version = entry.rpartition(":")
        if cart_id and version.isdigit():
            entries.append((cart_id, int(version)))
    return entries


class PgNotifier:
    """Tells the other replicas about committed versions: ``NOTIFY`` from a thread, after the commit.

    PostgreSQL serialises the commits of transactions that ``NOTIFY`` (a global lock
    is held through each one's WAL flush), which caps mutations at one fsync each.
    So writers commit without notifying and this thread sends everything committed
    meanwhile in one notification from its own autocommit connection. If that fails
    twice the entries are dropped and the other replicas pick the change up on their
    watchers' periodic re-read instead (a delay, never a loss).
    """

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._queue: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="omnifit-pg-notify", daemon=True)
        self._conn: psycopg.Connection[Any] | None = None

    def start(self) -> None:
        self._thread.start()

    def notify(self, cart_id: str, version: int) -> None:
        self._queue.put((cart_id, version))

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            burst = [self._queue.get()]  # everything queued while the last NOTIFY was in flight
            while burst[-1] is not None and not self._queue.empty():
                burst.append(self._queue.get_nowait())
            entries = [entry for entry in burst if entry is not None]
            if entries:
                self._send(encode_payloads(entries))
            if burst[-1] is None:
                break
        if self._conn is not None:
            self._conn.close()

    def _send(self, payloads: list[str]) -> None:
        import psycopg

        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self._conninfo, autocommit=True)
                for payload in payloads:
                    self._conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, payload))
                return
            except psycopg.Error as exc:
                _LOGGER.warning("NOTIFY failed (attempt %d): %s", attempt, exc)
                self._conn = None


class PgListener:
    """A thread with one psycopg connection that LISTENs and forwards notifications to ``hub`` on ``loop``."""

    def __init__(self, conninfo: str, hub: CartHub, loop: asyncio.AbstractEventLoop, poll_s: float = 0.5) -> None:
        self._conninfo = conninfo
        self._hub = hub
        self._loop = loop
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="omnifit-pg-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._listen(psycopg)
                backoff = 0.1
            except psycopg.Error as exc:
                self.connected.clear()
                _LOGGER.warning("LISTEN connection lost (%s); reconnecting in %.1f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _listen(self, psycopg) -> None:  # type: ignore[no-untyped-def]
        with psycopg.connect(self._conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.connected.set()
            self._loop.call_soon_threadsafe(self._hub.resync_all)
            while not self._stop.is_set():
                for notify in conn.notifies(timeout=self._poll_s, stop_after=None):
                    for cart_id, version in parse_payload(notify.payload):
                        self._loop.call_soon_threadsafe(self._hub.publish, cart_id, version)
                    for principal_key in parse_revocations(notify.payload):
                        self._loop.call_soon_threadsafe(self._hub.revoke, principal_key)
