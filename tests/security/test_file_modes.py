"""Secrets stay out of files others can read: the SQLite database and its WAL/SHM are 0600, the
token-signing key lives in a 0600 key file (or the environment), never in the database, and a
database that held the old secret gives it up while its tokens keep working for the rotation window.

(Item 8 of issue 12: the database was created 0644 and held the signing secret, so anyone who could
read the file could mint a staff token.)
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import time
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from cloud import admin
from cloud.domain.auth import TokenSigner, signer_for
from cloud.domain.token_keys import VERIFY_WINDOW_MS, TokenKeyRing
from cloud.domain.types import Principal, PrincipalKind
from cloud.storage import open_database, schema
from proto.omnifit.v1 import cart_pb2, profile_pb2
from tests.cloud.conftest import STORE, bearer
from tests.security.conftest import ServerFactory, failure


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cart(stubs, token: str) -> cart_pb2.Cart:  # type: ignore[no-untyped-def]
    return stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(token))


def test_a_new_sqlite_database_and_its_key_file_are_private(start: ServerFactory, channel_to, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its files itself; its key-out-of-the-database test is below")
    old_umask = os.umask(0o022)  # the usual umask, under which files come out 0644
    try:
        server = start(token_key_file=None)  # the default: a key file beside the database
        stubs = channel_to(server)
        _cart(stubs, server.services.accounts.issue_device_token(STORE).token)
    finally:
        os.umask(old_umask)
    database = tmp_path / "omnifit.sqlite"
    for path in (database, database.with_name("omnifit.sqlite-wal"), database.with_name("omnifit.sqlite-shm"),
                 database.with_name("omnifit.sqlite.token-keys.json")):
        assert path.exists(), path
        assert _mode(path) == 0o600, f"{path.name} is {oct(_mode(path))}"


def test_an_existing_world_readable_database_is_narrowed(sqlite_url: str, tmp_path: Path) -> None:
    database = open_database(sqlite_url, pool_size=1)
    database.close()
    path = tmp_path / "omnifit.sqlite"
    os.chmod(path, 0o644)
    database = open_database(sqlite_url, pool_size=1)
    database.close()
    assert _mode(path) == 0o600


def test_the_signing_key_is_not_in_the_database_and_a_copy_of_the_database_mints_nothing(
        start: ServerFactory, channel_to, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start()
    stubs = channel_to(server)
    cart = _cart(stubs, server.services.accounts.issue_device_token(STORE).token)
    with server.services.database.read() as conn:
        rows = conn.execute(sa.select(schema.settings.c.key, schema.settings.c.value)).all()
    assert "token_secret" not in {row.key for row in rows}
    # Whatever the database holds, signed as a key, is no staff token.
    for row in rows:
        try:
            secret = bytes.fromhex(row.value)
        except ValueError:
            continue
        if len(secret) >= 16:
            forged = TokenSigner(secret).issue(Principal(PrincipalKind.STAFF, "ops"))[0]
            code, _ = failure(stubs.carts.GetCart, cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(forged))
            assert code == grpc.StatusCode.UNAUTHENTICATED
    key_file = tmp_path / "token-keys.json"
    assert _mode(key_file) == 0o600 and json.loads(key_file.read_text())["active"]


def _legacy_database(db_url: str) -> bytes:
    """A database as the earlier version left it: the signing secret in ``settings``; returns the secret."""
    secret = secrets.token_bytes(32)
    database = open_database(db_url, pool_size=1)
    try:
        with database.write() as conn:
            conn.execute(schema.settings.insert().values(key="token_secret", value=secret.hex()))
    finally:
        database.close()
    return secret


def _legacy_token(secret: bytes, principal: Principal) -> str:
    """A token as the earlier version signed it: no key id, no generation."""
    import hashlib
    import hmac

    body = {"k": principal.kind.value, "s": principal.subject_id, "st": principal.store_id,
            "x": int(time.time() * 1000) + 3_600_000}
    payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(secret, payload.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    return f"ofv1.{payload}.{signature}"


def test_an_old_databases_secret_moves_out_and_its_tokens_verify_through_the_window(
        start: ServerFactory, channel_to, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secret = _legacy_database(db_url)
    device = admin.issue_device_session  # registers the device row the old token names
    os.environ["OMNIFIT_TOKEN_KEY_FILE"] = str(tmp_path / "token-keys.json")
    try:
        session = device(db_url, STORE)
    finally:
        del os.environ["OMNIFIT_TOKEN_KEY_FILE"]
    old_token = _legacy_token(secret, Principal(PrincipalKind.DEVICE, session.subject_id, STORE))
    server = start()
    stubs = channel_to(server)
    assert _cart(stubs, old_token).store_id == STORE  # still verifies, with the retired key
    with server.services.database.read() as conn:
        assert conn.execute(sa.select(schema.settings.c.value).where(schema.settings.c.key == "token_secret")).first() is None
    ring = TokenKeyRing.load_file(tmp_path / "token-keys.json")
    assert ring.legacy_id is not None and ring.keys[ring.legacy_id].retired_at_ms is not None
    assert ring.active_id != ring.legacy_id  # new tokens are signed with a key that was never in the database
    # After the window the old secret verifies nothing.
    later = ring.keys[ring.legacy_id].retired_at_ms + VERIFY_WINDOW_MS + 1  # type: ignore[operator]
    assert ring.verifier(None, later) is None
    if db_url.startswith("sqlite"):
        raw = (tmp_path / "omnifit.sqlite").read_bytes() + (tmp_path / "omnifit.sqlite-wal").read_bytes()
        assert secret.hex().encode() not in raw, "the old secret is still readable in the database file"


def test_a_rotation_keeps_old_tokens_and_reaches_running_servers(start: ServerFactory, channel_to, db_url: str,
                                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "token-keys.json"
    server = start()
    stubs = channel_to(server)
    before = server.services.accounts.issue_device_token(STORE).token
    admin.token_keys(db_url, "rotate", key_file)
    time.sleep(1.1)  # a server reads the key file again at most once a second for unknown key ids
    ring = TokenKeyRing.load_file(key_file)
    assert len(ring.keys) == 2
    # A token signed with the new key (another replica, or `omnifit admin issue-device-token`) is accepted
    # by this running server, and the old one still is.
    database = open_database(db_url, pool_size=1)
    try:
        after = TokenSigner(ring).issue(Principal(PrincipalKind.DEVICE, signer_for(database, key_file).verify(before).subject_id, STORE))[0]
    finally:
        database.close()
    assert _cart(stubs, before).store_id == STORE
    assert stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=_cart(stubs, before).cart_id), metadata=bearer(after)).store_id == STORE


@pytest.mark.parametrize("bad", ["k1", "k1:not-base64!", "k1:" + base64.b64encode(b"short").decode()])
def test_a_bad_key_in_the_environment_is_refused_clearly(start: ServerFactory, bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIFIT_TOKEN_KEY", bad)
    with pytest.raises(Exception, match="OMNIFIT_TOKEN_KEY|token key"):
        start(token_key_file=None)


def test_staff_tokens_from_the_environment_key_work_across_servers(
        start: ServerFactory, channel_to, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OMNIFIT_TOKEN_KEY", "prod-1:" + base64.b64encode(secrets.token_bytes(32)).decode())
    first, second = start(token_key_file=None), start(token_key_file=None)
    first.services.accounts.create_staff("ops-1", "staff password 1")
    stubs_a, stubs_b = channel_to(first), channel_to(second)
    token = stubs_a.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id="ops-1", password="staff password 1")).token
    cart = _cart(stubs_b, first.services.accounts.issue_device_token(STORE).token)
    assert stubs_b.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=bearer(token)).cart_id == cart.cart_id
