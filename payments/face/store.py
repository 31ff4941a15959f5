"""Encrypted face-template storage: consent records, sealed embeddings, KEK registry.

SQLAlchemy Core on the database's one :data:`omnifit.db.schema.metadata` (tables ``face_templates``,
``face_consents``, ``face_keys``), the same code on SQLite and PostgreSQL. What is
stored per enrolled shopper: the sealed 128-d embedding (never an image), the wrapped
data key and its KEK id, an HMAC bucket of the phone number's last 4 digits (keyed by
a secret salt that is itself wrapped by the KEK, so the 10 000 possible digit strings
cannot be tried offline from a stolen database), the payment-method token, and the
consent under which it was given. Every change writes its audit entry in the same
transaction, so a change and its record commit or fail together.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.engine import Connection, Engine

from omnifit.db.schema import metadata
from omnifit.errors import ErrorCode
from payments.audit import AuditLog
from payments.errors import ConsentError, EnrollmentError, KeyManagementError, TemplateNotFoundError
from payments.face import keys as keymod
from payments.face.identifiers import bucket_digits, check_shopper_id
from payments.face.keys import KeyEncryptionKey, KeyRing, SealedTemplate
from payments.tokens import check_payment_token

_LOGGER = logging.getLogger(__name__)

EMBEDDING_DIM = 128
PHONE_SALT_ID = "phone-bucket-salt"
MAX_RETENTION_DAYS = 3 * 365


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite keeps no zone; we store UTC)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; pass a timezone-aware time")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


face_keys = sa.Table(
    "face_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=True),
    sa.Column("wrapped_secret", sa.LargeBinary(), nullable=True),
    sa.Column("wrapped_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("retired_at", UTCDateTime(), nullable=True),
)

face_consents = sa.Table(
    "face_consents",
    metadata,
    sa.Column("consent_id", sa.String(40), primary_key=True),
    sa.Column("shopper_id", sa.String(64), nullable=False, index=True),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("text_version", sa.String(40), nullable=False),
    sa.Column("granted_at", UTCDateTime(), nullable=False),
    sa.Column("retention_days", sa.Integer(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("ended_reason", sa.String(40), nullable=True),
)

face_templates = sa.Table(
    "face_templates",
    metadata,
    sa.Column("template_id", sa.String(40), primary_key=True),
    sa.Column("shopper_id", sa.String(64), nullable=False, unique=True),
    sa.Column("consent_id", sa.String(40), sa.ForeignKey("face_consents.consent_id"), nullable=False),
    sa.Column("phone_bucket", sa.String(64), nullable=False, index=True),
    sa.Column("payment_token", sa.String(128), nullable=True),
    sa.Column("kek_id", sa.String(64), nullable=False, index=True),
    sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
    sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

# The face command's own tables, which it makes on a database of its own.
TABLES = (face_keys, face_consents, face_templates)


class Channel(str, enum.Enum):
    """Where consent was given."""

    KIOSK = "kiosk"
    APP = "app"


class DeletionReason(str, enum.Enum):
    REQUEST = "request"
    RETENTION = "retention"


@dataclasses.dataclass(frozen=True)
class Consent:
    """An explicit consent the shopper gave: what for, where, when, and for how long."""

    purpose: str
    channel: Channel
    retention_days: int
    granted_at: dt.datetime
    text_version: str = "face-pay-consent-v1"

    def __post_init__(self) -> None:
        if not self.purpose.strip():
            raise ConsentError("consent purpose must say what the face template is used for; got ''", field="purpose")
        if not isinstance(self.channel, Channel):
            raise ConsentError(
                f"consent channel must be one of {[c.value for c in Channel]}; got {self.channel!r}", field="channel"
            )
        if not 1 <= int(self.retention_days) <= MAX_RETENTION_DAYS:
            raise ConsentError(
                f"retention must be 1..{MAX_RETENTION_DAYS} days; got {self.retention_days}", field="retention_days"
            )
        if self.granted_at.tzinfo is None:
            raise ConsentError("consent time must be timezone-aware", field="granted_at")

    @property
    def expires_at(self) -> dt.datetime:
        return self.granted_at + dt.timedelta(days=int(self.retention_days))


@dataclasses.dataclass(frozen=True)
class Enrollment:
    """What is on record about a shopper's enrollment (never the embedding)."""

    shopper_id: str
    template_id: str
    consent_id: str
    channel: Channel
    purpose: str
    granted_at: dt.datetime
    expires_at: dt.datetime
    payment_token: str | None


@dataclasses.dataclass(frozen=True)
class StoredTemplate:
    """One decrypted template, held in memory only (see :mod:`payments.face.matching`)."""

    template_id: str
    shopper_id: str
    phone_bucket: str
    payment_token: str | None
    embedding: NDArray[Any]  # (128,) float64
    expires_at: dt.datetime


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _embedding_bytes(embedding: NDArray[Any]) -> bytes:
    vector = np.asarray(embedding, dtype="<f8")
    if vector.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(vector)):
        raise EnrollmentError(
            f"embedding must be ({EMBEDDING_DIM},) finite floats; got shape {vector.shape}", field="embedding"
        )
    return vector.tobytes()


class FaceTemplateStore:
    """Consent, enrollment, deletion, retention sweep and KEK rotation on one database.

    Parameters
    ----------
    engine : SQLAlchemy engine or URL.
    ring : the KEKs this process holds; its active key must be the database's active KEK
        (or the first one, on an empty database).
    clock : current time, timezone-aware.

    The audit log lives in the same database (``self.audit``) so that every change
    and its audit entry commit in one transaction.
    """

    def __init__(
        self,
        engine: Engine | str,
        ring: KeyRing,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._owns_engine = isinstance(engine, str)
        self.engine = sa.create_engine(engine) if isinstance(engine, str) else engine
        self.ring = ring
        self.clock = clock
        try:
            metadata.create_all(self.engine, tables=list(TABLES), checkfirst=True)
            self.audit = AuditLog(self.engine, clock=clock)
            with self.engine.begin() as conn:
                self._register_active_kek(conn)
                self._phone_salt = self._load_or_create_phone_salt(conn)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Release the connections of an engine this store created from a URL."""
        if self._owns_engine:
            self.engine.dispose()

    # ------------------------------------------------------------------ keys

    def _register_active_kek(self, conn: Connection) -> None:
        kek = self.ring.active
        rows = conn.execute(sa.select(face_keys).where(face_keys.c.purpose == "kek")).all()
        mine = next((row for row in rows if row.key_id == kek.key_id), None)
        if mine is not None:
            if mine.fingerprint != kek.fingerprint:
                raise KeyManagementError(
                    f"KEK {kek.key_id!r} does not match the key registered under that id (fingerprint "
                    f"{mine.fingerprint[:8]}…, given {kek.fingerprint[:8]}…)",
                    key_id=kek.key_id,
                )
            if mine.status != "active":
                raise KeyManagementError(
                    f"KEK {kek.key_id!r} was retired at {mine.retired_at:%Y-%m-%d %H:%M}Z; use the current key",
                    key_id=kek.key_id,
                )
            return
        active = [row.key_id for row in rows if row.status == "active"]
        if active:
            raise KeyManagementError(
                f"the database's active KEK is {active[0]!r}, this process holds {kek.key_id!r}; "
                "rotate keys with 'omnifit face rotate-key' instead of swapping them",
                key_id=kek.key_id,
            )
        conn.execute(
            face_keys.insert().values(
                key_id=kek.key_id, purpose="kek", status="active", fingerprint=kek.fingerprint, created_at=self.clock()
            )
        )

    def _load_or_create_phone_salt(self, conn: Connection) -> bytes:
        row = conn.execute(sa.select(face_keys).where(face_keys.c.key_id == PHONE_SALT_ID)).first()
        if row is not None:
            return keymod.unwrap_data_key(row.wrapped_secret, self.ring, PHONE_SALT_ID, row.wrapped_by)
        salt = secrets.token_bytes(32)
        kek = self.ring.active
        conn.execute(
            face_keys.insert().values(
                key_id=PHONE_SALT_ID,
                purpose="phone_salt",
                status="active",
                wrapped_secret=keymod.seal(kek.secret, salt, keymod.data_key_aad(PHONE_SALT_ID, kek.key_id)),
                wrapped_by=kek.key_id,
                created_at=self.clock(),
            )
        )
        return salt

    def phone_bucket(self, last4: str) -> str:
        """The stored bucket of the phone number's last 4 digits: HMAC-SHA256 with the secret salt."""
        return hmac.new(self._phone_salt, bucket_digits(last4).encode(), hashlib.sha256).hexdigest()

    def rotate_kek(self, new_kek: KeyEncryptionKey) -> int:
        """Re-wrap every data key (and the phone salt) under ``new_kek``; retire the old KEK.

        The ring must hold the current KEK. Returns the number of data keys re-wrapped.
        """
        old_id = self.ring.active_id
        if new_kek.key_id == old_id:
            raise KeyManagementError(f"the new KEK must have a new id; {old_id!r} is the current one", key_id=old_id)
        ring = KeyRing({**self.ring.keys, new_kek.key_id: new_kek}, new_kek.key_id)
        now = self.clock()

        def rewrap(conn: Connection) -> int:
            rewrapped = self._rewrap_all(conn, ring, new_kek)
            conn.execute(
                face_keys.update()
                .where((face_keys.c.purpose == "kek") & (face_keys.c.status == "active"))
                .values(status="retired", retired_at=now)
            )
            conn.execute(
                face_keys.insert().values(
                    key_id=new_kek.key_id, purpose="kek", status="active", fingerprint=new_kek.fingerprint, created_at=now
                )
            )
            self.audit.append_in(
                conn, "face.key_rotated", new_kek.key_id, {"retired_kek": old_id, "rewrapped_data_keys": rewrapped}
            )
            return rewrapped

        rewrapped = self.audit.transaction(rewrap)
        self.ring = KeyRing.single(new_kek)
        return rewrapped

    def _rewrap_all(self, conn: Connection, ring: KeyRing, new_kek: KeyEncryptionKey) -> int:
        rows = conn.execute(sa.select(face_templates.c.template_id, face_templates.c.kek_id, face_templates.c.wrapped_key)).all()
        for row in rows:
            conn.execute(
                face_templates.update()
                .where(face_templates.c.template_id == row.template_id)
                .values(
                    wrapped_key=keymod.rewrap_data_key(row.wrapped_key, ring, row.template_id, row.kek_id, new_kek),
                    kek_id=new_kek.key_id,
                )
            )
        salt = conn.execute(sa.select(face_keys).where(face_keys.c.key_id == PHONE_SALT_ID)).one()
        conn.execute(
            face_keys.update()
            .where(face_keys.c.key_id == PHONE_SALT_ID)
            .values(
                wrapped_secret=keymod.rewrap_data_key(salt.wrapped_secret, ring, PHONE_SALT_ID, salt.wrapped_by, new_kek),
                wrapped_by=new_kek.key_id,
            )
        )
        return len(rows)

    # ------------------------------------------------------------ enrollment

    def enroll(
        self,
        shopper_id: str,
        embedding: NDArray[Any],
        *,
        consent: Consent | None,
        phone_last4: str,
        payment_token: str | None = None,
    ) -> str:
        """Record the consent and store the sealed embedding; returns the template id.

        Refuses (and stores nothing) without consent, with a malformed shopper id or
        digits, a payment token that looks like a card number, or an already enrolled shopper.
        """
        if consent is None:
            raise ConsentError("face enrollment needs the shopper's explicit consent; none was given", field="consent")
        check_shopper_id(shopper_id)
        if payment_token is not None:
            check_payment_token(payment_token)
        bucket = self.phone_bucket(phone_last4)
        plaintext = _embedding_bytes(embedding)
        template_id, consent_id = f"tpl_{uuid.uuid4().hex}", f"cns_{uuid.uuid4().hex}"
        sealed = keymod.seal_template(plaintext, self.ring, template_id, shopper_id)

        def write(conn: Connection) -> None:
            taken = conn.execute(
                sa.select(face_templates.c.template_id).where(face_templates.c.shopper_id == shopper_id)
            ).first()
            if taken is not None:
                raise EnrollmentError(
                    f"shopper {shopper_id!r} is already enrolled; delete the old template first",
                    code=ErrorCode.CONFLICT, shopper_id=shopper_id,
                )
            conn.execute(face_consents.insert().values(
                consent_id=consent_id, shopper_id=shopper_id, purpose=consent.purpose,
                channel=consent.channel.value, text_version=consent.text_version, granted_at=consent.granted_at,
                retention_days=int(consent.retention_days), expires_at=consent.expires_at,
            ))
            conn.execute(face_templates.insert().values(
                template_id=template_id, shopper_id=shopper_id, consent_id=consent_id, phone_bucket=bucket,
                payment_token=payment_token, kek_id=sealed.kek_id, wrapped_key=sealed.wrapped_key,
                ciphertext=sealed.ciphertext, created_at=self.clock(), expires_at=consent.expires_at,
            ))
            self.audit.append_in(conn, "face.enrolled", shopper_id, {
                "template_id": template_id, "consent_id": consent_id, "channel": consent.channel.value,
                "purpose": consent.purpose, "retention_days": int(consent.retention_days),
                "has_payment_token": payment_token is not None,
            })

        self.audit.transaction(write)
        return template_id

    # -------------------------------------------------------------- deletion

    def delete(self, shopper_id: str, *, reason: DeletionReason = DeletionReason.REQUEST,
               requested_by: str | None = None) -> str:
        """Delete the shopper's template (ciphertext, wrapped key, token) and end the consent.

        ``requested_by`` (e.g. ``staff:alice``) goes into the audit entry. Returns the deleted
        template id; raises TemplateNotFoundError when none is stored.
        """
        def remove(conn: Connection) -> str:
            row = conn.execute(
                sa.select(face_templates.c.template_id, face_templates.c.consent_id, face_templates.c.shopper_id)
                .where(face_templates.c.shopper_id == shopper_id)
            ).first()
            if row is None:
                raise TemplateNotFoundError(f"no face template is stored for shopper {shopper_id!r}", shopper_id=shopper_id)
            self._delete_rows(conn, [row], reason, requested_by)
            template_id: str = row.template_id
            return template_id

        return self.audit.transaction(remove)

    def sweep_expired(self, now: dt.datetime | None = None) -> list[str]:
        """Delete every template whose retention has run out; returns the shopper ids."""
        now = now or self.clock()

        def remove(conn: Connection) -> list[str]:
            rows = conn.execute(
                sa.select(face_templates.c.template_id, face_templates.c.consent_id, face_templates.c.shopper_id)
                .where(face_templates.c.expires_at <= now)
            ).all()
            self._delete_rows(conn, rows, DeletionReason.RETENTION)
            return [row.shopper_id for row in rows]

        return self.audit.transaction(remove)

    def _delete_rows(self, conn: Connection, rows: Sequence[sa.Row[Any]], reason: DeletionReason,
                     requested_by: str | None = None) -> None:
        now = self.clock()
        if conn.dialect.name == "sqlite":
            # Without it SQLite leaves deleted rows' bytes in free pages of the file.
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        for row in rows:
            conn.execute(face_templates.delete().where(face_templates.c.template_id == row.template_id))
            conn.execute(
                face_consents.update()
                .where(face_consents.c.consent_id == row.consent_id)
                .values(ended_at=now, ended_reason=reason.value)
            )
            details = {"template_id": row.template_id, "reason": reason.value}
            if requested_by is not None:
                details["requested_by"] = requested_by
            self.audit.append_in(conn, "face.deleted", row.shopper_id, details)

    # --------------------------------------------------------------- reading

    def load_templates(self, *, phone_last4: str | None = None) -> list[StoredTemplate]:
        """Decrypt the live templates (all, or one phone bucket) for the in-memory matcher."""
        query = sa.select(face_templates).where(face_templates.c.expires_at > self.clock())
        if phone_last4 is not None:
            query = query.where(face_templates.c.phone_bucket == self.phone_bucket(phone_last4))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [self._open_row(row) for row in rows]

    def _open_row(self, row: sa.Row[Any]) -> StoredTemplate:
        sealed = SealedTemplate(row.kek_id, row.wrapped_key, row.ciphertext)
        plaintext = keymod.open_template(sealed, self.ring, row.template_id, row.shopper_id)
        return StoredTemplate(
            row.template_id, row.shopper_id, row.phone_bucket, row.payment_token,
            np.frombuffer(plaintext, dtype="<f8").astype(np.float64), row.expires_at,
        )

    def enrollment(self, shopper_id: str) -> Enrollment | None:
        """The shopper's live enrollment with its consent, or None (never enrolled, deleted, or expired)."""
        query = (
            sa.select(face_templates.c.template_id, face_templates.c.consent_id, face_templates.c.payment_token,
                      face_templates.c.expires_at, face_consents.c.channel, face_consents.c.purpose,
                      face_consents.c.granted_at)
            .join(face_consents, face_consents.c.consent_id == face_templates.c.consent_id)
            .where((face_templates.c.shopper_id == shopper_id) & (face_templates.c.expires_at > self.clock()))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Enrollment(shopper_id, row.template_id, row.consent_id, Channel(row.channel), row.purpose,
                          row.granted_at, row.expires_at, row.payment_token)

    def is_live(self, template_id: str) -> bool:
        """Whether the template still exists and is within retention (checked before any match is returned)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(face_templates.c.template_id).where(
                    (face_templates.c.template_id == template_id) & (face_templates.c.expires_at > self.clock())
                )
            ).first()
        return found is not None
