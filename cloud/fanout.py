"""Change fan-out: wake ``WatchCart`` streams when a cart version is committed.

``CartHub`` lives on the server's event loop. Mutations served by this process
publish their change directly (the watcher needs no database read); with
PostgreSQL, ``PgListener`` holds one ``LISTEN omnifit_cart`` connection in a
thread and hands every ``<cart_id>:<version>`` notification (from any replica,
this one included) to the loop, where watchers that are behind read the stored
changes. After the listener reconnects every watcher re-reads, so a notification
lost while it was down delays a change but never drops it.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from cloud.domain.types import CartChange

_LOGGER = logging.getLogger(__name__)
NOTIFY_CHANNEL = "omnifit_cart"


@dataclass(eq=False)
class Subscription:
    """One watcher's mailbox: the newest version it heard of and the changes handed over in-process."""

    cart_id: str
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

    @contextlib.contextmanager
    def subscribe(self, cart_id: str) -> Iterator[Subscription]:
        sub = Subscription(cart_id)
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

    @property
    def watcher_count(self) -> int:
        return sum(len(subs) for subs in self._subscriptions.values())


def parse_payload(payload: str) -> tuple[str, int] | None:
    cart_id, _, version = payload.rpartition(":")
    try:
        return cart_id, int(version)
    except ValueError:
        return None


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
                    parsed = parse_payload(notify.payload)
                    if parsed is not None:
                        self._loop.call_soon_threadsafe(self._hub.publish, *parsed)
