"""Envelope encryption for face templates: AES-256-GCM data keys wrapped by key-encryption keys.

Each template gets its own random 256-bit data key. The embedding is sealed with that
data key, the associated data binding it to its template id and shopper id (a
ciphertext copied onto another shopper's row does not open). The data key is sealed
with the active key-encryption key (KEK), its associated data naming the template and
the KEK id. Rotating the KEK re-wraps the data keys only; embeddings are never
decrypted to disk and never re-encrypted under a shared key.

KEKs never touch the database. They come from ``OMNIFIT_FACE_KEK`` (``key_id:base64``)
or from a key file (JSON ``{"active": id, "keys": {id: base64}}``, mode 0600) that the
``omnifit face`` commands create for development use.

Sealed blobs are ``nonce (12 bytes) || ciphertext || tag (16 bytes)``.
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
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from omnifit.files import write_private_json
from payments.errors import KeyManagementError

_LOGGER = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
KEK_ENV = "OMNIFIT_FACE_KEK"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclasses.dataclass(frozen=True, repr=False)
class KeyEncryptionKey:
    """One KEK: an id stored next to every data key it wraps, and 32 secret bytes."""

    key_id: str
    secret: bytes

    def __post_init__(self) -> None:
        if not _KEY_ID.match(self.key_id):
            raise KeyManagementError(
                f"key id must be 1-64 of [A-Za-z0-9_.-]; got {self.key_id!r}", field="key_id"
            )
        if len(self.secret) != KEY_BYTES:
            raise KeyManagementError(
                f"key {self.key_id!r} must be {KEY_BYTES} bytes; got {len(self.secret)}", field="secret"
            )

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(key_id={self.key_id!r}, fingerprint={self.fingerprint!r})"

    @property
    def fingerprint(self) -> str:
        """A public hex digest that identifies the key material (to detect a wrong key for an id)."""
        return hashlib.sha256(b"omnifit/face-kek-fingerprint/v1" + self.secret).hexdigest()[:32]

    @classmethod
    def generate(cls, key_id: str | None = None) -> KeyEncryptionKey:
        return cls(key_id or f"kek-{secrets.token_hex(6)}", AESGCM.generate_key(bit_length=256))


@dataclasses.dataclass
class KeyRing:
    """The KEKs this process holds, by id, and which one wraps new data keys."""

    keys: dict[str, KeyEncryptionKey]
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise KeyManagementError(
                f"active key {self.active_id!r} is not in the key ring (have {sorted(self.keys)})",
                field="active_id",
            )

    @property
    def active(self) -> KeyEncryptionKey:
        return self.keys[self.active_id]

    def get(self, key_id: str) -> KeyEncryptionKey:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyManagementError(
                f"key-encryption key {key_id!r} is not available (have {sorted(self.keys)}); "
                f"set {KEK_ENV} or use the key file that holds it",
                key_id=key_id,
            ) from None

    @classmethod
    def single(cls, kek: KeyEncryptionKey) -> KeyRing:
        return cls({kek.key_id: kek}, kek.key_id)

    @classmethod
    def from_env_value(cls, value: str) -> KeyRing:
        """Parse ``key_id:base64(32 bytes)`` (the ``OMNIFIT_FACE_KEK`` format)."""
        key_id, sep, encoded = value.strip().partition(":")
        if not sep:
            raise KeyManagementError(f"{KEK_ENV} must be 'key_id:base64key'; got no ':'", field=KEK_ENV)
        return cls.single(KeyEncryptionKey(key_id, _b64decode(encoded, KEK_ENV)))

    @classmethod
    def load_file(cls, path: Path) -> KeyRing:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            keys = {key_id: KeyEncryptionKey(key_id, _b64decode(text, str(path))) for key_id, text in data["keys"].items()}
            return cls(keys, data["active"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyManagementError(f"cannot read the key file {path}: {exc}", path=str(path)) from exc

    def save_file(self, path: Path) -> None:
        """Write the ring to ``path`` (0600), replacing it atomically."""
        data = {"active": self.active_id, "keys": {k: base64.b64encode(v.secret).decode() for k, v in self.keys.items()}}
        write_private_json(path, data)


def _b64decode(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyManagementError(f"key material in {where} is not valid base64: {exc}", field=where) from exc


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: ``nonce || ciphertext || tag`` with a fresh random nonce."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes, *, what: str) -> bytes:
    """Inverse of :func:`seal`; a wrong key, wrong AAD or any bit flip raises KeyManagementError."""
    if len(blob) < NONCE_BYTES + 16:
        raise KeyManagementError(f"{what} is truncated: {len(blob)} bytes", what=what)
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise KeyManagementError(
            f"{what} does not open: wrong key, or the data or its binding was altered", what=what
        ) from exc


def data_key_aad(record_id: str, kek_id: str) -> bytes:
    return f"omnifit/face-data-key/v1|{record_id}|{kek_id}".encode()


def template_aad(template_id: str, shopper_id: str) -> bytes:
    return f"omnifit/face-template/v1|{template_id}|{shopper_id}".encode()


@dataclasses.dataclass(frozen=True)
class SealedTemplate:
    """What is stored for one template: the KEK id, the wrapped data key and the sealed embedding."""

    kek_id: str
    wrapped_key: bytes
    ciphertext: bytes


def seal_template(plaintext: bytes, ring: KeyRing, template_id: str, shopper_id: str) -> SealedTemplate:
    """Seal ``plaintext`` under a new data key wrapped by the active KEK."""
    data_key = AESGCM.generate_key(bit_length=256)
    kek = ring.active
    return SealedTemplate(
        kek.key_id,
        seal(kek.secret, data_key, data_key_aad(template_id, kek.key_id)),
        seal(data_key, plaintext, template_aad(template_id, shopper_id)),
    )


def open_template(sealed: SealedTemplate, ring: KeyRing, template_id: str, shopper_id: str) -> bytes:
    data_key = unwrap_data_key(sealed.wrapped_key, ring, template_id, sealed.kek_id)
    return open_sealed(data_key, sealed.ciphertext, template_aad(template_id, shopper_id), what=f"template {template_id}")


def unwrap_data_key(wrapped: bytes, ring: KeyRing, record_id: str, kek_id: str) -> bytes:
    kek = ring.get(kek_id)
    return open_sealed(kek.secret, wrapped, data_key_aad(record_id, kek_id), what=f"data key of {record_id}")


def rewrap_data_key(wrapped: bytes, ring: KeyRing, record_id: str, old_kek_id: str, new_kek: KeyEncryptionKey) -> bytes:
    """The same data key, wrapped by ``new_kek`` instead of ``old_kek_id``."""
    data_key = unwrap_data_key(wrapped, ring, record_id, old_kek_id)
    return seal(new_kek.secret, data_key, data_key_aad(record_id, new_kek.key_id))


KEY_FILE_ENV = "OMNIFIT_FACE_KEY_FILE"
KEY_FILE_NAME = "face-kek.json"


def default_key_file(db_url: str) -> Path | None:
    """The development key file next to a SQLite database file, or None for a server database."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix) or db_url == "sqlite:///:memory:":
        return None
    return Path(db_url[len(prefix):].split("?", 1)[0]).expanduser().resolve().parent / KEY_FILE_NAME


def resolve_keyring(db_url: str, key_file: Path | None = None, *, create: bool = True) -> tuple[KeyRing, Path | None]:
    """The KEK ring for ``db_url``: ``OMNIFIT_FACE_KEK``, else a key file (created with a warning).

    Returns the ring and the key file it came from (None when it came from the environment).
    """
    env_value = os.environ.get(KEK_ENV)
    if env_value and key_file is None:
        return KeyRing.from_env_value(env_value), None
    path = key_file or (Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else default_key_file(db_url))
    if path is None:
        raise KeyManagementError(
            f"no face key for {db_url.split('@')[-1]}: set {KEK_ENV}=key_id:base64key or pass a key file",
            field=KEK_ENV,
        )
    if path.exists():
        return KeyRing.load_file(path), path
    if not create:
        raise KeyManagementError(f"key file {path} does not exist", path=str(path))
    _LOGGER.warning(
        "no face KEK configured: generated a DEVELOPMENT key in %s; production kiosks must set %s from a KMS",
        path, KEK_ENV,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    ring = KeyRing.single(KeyEncryptionKey.generate())
    ring.save_file(path)
    return ring, path
