"""Revision 0003_face_pay builds the biometric tables and the audit log exactly as ``payments`` models
them (and adopts the ones ``omnifit face`` made first), so replicas that start together never race to
create them."""
from __future__ import annotations

from cloud.storage import open_database
from omnifit.db.schema import metadata
from payments.audit import AuditLog, audit_log_table
from payments.face.keys import KeyEncryptionKey, KeyRing
from payments.face.store import TABLES as FACE_TABLES
from payments.face.store import FaceTemplateStore
from tests.schema import schema_diff


def test_migration_builds_the_face_and_audit_models(db_url: str) -> None:
    open_database(db_url).close()
    assert schema_diff(db_url, metadata, tables=(*FACE_TABLES, audit_log_table)) == []


def test_migration_adopts_face_tables_made_by_the_face_command(sqlite_url: str) -> None:
    store = FaceTemplateStore(sqlite_url, KeyRing.single(KeyEncryptionKey.generate()))
    store.audit.append("face.test", "subject")
    store.close()
    open_database(sqlite_url).close()
    assert schema_diff(sqlite_url, metadata, tables=FACE_TABLES) == []
    log = AuditLog(sqlite_url)
    assert log.verify().ok and log.verify().entries == 1
    log.close()
