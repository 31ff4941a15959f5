"""Storage: migrations build exactly the schema model, seeding happens once, settings are shared."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from assets.catalog.seed import load_seed
from cloud.errors import InvalidArgument
from cloud.storage import Database, metadata, open_database, schema
from cloud.storage.migrate import alembic_config, head_revision


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Compare only the cloud's tables; later revisions (payments) add their own."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name in metadata.tables


def test_migration_builds_the_model_exactly(database: Database) -> None:
    with database.read() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _ours})
        diff = compare_metadata(context, metadata)
        revision = MigrationContext.configure(conn).get_current_revision()
    assert diff == []
    assert revision == head_revision()
    history = ScriptDirectory.from_config(alembic_config()).walk_revisions()
    assert [script.revision for script in history][-1] == "0001_initial"


def test_stock_table_has_the_shape_payments_relies_on(database: Database) -> None:
    columns = {c["name"]: c for c in sa.inspect(database.engine).get_columns("stock")}
    assert list(columns) == ["store_id", "sku", "on_hand"]
    assert sa.inspect(database.engine).get_pk_constraint("stock")["constrained_columns"] == ["store_id", "sku"]


def test_catalog_is_seeded_once_and_holds_no_signing_secret(db_url: str, database: Database) -> None:
    seed = load_seed()
    with database.read() as conn:
        counts = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (schema.stores, schema.products, schema.variants, schema.stock)
        }
    assert counts == {
        "stores": len(seed.stores), "products": len(seed.products), "variants": len(seed.variants()), "stock": len(seed.stock)
    }
    again = open_database(db_url, pool_size=1)
    try:
        with again.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.stores)).scalar_one() == len(seed.stores)
            # The token-signing key lives in a key file or the environment (cloud.domain.token_keys), not here.
            assert conn.execute(sa.select(schema.settings.c.key).where(schema.settings.c.key == "token_secret")).first() is None
    finally:
        again.close()


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    db = open_database(sqlite_url, pool_size=1)
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        db.close()


def test_failed_write_changes_nothing(database: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        with database.write() as conn:
            conn.execute(schema.settings.insert().values(key="probe", value="1"))
            conn.execute(schema.stock.insert().values(store_id="no-such-store", sku="no-such-sku", on_hand=1))
    with database.read() as conn:
        assert conn.execute(sa.select(schema.settings.c.value).where(schema.settings.c.key == "probe")).first() is None


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:///:memory:", "not a url"])
def test_unsupported_urls_are_refused_naming_the_field(url: str) -> None:
    with pytest.raises(InvalidArgument, match="db_url"):
        open_database(url)
