"""Engines, transactions and the worker pool that keeps database work off the event loop.

SQLite runs in WAL mode with a busy timeout and foreign keys on (``omnifit.db.sqlite``, shared
with payments); a write transaction starts with ``BEGIN IMMEDIATE`` and writers inside one process queue
on a lock rather than in SQLite's sleeping busy handler; the service's writes go
through one thread that commits those queued together (``group_commit``). PostgreSQL goes through
psycopg 3 with a sized connection pool; writers lock the cart row they change. Cart mutations
(``run_batched``) are group-committed on PostgreSQL too, locking with ``NOWAIT`` inside a batch.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.compiler import SQLCompiler

from cloud.errors import InvalidArgument
from cloud.storage import schema
from cloud.storage.group_commit import GroupCommitter
from omnifit.db.sqlite import WRITE_OPTION, create_sqlite_engine

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_POOL_SIZE = 8
PG_MAX_BATCH = 32  # a failed write sends its whole batch down the slow path: keep batches modest
# Several batches at once: a batch waits on round trips and its COMMIT's WAL flush.
PG_WRITER_THREADS = 3
POOL_APPLICATION_NAME = "omnifit"  # pool connections show as omnifit-<pid> in pg_stat_activity
_PYFORMAT_PARAM = re.compile(r"%\((\w+)\)s")


def normalise_url(url: str) -> sa.URL:
    """Parse a database URL; PostgreSQL always goes through psycopg 3."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidArgument(f"db_url {url!r} is not a database URL", field="db_url") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise InvalidArgument(f"db_url scheme {parsed.drivername!r}; expected sqlite:/// or postgresql+psycopg://", field="db_url")
    if not parsed.database or parsed.database == ":memory:":
        raise InvalidArgument("db_url must name a SQLite file (several connections share it), not :memory:", field="db_url")
    return parsed


def create_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """An engine for ``url`` with pool and connection settings for this service."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_sqlite_engine(parsed, busy_timeout_ms=10_000, pool_size=pool_size, max_overflow=2)
    # No pre-ping (a round trip per transaction): a dropped connection fails the
    # request holding it (UNAVAILABLE, so the caller retries), its rollback on return
    # fails too and the pool discards it.
    return sa.create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=2 + PG_WRITER_THREADS,  # the writer threads take one each per batch, beside the pool's threads
        pool_recycle=1800,
        connect_args={"application_name": f"{POOL_APPLICATION_NAME}-{os.getpid()}"},
    )


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable or busy (worth a retry), not a bug."""
    import sqlite3

    if isinstance(exc, sa.exc.DBAPIError):
        exc = exc.orig or exc
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.OperationalError)


def lock_key_for_transaction(conn: Connection, space: int, key: str) -> None:
    """Hold PostgreSQL's advisory lock on (``space``, ``key``) until ``conn``'s transaction ends,
    so transactions about the same key (an account, a kiosk) run one at a time; on SQLite the
    write transaction already holds the database's one write lock, so nothing is needed."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": space, "key": key})


@functools.lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> type:
    return collections.namedtuple("Row", names)


def _named_rows(cursor: Any) -> list[Any]:
    row_type = _row_type(tuple(d[0] for d in cursor.description))
    return [row_type(*row) for row in cursor.fetchall()]


_POSTGRES_COLUMNS: dict[str, tuple[str, ...]] = {}  # SQL -> its result column names


def _postgres_rows(driver: Any, sql: str, values: Mapping[str, object]) -> list[Any]:
    """Execute on a psycopg connection; named-tuple rows, column names learnt once per SQL.

    (psycopg builds a fresh ``description`` on every access; for the wide cart query
    that was a noticeable share of a mutation's CPU.)
    """
    from psycopg.pq import ExecStatus

    with driver.cursor() as cursor:
        cursor.execute(sql, values)
        if cursor.pgresult is None or cursor.pgresult.status != ExecStatus.TUPLES_OK:
            return []
        names = _POSTGRES_COLUMNS.get(sql)
        if names is None:
            names = _POSTGRES_COLUMNS[sql] = tuple(column.name for column in cursor.description)
        row_type = _row_type(names)
        return [row_type(*row) for row in cursor.fetchall()]


class Database:
    """An engine plus the bounded thread pool that runs its blocking work for asyncio callers."""

    def __init__(self, engine: Engine, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.engine = engine
        self.url = engine.url
        self.is_postgres = engine.dialect.name == "postgresql"
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="omnifit-db")
        self._write_lock = threading.Lock() if not self.is_postgres else None
        # SQLite has one writer at a time: one thread runs the writes, those queued
        # meanwhile in one transaction (see ``group_commit``). On PostgreSQL that thread
        # runs the cart mutations (``run_batched``); other writers run on the pool, each
        # in its own transaction, locking the rows it changes.
        self._committer = (
            GroupCommitter(self._transaction, PG_MAX_BATCH, threads=PG_WRITER_THREADS, savepoints=False,
                           executor=self._executor)
            if self.is_postgres else GroupCommitter(self._transaction)
        )
        self._settings: dict[str, str] = {}
        self._combined: dict[tuple[tuple[sa.Executable, tuple[str, ...]], ...], str] = {}
        self._compiled: dict[tuple[sa.Executable, tuple[str, ...]], tuple[str, dict[str, object], tuple[str, ...]]] = {}

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One short write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success.

        On a group-committing writer thread it is one write of the running batch (see ``group_commit``).
        """
        if self._committer.in_batch:
            with self._committer.write() as batch:
                yield batch
            return
        with self._transaction() as conn:
            yield conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        lock = self._write_lock or contextlib.nullcontext()
        with lock, self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction, rolled back at the end (on the writer thread: the batch's, seeing its writes)."""
        batch = self._committer.connection
        if batch is not None:
            yield batch
            return
        with self.engine.connect() as conn:
            yield conn

    def write_engine(self) -> Engine:
        """This engine (same pool, same connection settings) with every transaction a write one
        (``BEGIN IMMEDIATE`` on SQLite), for code that opens its own transactions: payments."""
        return self.engine.execution_options(**{WRITE_OPTION: True})

    def lock_for_update(self, query: sa.Select[Any], of: sa.Table | None = None, nowait: bool = False) -> sa.Select[Any]:
        """``SELECT ... FOR UPDATE [OF of] [NOWAIT]`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers.

        Inside a batch (``in_batch``) locks must be taken ``NOWAIT`` (see ``group_commit``).
        """
        return query.with_for_update(of=of, nowait=nowait) if self.is_postgres else query

    @property
    def in_batch(self) -> bool:
        """Whether this thread is running a write inside a group-committed batch."""
        return self._committer.in_batch

    def execute(self, conn: Connection, statement: sa.Executable, params: Mapping[str, object]) -> list[Any]:
        """Run one hot-path statement inside ``conn``'s transaction; its rows (attribute access by name).

        The statement is a Core statement compiled to driver SQL once and run on the
        driver's cursor, which skips SQLAlchemy's per-call execution work.
        """
        sql, defaults, positions = self._driver_sql(statement, tuple(params))
        values = {**defaults, **params}
        driver = conn.connection.driver_connection
        assert driver is not None  # a connection in a transaction has its driver connection
        if self.is_postgres:
            return _postgres_rows(driver, sql, values)
        cursor = driver.cursor()
        try:
            cursor.execute(sql, [values[name] for name in positions])
            return _named_rows(cursor) if cursor.description else []
        finally:
            cursor.close()

    def execute_writes(self, conn: Connection, writes: Sequence[tuple[sa.Executable, Mapping[str, object]]]) -> list[Any]:
        """Run writes that touch different rows; the rows the last one returns.

        On PostgreSQL they travel as ONE statement (each but the last in a
        data-modifying ``WITH``), so a mutation's writes cost one round trip; they
        then all see the same snapshot, which is why no write may depend on
        another's effect. SQLite runs them in turn.
        """
        self._committer.note_sent()
        if not self.is_postgres or len(writes) == 1:
            rows: list[Any] = []
            for statement, params in writes:
                rows = self.execute(conn, statement, params)
            return rows
        sql = self._combined_sql(writes)
        values: dict[str, object] = {}
        for index, (statement, params) in enumerate(writes):
            defaults = self._driver_sql(statement, tuple(params))[1]
            values.update({f"w{index}_{key}": value for key, value in {**defaults, **params}.items()})
        return _postgres_rows(conn.connection.driver_connection, sql, values)

    def _combined_sql(self, writes: Sequence[tuple[sa.Executable, Mapping[str, object]]]) -> str:
        cache_key = tuple((statement, tuple(params)) for statement, params in writes)
        sql = self._combined.get(cache_key)
        if sql is None:
            parts = [
                _PYFORMAT_PARAM.sub(rf"%(w{index}_\1)s", self._driver_sql(statement, tuple(params))[0])
                for index, (statement, params) in enumerate(writes)
            ]
            sql = "WITH " + ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts[:-1])) + " " + parts[-1]
            self._combined[cache_key] = sql
        return sql

    def _driver_sql(self, statement: sa.Executable, keys: tuple[str, ...]) -> tuple[str, dict[str, object], tuple[str, ...]]:
        """Driver SQL, default parameters and (for positional drivers) parameter order.

        An INSERT names only the columns given, as Core does.
        """
        cache_key = (statement, keys if isinstance(statement, sa.Insert) else ())
        cached = self._compiled.get(cache_key)
        if cached is None:
            column_keys = list(keys) if isinstance(statement, sa.Insert) else None
            # Every statement run here is Core SQL, which compiles to a SQLCompiler.
            compiled = cast(SQLCompiler, cast(sa.ClauseElement, statement).compile(dialect=self.engine.dialect, column_keys=column_keys))
            cached = (str(compiled), dict(compiled.params), tuple(compiled.positiontup or ()))
            self._compiled[cache_key] = cached
        return cached

    def setting(self, key: str) -> str:
        """A value from the settings table, cached for the life of this process."""
        if key not in self._settings:
            with self.read() as conn:
                value = conn.execute(sa.select(schema.settings.c.value).where(schema.settings.c.key == key)).scalar()
            if value is None:
                raise LookupError(f"setting {key!r} is missing; run `omnifit admin migrate`")
            self._settings[key] = value
        return self._settings[key]

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run blocking ``fn(*args, **kwargs)`` (reads) on the database worker pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def run_write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run blocking ``fn(*args, **kwargs)`` that writes: on SQLite's group-committing writer thread, else the pool."""
        if not self.is_postgres:
            result: T = await self._committer.submit(functools.partial(fn, *args, **kwargs))
            return result
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def run_batched(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run blocking ``fn(*args, **kwargs)`` that writes on the group-committing writer thread (SQLite and
        PostgreSQL). ``fn`` must lock rows with ``lock_for_update(..., nowait=self.in_batch)`` and send its
        changes with ``execute_writes`` (see ``group_commit``): on PostgreSQL a batch where a write fails
        after sending changes, or meets a lock, is rolled back and its writes run again one by one."""
        result: T = await self._committer.submit(functools.partial(fn, *args, **kwargs))
        return result

    def close(self) -> None:
        self._committer.close()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()
