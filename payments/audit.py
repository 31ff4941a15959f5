"""Append-only, hash-chained audit log for face pay and payments.

Every entry stores ``entry_hash = SHA-256(canonical JSON of (seq, recorded_at, event,
subject, details, prev_hash))`` and the hash of the entry before it, so
:meth:`AuditLog.verify` finds any entry that was edited (its hash no longer matches),
deleted (a gap in ``seq`` or a broken ``prev_hash`` link) or moved (broken links).
Cutting entries off the end leaves a valid shorter chain: compare
:attr:`AuditVerification.head_hash` / ``entries`` with a copy kept elsewhere (an
anchor) to catch that.

Details must be plain JSON values (str, int, float, bool, None, lists, dicts); bytes
and arrays are refused so that no biometric sample or image can slip into the log.

Storage is SQLAlchemy Core on the database's one :data:`omnifit.db.schema.metadata` (table
``payments_audit_log``), on SQLite and PostgreSQL. Concurrent writers are serialised by
the primary key on ``seq``: a writer that loses the race retries on the new head.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnifit.db.schema import metadata
from payments.errors import AuditError

_LOGGER = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
T = TypeVar("T")
_APPEND_RETRIES = 8

audit_log_table = sa.Table(
    "payments_audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=False),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("event", sa.String(80), nullable=False, index=True),
    sa.Column("subject", sa.String(200), nullable=False, index=True),
    sa.Column("details", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False, unique=True),
)


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    """One recorded event. ``details`` are plain JSON values; hashes are hex SHA-256."""

    seq: int
    recorded_at: str
    event: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclasses.dataclass(frozen=True)
class AuditVerification:
    """The result of walking the chain.

    ``ok`` is False at the first broken entry: ``first_bad_seq`` names it (the seq
    where a gap starts when entries were deleted) and ``problem`` says what is wrong.
    ``head_hash`` is the hash of the last entry checked (keep it elsewhere as an anchor).
    """

    ok: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _canonical_details(details: Mapping[str, Any]) -> str:
    """Canonical JSON text of ``details``; refuses anything that is not plain JSON."""
    if not isinstance(details, Mapping):
        raise AuditError(f"audit details must be a mapping; got {type(details).__name__}", field="details")
    try:
        return json.dumps(dict(details), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AuditError(
            f"audit details must be plain JSON values (no bytes, arrays or NaN): {exc}", field="details"
        ) from exc


def compute_entry_hash(
    seq: int, recorded_at: str, event: str, subject: str, details_json: str, prev_hash: str
) -> str:
    """Hex SHA-256 over the canonical JSON of one entry's fields and its predecessor's hash."""
    body = json.dumps(
        [seq, recorded_at, event, subject, details_json, prev_hash], separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditLog:
    """The audit log on one database. Thread-safe and multi-process-safe through the database.

    Parameters
    ----------
    engine : a SQLAlchemy engine, or a database URL.
    clock : returns the current time (timezone-aware); tests inject a fixed clock.
    """

    def __init__(self, engine: Engine | str, *, clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self._owns_engine = isinstance(engine, str)
        self.engine = sa.create_engine(engine) if isinstance(engine, str) else engine
        self._clock = clock
        metadata.create_all(self.engine, tables=[audit_log_table], checkfirst=True)

    def close(self) -> None:
        """Release the connections of an engine this log created from a URL."""
        if self._owns_engine:
            self.engine.dispose()

    def append(self, event: str, subject: str, details: Mapping[str, Any] | None = None) -> AuditEntry:
        """Record one event about ``subject`` (a shopper id, an intent id, a key id...).

        Raises :class:`AuditError` for an empty event/subject or non-JSON details.
        """
        if not event or not isinstance(event, str):
            raise AuditError(f"audit event must be a non-empty string; got {event!r}", field="event")
        if not isinstance(subject, str) or not subject:
            raise AuditError(f"audit subject must be a non-empty string; got {subject!r}", field="subject")
        details_json = _canonical_details(details or {})
        try:
            return self.transaction(lambda conn: self._append_in(conn, event, subject, details_json))
        except sa.exc.SQLAlchemyError as exc:
            raise AuditError(f"could not append {event!r} to the audit log: {exc}") from exc

    def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one transaction, re-run when a concurrent writer took the audit head.

        ``work`` may call :meth:`append_in` so a change and its audit entry commit together;
        it must be safe to run again (it sees a fresh transaction each time). A conflict
        that persists after the retries surfaces as the original database error.
        """
        for attempt in range(_APPEND_RETRIES):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
                retryable = isinstance(exc, sa.exc.IntegrityError) or "locked" in str(exc.orig)
                if not retryable or attempt == _APPEND_RETRIES - 1:
                    raise
                _LOGGER.debug("transaction lost a race (attempt %d): %s; retrying", attempt + 1, exc.orig)
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def append_in(self, conn: Connection, event: str, subject: str, details: Mapping[str, Any] | None = None) -> AuditEntry:
        """Like :meth:`append`, inside the caller's transaction so the entry commits with its change."""
        return self._append_in(conn, event, subject, _canonical_details(details or {}))

    def _append_in(self, conn: Connection, event: str, subject: str, details_json: str) -> AuditEntry:
        head = conn.execute(
            sa.select(audit_log_table.c.seq, audit_log_table.c.entry_hash)
            .order_by(audit_log_table.c.seq.desc())
            .limit(1)
        ).first()
        seq = 1 if head is None else int(head.seq) + 1
        prev_hash = GENESIS_HASH if head is None else head.entry_hash
        recorded_at = self._clock().astimezone(dt.UTC).isoformat(timespec="microseconds")
        entry_hash = compute_entry_hash(seq, recorded_at, event, subject, details_json, prev_hash)
        conn.execute(
            audit_log_table.insert().values(
                seq=seq,
                recorded_at=recorded_at,
                event=event,
                subject=subject,
                details=details_json,
                prev_hash=prev_hash,
                entry_hash=entry_hash,
            )
        )
        return AuditEntry(seq, recorded_at, event, subject, json.loads(details_json), prev_hash, entry_hash)

    def entries(self, *, subject: str | None = None, event: str | None = None) -> Iterator[AuditEntry]:
        """Entries in chain order, optionally only those about ``subject`` and/or of kind ``event``."""
        query = sa.select(audit_log_table).order_by(audit_log_table.c.seq)
        if subject is not None:
            query = query.where(audit_log_table.c.subject == subject)
        if event is not None:
            query = query.where(audit_log_table.c.event == event)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield _entry_from_row(row)

    def verify(self) -> AuditVerification:
        """Walk the whole chain and report the first edited, deleted or moved entry."""
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        query = sa.select(audit_log_table).order_by(audit_log_table.c.seq)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                problem = _check_row(row, expected_seq, prev_hash)
                if problem is not None:
                    return AuditVerification(False, count, prev_hash, first_bad_seq=expected_seq, problem=problem)
                expected_seq, prev_hash, count = expected_seq + 1, row.entry_hash, count + 1
        return AuditVerification(True, count, prev_hash)


def _check_row(row: Any, expected_seq: int, prev_hash: str) -> str | None:
    """What is wrong with ``row`` as the next link of the chain, or None."""
    if int(row.seq) != expected_seq:
        return f"entry seq {expected_seq} is missing (next stored entry is seq {row.seq}): entries were deleted"
    if row.prev_hash != prev_hash:
        return (
            f"entry seq {row.seq} links to {row.prev_hash[:12]}…, expected {prev_hash[:12]}… "
            "(an entry before it was deleted, replaced or moved)"
        )
    recomputed = compute_entry_hash(
        int(row.seq), row.recorded_at, row.event, row.subject, row.details, row.prev_hash
    )
    if recomputed != row.entry_hash:
        return f"entry seq {row.seq} ({row.event}) was edited: its content no longer matches its hash"
    return None


def _entry_from_row(row: Any) -> AuditEntry:
    return AuditEntry(
        int(row.seq), row.recorded_at, row.event, row.subject, json.loads(row.details), row.prev_hash, row.entry_hash
    )
