"""How a migrated database differs from a model: Alembic's autogenerate comparison, for migration tests."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def schema_diff(url: str, metadata: sa.MetaData, tables: Iterable[sa.Table] | None = None) -> list:
    """What the database at ``url`` lacks or has otherwise than ``metadata``'s tables, or only ``tables`` of
    it when given (other tables are ignored)."""
    names = {table.name for table in tables} if tables is not None else set(metadata.tables)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: kind != "table" or name in names,
                "include_object": lambda _obj, name, kind, _reflected, _other: kind != "table" or name in names,
            })
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()
