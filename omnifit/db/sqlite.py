"""SQLite engine settings shared by the cloud service and payments, so both open a database file alike.

WAL (readers never block the writer), ``synchronous=NORMAL`` (with WAL, a power cut loses at most the
last transactions, never the file), a busy timeout, foreign keys on, and write transactions that
begin ``IMMEDIATE``: they take the write lock at ``BEGIN``, so two writers never deadlock upgrading a
read lock half way. The cloud marks its write transactions with the :data:`WRITE_OPTION` execution
option (reads then begin deferred); payments writes in every transaction and begins them all so.
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

WRITE_OPTION = "omnifit_write"
_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON")  # after busy_timeout: WAL may wait for a lock


def create_sqlite_engine(url: sa.URL, *, busy_timeout_ms: int, always_write: bool = False, **engine_args: object) -> Engine:
    """An engine on the SQLite file ``url`` names (its folder created), set up as the module docstring says.

    ``busy_timeout_ms``: how long a writer waits for another process's write lock before failing.
    ``always_write``: every transaction begins IMMEDIATE, not only those with :data:`WRITE_OPTION`.
    ``engine_args`` go to :func:`sqlalchemy.create_engine` (pool sizes).
    """
    if busy_timeout_ms < 0:
        raise ValueError(f"busy_timeout_ms must be >= 0; got {busy_timeout_ms}")
    if not url.database:
        raise ValueError(f"a SQLite URL names a file; got {url.render_as_string(hide_password=True)!r}")
    Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **engine_args)
    configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms, always_write=always_write)
    return engine


def configure_sqlite(engine: Engine, *, busy_timeout_ms: int, always_write: bool = False) -> None:
    """Set the pragmas on every new connection and begin write transactions IMMEDIATE (see the module docstring)."""
    pragmas = (f"busy_timeout={int(busy_timeout_ms)}", *_PRAGMAS)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = always_write or conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
