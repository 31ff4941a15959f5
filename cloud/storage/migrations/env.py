"""Alembic environment for the one database (``omnifit.db.schema.metadata``: cloud, payments, face, audit).

``cloud.storage.migrate`` hands over an open connection in ``config.attributes``;
run standalone, the URL comes from ``sqlalchemy.url`` or ``OMNIFIT_DB_URL``.
"""
from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from cloud.storage.database import create_engine
from cloud.storage.schema import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("OMNIFIT_DB_URL", "sqlite:///./var/omnifit.sqlite")
    engine = create_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `omnifit admin migrate --db URL`")
run_migrations()
