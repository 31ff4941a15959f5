"""Alembic revision 0002_payments builds exactly ``payments.storage``'s tables on top of the cloud schema,
adopts tables that ``create_schema`` made first, and makes the ledger append-only in the database."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cloud.storage import open_database
from omnifit.db.schema import metadata
from payments import ledger
from payments.money import Money
from payments.storage import TABLES, create_engine, create_schema
from tests.schema import schema_diff


def test_migration_builds_the_payments_model(db_url: str) -> None:
    open_database(db_url).close()
    assert schema_diff(db_url, metadata, tables=TABLES) == []


def test_migration_adopts_tables_made_by_create_schema(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    create_schema(engine)
    engine.dispose()
    open_database(sqlite_url).close()
    assert schema_diff(sqlite_url, metadata, tables=TABLES) == []


def test_ledger_is_append_only_in_the_database(db_url: str) -> None:
    open_database(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        ledger.post_entry(conn, kind=ledger.EntryKind.CAPTURE, memo="sale", now_ms=1, postings=[
            ledger.Posting("gateway_clearing:sandbox", Money(100, "CNY")),
            ledger.Posting("store_revenue:sh-jingan", Money(-100, "CNY"))])
    for statement in ("UPDATE ledger_postings SET amount_minor = 1", "DELETE FROM ledger_postings",
                      "UPDATE ledger_entries SET memo = 'edited'", "DELETE FROM ledger_entries"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert ledger.check_books(conn).postings == 2
    engine.dispose()
