"""SQLite engine settings shared by the cloud service and payments, so both open a database file alike.

WAL (readers never block the writer), ``synchronous=NORMAL`` (with WAL, a power cut loses at most the
last transactions, never the file), a busy timeout, foreign keys on, and write transactions that
begin ``IMMEDIATE``: they take the write lock at ``BEGIN``, so two writers never deadlock upgrading a
read lock half way. The cloud marks its write transactions with the :data:`WRITE_OPTION` execution
option (reads then begin deferred); payments writes in every transaction and begins them all so.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

_LOGGER = logging.getLogger(__name__)
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
    private_database_file(Path(url.database))
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **engine_args)
    configure_sqlite(engine, busy_timeout_ms=busy_timeout_ms, always_write=always_write)
    return engine


def private_database_file(path: Path) -> Path:
    """Create the database file ``path`` (and its folder) readable by its owner only, or make an existing one so.

    The database holds password hashes, payment records and face-pay data: a file others can read
    leaks them. SQLite creates the ``-wal``, ``-shm`` and ``-journal`` files with the database file's
    permissions, so they follow it. An existing file (or companion) more open than 0600 is narrowed,
    with a warning: nothing the service runs needs others to read it.
    """
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return path
    except FileExistsError:
        pass
    for companion in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        try:
            mode = companion.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(companion, 0o600)
                _LOGGER.warning("database file %s was readable by others (mode %o); set to 0600", companion, mode)
        except FileNotFoundError:
            continue
        except PermissionError:
            _LOGGER.warning("database file %s is readable by others and not ours to narrow; chmod 600 it", companion)
    return path


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
