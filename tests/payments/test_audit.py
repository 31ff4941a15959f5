"""The hash-chained audit log: appends, chain verification, tamper detection, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa

from payments.audit import GENESIS_HASH, AuditLog, audit_log_table
from payments.errors import AuditError


@pytest.fixture
def log(db_url: str) -> Iterator[AuditLog]:
    audit = AuditLog(db_url)
    for index in range(5):
        audit.append("face.match_attempt", f"shopper-{index}", {"result": "no_match", "distance": 0.7 + index / 100})
    yield audit
    audit.close()


@pytest.fixture
def empty_log(sqlite_url: str) -> Iterator[AuditLog]:
    audit = AuditLog(sqlite_url)
    yield audit
    audit.close()


def _execute(audit: AuditLog, statement: sa.Executable) -> None:
    with audit.engine.begin() as conn:
        conn.execute(statement)


def test_append_links_each_entry_to_the_one_before(log: AuditLog) -> None:
    entries = list(log.entries())
    assert [entry.seq for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:]):
        assert after.prev_hash == before.entry_hash
    result = log.verify()
    assert result.ok and result.entries == 5 and result.head_hash == entries[-1].entry_hash


def test_entries_filter_by_subject_and_event(log: AuditLog) -> None:
    log.append("face.deleted", "shopper-2", {"reason": "request"})
    assert [entry.event for entry in log.entries(subject="shopper-2")] == ["face.match_attempt", "face.deleted"]
    assert [entry.seq for entry in log.entries(event="face.deleted")] == [6]


def test_edited_entry_is_detected(log: AuditLog) -> None:
    _execute(log, audit_log_table.update().where(audit_log_table.c.seq == 3).values(details='{"result":"match"}'))
    result = log.verify()
    assert not result.ok
    assert result.first_bad_seq == 3 and "edited" in result.problem


def test_edit_with_recomputed_hash_breaks_the_next_link(log: AuditLog) -> None:
    _execute(log, audit_log_table.update().where(audit_log_table.c.seq == 2).values(entry_hash="f" * 64))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_deleted_entry_is_detected(log: AuditLog) -> None:
    _execute(log, audit_log_table.delete().where(audit_log_table.c.seq == 4))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 4 and "deleted" in result.problem


def test_reordered_entries_are_detected(log: AuditLog) -> None:
    with log.engine.connect() as conn:
        rows = {row.seq: row for row in conn.execute(sa.select(audit_log_table))}
    swap = {2: rows[3], 3: rows[2]}
    for seq, row in swap.items():
        values = {key: getattr(row, key) for key in ("recorded_at", "event", "subject", "details", "prev_hash")}
        _execute(log, audit_log_table.update().where(audit_log_table.c.seq == seq).values(**values, entry_hash=f"{seq}" * 64))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 2


@pytest.mark.parametrize(
    "details",
    [{"embedding": np.zeros(128, dtype=np.float32)}, {"image": b"\xff\xd8"}, {"distance": float("nan")}, ["x"]],
)
def test_non_json_details_are_refused_and_nothing_is_written(empty_log: AuditLog, details: object) -> None:
    log = empty_log
    with pytest.raises(AuditError, match="details"):
        log.append("face.enrolled", "shopper-1", details)  # type: ignore[arg-type]
    assert list(log.entries()) == []


def test_empty_event_or_subject_is_refused(empty_log: AuditLog) -> None:
    log = empty_log
    with pytest.raises(AuditError, match="event"):
        log.append("", "shopper-1", {})
    with pytest.raises(AuditError, match="subject"):
        log.append("face.enrolled", "", {})


def test_time_comes_from_the_clock_and_is_part_of_the_hash(sqlite_url: str) -> None:
    fixed = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    log = AuditLog(sqlite_url, clock=lambda: fixed)
    entry = log.append("face.key_rotated", "kek-1", {"rewrapped": 3})
    assert entry.recorded_at == "2026-11-27T12:00:00.000000+00:00"
    _execute(log, audit_log_table.update().values(recorded_at="2026-11-27T13:00:00.000000+00:00"))
    assert not log.verify().ok
    log.close()


def test_concurrent_writers_keep_one_unbroken_chain(db_url: str) -> None:
    log = AuditLog(db_url)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            other = AuditLog(db_url)
            for index in range(10):
                other.append("payment.authorized", f"intent-{worker}-{index}", {"amount_minor": 100})
            other.close()
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = log.verify()
    log.close()
    assert result.ok and result.entries == 30
