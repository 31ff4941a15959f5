"""The token-signing keys: where they live (never the database by default), rotation, and the move out of a database.

A token names the key that signed it (``kid``), so a key ring holds one active key that signs and
the keys retired lately, which still verify the tokens they signed: a key retired more than
:data:`VERIFY_WINDOW_MS` ago (the longest token lifetime) no longer verifies anything and is dropped
at the next rotation.

Where the ring comes from, first found: ``--token-key-file`` (``ServerConfig.token_key_file``), the
``OMNIFIT_TOKEN_KEY`` environment variable (``key_id:base64[,key_id:base64...]``, the first signs),
``OMNIFIT_TOKEN_KEY_FILE``, and for a SQLite database the file ``<database>.token-keys.json`` beside
it, created (0600) on first use. Every replica must hold the same ring.

Databases made before this held the secret in their ``settings`` table (``token_secret``), where
whoever reads the database file can mint a staff token. A ring read from a file takes that secret
over as a retired key (its tokens, which carry no ``kid``, keep verifying for the window) and
deletes it from the database. A PostgreSQL server with no ring configured keeps signing with the
database's secret, generating it if absent, and says so loudly at start (see ``cloud/README.md``).
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import os
import re
import secrets
import sys
from pathlib import Path

import sqlalchemy as sa

from cloud.domain.types import now_ms
from cloud.errors import InvalidArgument
from cloud.storage import Database, schema
from omnifit.files import write_private_json

_LOGGER = logging.getLogger(__name__)
KEY_ENV = "OMNIFIT_TOKEN_KEY"
KEY_FILE_ENV = "OMNIFIT_TOKEN_KEY_FILE"
KEY_FILE_SUFFIX = ".token-keys.json"
LEGACY_SETTING = "token_secret"  # where databases made before key files kept the secret
DATABASE_KEY_ID = "db"           # the id of a PostgreSQL server's in-database key (no ring configured)
KEY_BYTES = 32
VERIFY_WINDOW_MS = 7 * 24 * 3600 * 1000  # the longest token lifetime (a device's)
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclasses.dataclass(frozen=True, repr=False)
class TokenKey:
    """One signing key; ``retired_at_ms`` set once another key took over signing."""

    key_id: str
    secret: bytes
    retired_at_ms: int | None = None

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise InvalidArgument(f"token key id must be 1-64 of [A-Za-z0-9_.-]; got {self.key_id!r}", field="key_id")
        if len(self.secret) < 16:
            raise InvalidArgument(f"token key {self.key_id!r} must be at least 16 bytes; got {len(self.secret)}",
                                  field="secret")

    def __repr__(self) -> str:
        return f"TokenKey(key_id={self.key_id!r}, retired_at_ms={self.retired_at_ms!r})"

    def verifies_at(self, stamp_ms: int) -> bool:
        return self.retired_at_ms is None or stamp_ms - self.retired_at_ms < VERIFY_WINDOW_MS


def _new_key(now: int) -> TokenKey:
    return TokenKey(f"tk-{now // 1000}-{secrets.token_hex(3)}", secrets.token_bytes(KEY_BYTES))


@dataclasses.dataclass(frozen=True)
class TokenKeyRing:
    """The active key (signs) and retired ones (verify during the window); ``legacy_id`` verifies tokens without a kid."""

    keys: dict[str, TokenKey]
    active_id: str
    legacy_id: str | None = None

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise InvalidArgument(f"active token key {self.active_id!r} is not in the ring (have {sorted(self.keys)})",
                                  field="active")
        if self.legacy_id is not None and self.legacy_id not in self.keys:
            raise InvalidArgument(f"legacy token key {self.legacy_id!r} is not in the ring", field="legacy")

    @property
    def active(self) -> TokenKey:
        return self.keys[self.active_id]

    def verifier(self, key_id: str | None, stamp_ms: int) -> TokenKey | None:
        """The key that verifies a token naming ``key_id`` (None: a token from before key ids), if it still may."""
        key = self.keys.get(key_id if key_id is not None else self.legacy_id or "")
        return key if key is not None and key.verifies_at(stamp_ms) else None

    @classmethod
    def single(cls, secret: bytes, key_id: str = "k0") -> TokenKeyRing:
        return cls({key_id: TokenKey(key_id, secret)}, key_id)

    @classmethod
    def generate(cls) -> TokenKeyRing:
        key = _new_key(now_ms())
        return cls({key.key_id: key}, key.key_id)

    def rotated(self, stamp_ms: int | None = None) -> TokenKeyRing:
        """A new active key; the old one retired now; keys past the window dropped."""
        stamp = now_ms() if stamp_ms is None else stamp_ms
        fresh = _new_key(stamp)
        keys = {kid: key for kid, key in self.keys.items() if key.verifies_at(stamp)}
        keys[self.active_id] = dataclasses.replace(self.active, retired_at_ms=stamp)
        keys[fresh.key_id] = fresh
        return TokenKeyRing(keys, fresh.key_id, self.legacy_id if self.legacy_id in keys else None)

    def with_legacy(self, secret: bytes, retired_at_ms: int) -> TokenKeyRing:
        """This ring plus a database's old secret as the retired key that verifies tokens without a kid."""
        key_id = "legacy-" + hashlib.sha256(secret).hexdigest()[:8]
        legacy = self.keys.get(key_id) or TokenKey(key_id, secret, retired_at_ms)
        return TokenKeyRing({**self.keys, key_id: legacy}, self.active_id, key_id)

    @classmethod
    def from_env_value(cls, value: str) -> TokenKeyRing:
        """``key_id:base64[,key_id:base64...]``; the first signs, the others verify."""
        keys: dict[str, TokenKey] = {}
        for entry in value.split(","):
            key_id, sep, encoded = entry.strip().partition(":")
            if not sep:
                raise InvalidArgument(f"{KEY_ENV} must be 'key_id:base64key[,...]'; an entry has no ':'", field=KEY_ENV)
            keys[key_id] = TokenKey(key_id, _b64decode(encoded, KEY_ENV))
        first = next(iter(keys))
        return cls(keys, first)

    @classmethod
    def load_file(cls, path: Path) -> TokenKeyRing:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            retired = data.get("retired_at_ms", {})
            keys = {kid: TokenKey(kid, _b64decode(text, str(path)), retired.get(kid)) for kid, text in data["keys"].items()}
            return cls(keys, data["active"], data.get("legacy"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidArgument(f"cannot read the token key file {path}: {exc}", path=str(path)) from exc

    def save_file(self, path: Path) -> None:
        """Write the ring to ``path`` (0600), replacing it atomically."""
        data: dict[str, object] = {
            "active": self.active_id,
            "keys": {kid: base64.b64encode(key.secret).decode() for kid, key in self.keys.items()},
            "retired_at_ms": {kid: key.retired_at_ms for kid, key in self.keys.items() if key.retired_at_ms is not None},
        }
        if self.legacy_id is not None:
            data["legacy"] = self.legacy_id
        write_private_json(path, data)


def _b64decode(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidArgument(f"token key material in {where} is not valid base64: {exc}", field=where) from exc


def default_key_file(database: Database) -> Path | None:
    """``<database>.token-keys.json`` beside a SQLite file; None for PostgreSQL."""
    if database.is_postgres or not database.url.database:
        return None
    db_file = Path(database.url.database).expanduser().resolve()
    return db_file.with_name(db_file.name + KEY_FILE_SUFFIX)


def configured_key_file(database: Database, key_file: Path | None) -> Path | None:
    """The key file this database's ring lives in (None: the environment variable, or PostgreSQL's database key)."""
    if key_file is not None:
        return Path(key_file)
    if os.environ.get(KEY_ENV):
        return None
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    return default_key_file(database)


def resolve_token_keys(database: Database, key_file: Path | None = None) -> TokenKeyRing:
    """The signing ring for ``database`` (module docstring: where from, and the move out of the database)."""
    path = configured_key_file(database, key_file)
    if path is None and os.environ.get(KEY_ENV):
        ring = TokenKeyRing.from_env_value(os.environ[KEY_ENV])
        legacy = _legacy_secret(database)
        if legacy is not None:
            _LOGGER.warning("the database still holds the old token-signing secret; tokens signed with it verify "
                            "until `omnifit admin token-key move` deletes it")
            ring = ring.with_legacy(legacy, now_ms())
        return ring
    if path is None:
        return _database_ring(database)
    return _file_ring(database, path)


def _file_ring(database: Database, path: Path) -> TokenKeyRing:
    if path.is_dir():
        raise InvalidArgument(f"token key file {path} is a folder; expected a key file (created if absent)", path=str(path))
    if path.exists():
        _tighten(path)
        ring = TokenKeyRing.load_file(path)
    else:
        _LOGGER.warning("no token-signing key configured: created %s (0600); every replica needs this file", path)
        ring = TokenKeyRing.generate()
        try:
            _create_exclusive(path, ring)
        except FileExistsError:  # another process on the same database made it first
            ring = TokenKeyRing.load_file(path)
    legacy = _legacy_secret(database)
    if legacy is not None:
        ring = ring.with_legacy(legacy, now_ms())
        ring.save_file(path)
        _delete_legacy_secret(database)
        _LOGGER.warning("moved the token-signing secret out of the database into %s; tokens it signed verify for %d "
                        "days more", path, VERIFY_WINDOW_MS // 86_400_000)
    return ring


def _create_exclusive(path: Path, ring: TokenKeyRing) -> None:
    """Write a new ring file, failing if one appeared meanwhile (two replicas starting on one new database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.new")
    ring.save_file(tmp)
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()


def _tighten(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        _LOGGER.warning("token key file %s was readable by others (mode %o); set to 0600", path, mode)
        os.chmod(path, 0o600)


def _database_ring(database: Database) -> TokenKeyRing:
    """PostgreSQL without a configured ring: the key in the settings table (generated once), with a loud warning."""
    secret = _legacy_secret(database)
    if secret is None:
        from sqlalchemy.dialects.postgresql import insert

        with database.write() as conn:  # replicas starting together: the first insert wins
            conn.execute(insert(schema.settings).values(key=LEGACY_SETTING, value=secrets.token_hex(KEY_BYTES))
                         .on_conflict_do_nothing())
        secret = _legacy_secret(database)
        assert secret is not None
    message = (f"WARNING: the token-signing key is kept in the database ({database.url.get_backend_name()}): whoever "
               f"reads it can mint staff tokens. Set {KEY_ENV} or --token-key-file on every replica and run "
               f"`omnifit admin token-key move --key-file FILE` (cloud/README.md).")
    _LOGGER.warning("%s", message)
    print(message, file=sys.stderr, flush=True)
    return TokenKeyRing({DATABASE_KEY_ID: TokenKey(DATABASE_KEY_ID, secret)}, DATABASE_KEY_ID, DATABASE_KEY_ID)


def _setting_query() -> sa.Select[tuple[str]]:
    return sa.select(schema.settings.c.value).where(schema.settings.c.key == LEGACY_SETTING)


def _legacy_secret(database: Database) -> bytes | None:
    with database.read() as conn:
        value = conn.execute(_setting_query()).scalar()
    return bytes.fromhex(value) if value else None


def _delete_legacy_secret(database: Database) -> None:
    """Delete the old secret so the database file no longer holds it (zeroed in the file, the WAL emptied)."""
    delete = schema.settings.delete().where(schema.settings.c.key == LEGACY_SETTING)
    if database.is_postgres:
        with database.write() as conn:
            conn.execute(delete)
        return
    with database.engine.connect() as conn:  # at start, before any other writer of this process
        raw = conn.connection.driver_connection  # pragmas outside SQLAlchemy's transaction
        assert raw is not None
        raw.execute("PRAGMA secure_delete=ON")
        try:
            with conn.begin():
                conn.execute(delete)
        finally:
            raw.execute("PRAGMA secure_delete=OFF")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def move_out_of_database(database: Database, key_file: Path) -> TokenKeyRing:
    """``omnifit admin token-key move``: the database's secret into ``key_file`` (retired), a new key signing."""
    if _legacy_secret(database) is None:
        raise InvalidArgument("the database holds no token-signing secret; nothing to move")
    return _file_ring(database, Path(key_file))


def rotate(database: Database, key_file: Path | None = None) -> TokenKeyRing:
    """``omnifit admin token-key rotate``: a new active key in the ring's file; the old one verifies for the window."""
    path = configured_key_file(database, key_file)
    if path is None:
        raise InvalidArgument(f"the token keys come from {KEY_ENV} or the database; rotate them there, or pass --key-file")
    ring = _file_ring(database, path).rotated()
    ring.save_file(path)
    return ring
