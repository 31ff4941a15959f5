"""The client's local SQLite file: the outbox of mutations made while offline, and the catalog cache.

Mutations are kept as serialized requests with their idempotency keys, replayed in
order, and deleted only once the cloud has answered; a replay that the cloud refuses
for good moves to ``dead_letters`` with the reason, so nothing is lost silently.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cart_id TEXT NOT NULL,
    method TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY,
    cart_id TEXT NOT NULL,
    method TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request BLOB NOT NULL,
    reason TEXT NOT NULL,
    failed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_cache (
    cache_key TEXT PRIMARY KEY,
    payload BLOB NOT NULL,
    stored_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    cart_id: str
    method: str
    idempotency_key: str
    request: bytes


class LocalStore:
    """One SQLite file (``:memory:`` for a client that keeps nothing across restarts)."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    def enqueue(self, cart_id: str, method: str, idempotency_key: str, request: bytes) -> int:
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO outbox (cart_id, method, idempotency_key, request, created_at) VALUES (?, ?, ?, ?, ?)",
                (cart_id, method, idempotency_key, request, time.time()),
            )
            assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
            return cursor.lastrowid

    def pending(self) -> list[OutboxEntry]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, cart_id, method, idempotency_key, request FROM outbox ORDER BY seq"
            ).fetchall()
        return [OutboxEntry(*row) for row in rows]

    def pending_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def done(self, seq: int) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def dead_letter(self, entry: OutboxEntry, reason: str) -> None:
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.execute(
                "INSERT INTO dead_letters (seq, cart_id, method, idempotency_key, request, reason, failed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entry.seq, entry.cart_id, entry.method, entry.idempotency_key, entry.request, reason, time.time()),
            )
            self._conn.execute("DELETE FROM outbox WHERE seq = ?", (entry.seq,))
            self._conn.execute("COMMIT")

    def dead_letters(self) -> list[tuple[OutboxEntry, str]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, cart_id, method, idempotency_key, request, reason FROM dead_letters ORDER BY seq"
            ).fetchall()
        return [(OutboxEntry(*row[:5]), row[5]) for row in rows]

    def cache_put(self, key: str, payload: bytes) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO catalog_cache (cache_key, payload, stored_at) VALUES (?, ?, ?)",
                (key, payload, time.time()),
            )

    def cache_get(self, key: str, max_age_s: float | None = None) -> bytes | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT payload, stored_at FROM catalog_cache WHERE cache_key = ?", (key,)
            ).fetchone()
        if row is None or (max_age_s is not None and time.time() - row[1] > max_age_s):
            return None
        return bytes(row[0])
