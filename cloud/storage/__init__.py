"""Storage of the cloud service: schema, migrations, catalog seeding and the ``Database`` handle.

``open_database(url)`` is the one way in: it creates the engine, upgrades the
schema to the newest Alembic revision and seeds the catalog when the stores
table is empty, all in one write transaction so concurrent replicas agree.
"""
from __future__ import annotations

from pathlib import Path

from cloud.storage.database import DEFAULT_POOL_SIZE, Database, create_engine, is_unavailable, normalise_url
from cloud.storage.schema import metadata

__all__ = ["DEFAULT_POOL_SIZE", "Database", "create_engine", "is_unavailable", "metadata", "normalise_url", "open_database"]


def open_database(url: str, *, seed_folder: Path | None = None, pool_size: int = DEFAULT_POOL_SIZE) -> Database:
    """Open ``url``, migrate it to head and seed the catalog from ``seed_folder`` if it has no stores.

    ``seed_folder`` defaults to ``assets/catalog``.
    """
    from assets.catalog.seed import load_seed
    from cloud.storage.migrate import upgrade_to_head
    from cloud.storage.seeding import is_seeded, seed_catalog

    database = Database(create_engine(url, pool_size=pool_size), pool_size=pool_size)
    try:
        with database.write() as conn:
            upgrade_to_head(conn)
            if not is_seeded(conn):
                seed_catalog(conn, load_seed(seed_folder))
    except BaseException:
        database.close()
        raise
    return database
