"""The saved session: readable by the user only, ignored when others may read it or when expired."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from mobile.session import SavedSession, load_session, save_session


def test_saved_session_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "app" / "session.json"
    session = SavedSession(token="t0k", shopper_id="shp_1", email="a@example.com", expires_at_ms=2_000, cart_id="c1",
                           store_id="sh-jingan", lang="zh_CN")
    save_session(path, session)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_session(path, now_ms=1_000) == session


def test_an_old_file_with_loose_permissions_is_tightened_on_save(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    save_session(path, SavedSession(token="x"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_session_others_can_read_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    save_session(path, SavedSession(token="secret", email="a@example.com"))
    os.chmod(path, 0o644)
    assert not load_session(path, now_ms=0).signed_in


def test_expired_session_keeps_store_and_language_only(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    save_session(path, SavedSession(token="t", email="a@example.com", expires_at_ms=1_000, store_id="s", lang="en"))
    loaded = load_session(path, now_ms=5_000)
    assert loaded == SavedSession(store_id="s", lang="en")


def test_corrupt_or_foreign_files_give_a_signed_out_session(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text("{not json")
    os.chmod(path, 0o600)
    assert load_session(path, now_ms=0) == SavedSession()
    path.write_text(json.dumps({"token": 5, "unknown": 1}))
    assert load_session(path, now_ms=0) == SavedSession()
    assert load_session(tmp_path / "missing.json", now_ms=0) == SavedSession()
