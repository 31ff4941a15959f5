"""How a migrated database differs from a model: Alembic's autogenerate comparison, for migration tests."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def schema_diff(url: str, metadata: sa.MetaData) -> list:
    """What the database at ``url`` lacks or has otherwise than ``metadata``'s tables (others are ignored)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: kind != "table" or name in metadata.tables,
            })
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()
