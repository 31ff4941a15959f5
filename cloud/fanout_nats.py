"""NATS as the cart fan-out: ``omnifit serve --fanout nats://HOST:PORT``.

PostgreSQL's ``NOTIFY`` makes every replica hear every cart's change through the one
database, and the notifying commits queue on one lock (see ``PgNotifier``). With a bus
the database only stores: a replica publishes ``<cart_id>:<version>`` on the subject of
the cart's shard (``omnifit.cart.<n>``, ``n = crc32(cart_id) % shards``) after the commit,
and every replica's subscription hands the announcements to its ``CartHub``, where
watchers that are behind read the stored changes.

The change log in the database stays the truth and the bus is only the wake-up:
announcements published while the bus is down are dropped by design (nats-py buffers a
little while reconnecting, and no more), and after every (re)connection the hub re-reads
all watchers, as it does after a LISTEN reconnect; in between, the watchers' periodic
re-read bounds the delay. A lost message costs a re-read, never a change.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

from cloud.fanout import CartHub, encode_payloads, parse_payload

_LOGGER = logging.getLogger(__name__)
SUBJECT_PREFIX = "omnifit.cart"
DEFAULT_SHARDS = 64


def shard_subject(cart_id: str, shards: int = DEFAULT_SHARDS) -> str:
    """The subject a cart's announcements go to."""
    return f"{SUBJECT_PREFIX}.{zlib.crc32(cart_id.encode('utf-8')) % shards}"


class NatsFanout:
    """Publishes committed versions to NATS and wakes ``hub`` with what any replica published.

    Runs on the server's event loop: ``notify`` is called there by the servicers (as
    ``PgNotifier.notify``); a task sends what was queued meanwhile, one message per shard.
    """

    def __init__(self, url: str, hub: CartHub, *, shards: int = DEFAULT_SHARDS, name: str = "omnifit") -> None:
        if not url.startswith(("nats://", "tls://")):
            raise ValueError(f"fanout {url!r}: expected nats://HOST:PORT")
        if not 1 <= shards <= 4096:
            raise ValueError(f"shards must be 1..4096; got {shards}")
        self.url = url
        self.shards = shards
        self._hub = hub
        self._name = name
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._nc: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self, connect_timeout_s: float = 2.0) -> None:
        """Connect (or keep trying in the background: the service serves without the bus, on polls)."""
        self._tasks.append(asyncio.get_running_loop().create_task(self._connect_until_up(connect_timeout_s)))
        self._tasks.append(asyncio.get_running_loop().create_task(self._publish_forever()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), connect_timeout_s)
        if not self.connected.is_set():
            _LOGGER.warning("NATS at %s not reachable yet; watchers poll the database until it is", self.url)

    def notify(self, cart_id: str, version: int) -> None:
        self._queue.put_nowait((cart_id, version))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def _connect_until_up(self, connect_timeout_s: float) -> None:
        import nats
        from nats.errors import NoServersError

        backoff = 0.2
        while self._nc is None:
            try:
                nc = await nats.connect(
                    servers=[self.url], name=self._name, no_echo=True, connect_timeout=connect_timeout_s,
                    allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=0.2,
                    disconnected_cb=self._disconnected, reconnected_cb=self._reconnected,
                    error_cb=self._error,
                )
            except (NoServersError, OSError, TimeoutError) as exc:
                _LOGGER.warning("NATS connect to %s failed (%s); retrying in %.1f s", self.url, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            await nc.subscribe(f"{SUBJECT_PREFIX}.*", cb=self._on_message)
            self._nc = nc
            self._up()

    def _up(self) -> None:
        self.connected.set()
        self._hub.resync_all()  # whatever was announced while we were away is read from the log

    async def _disconnected(self) -> None:
        self.connected.clear()
        _LOGGER.warning("NATS connection to %s lost; watchers poll the database until it is back", self.url)

    async def _reconnected(self) -> None:
        self.reconnects += 1
        _LOGGER.info("NATS reconnected to %s", self.url)
        self._up()

    async def _error(self, exc: Exception) -> None:
        _LOGGER.debug("NATS: %s", exc)

    async def _on_message(self, msg: Any) -> None:
        for cart_id, version in parse_payload(msg.data.decode("utf-8", "replace")):
            self._hub.publish(cart_id, version)

    async def _publish_forever(self) -> None:
        while True:
            burst = [await self._queue.get()]
            while not self._queue.empty():
                burst.append(self._queue.get_nowait())
            if self._nc is None or not self.connected.is_set():
                continue  # dropped: the watchers' re-read after the reconnect finds these changes
            by_subject: dict[str, list[tuple[str, int]]] = {}
            for cart_id, version in burst:
                by_subject.setdefault(shard_subject(cart_id, self.shards), []).append((cart_id, version))
            try:
                for subject, entries in by_subject.items():
                    for payload in encode_payloads(entries):
                        await self._nc.publish(subject, payload.encode("utf-8"))
            except Exception as exc:  # noqa: BLE001 - a failed publish only delays the others' watchers
                _LOGGER.warning("NATS publish failed: %s", exc)
