"""``omnifit face …`` end to end through the real command dispatcher, on a SQLite file."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnifit.cli import main
from payments.audit import audit_log_table
from payments.face.store import face_templates
from tests.payments.face.conftest import face_embedding, face_file

pytestmark = pytest.mark.shared_data


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("OMNIFIT_FACE_KEK", raising=False)
    monkeypatch.delenv("OMNIFIT_FACE_KEY_FILE", raising=False)
    return f"sqlite:///{tmp_path / 'omnifit.sqlite'}"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else None), err


def _templates(db: str) -> int:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return len(conn.execute(sa.select(face_templates)).all())
    finally:
        engine.dispose()


def test_verify_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, same, _ = _run(capsys, "face", "verify", str(face_file("obama.jpg")), str(face_file("obama3.jpg")), "--json")
    assert code == 0 and set(same) == {"distance", "threshold", "match"} and same["match"] is True
    code, other, _ = _run(capsys, "face", "verify", str(face_file("obama.jpg")), str(face_file("biden.jpg")), "--json")
    assert code == 0 and other["match"] is False and other["distance"] > other["threshold"]


def test_enroll_delete_rotate_sweep_and_audit(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    enroll = ["face", "enroll", "--image", str(face_file("obama.jpg")), "--phone", "+1 202 555 0143", "--db", db]
    code, out, _ = _run(capsys, *enroll, "--consent", "--shopper", "obama", "--payment-token", "tok_visa_approve", "--json")
    assert code == 0 and out["shopper_id"] == "obama" and "DEVELOPMENT key" in caplog.text
    key_file = tmp_path / "face-kek.json"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert sorted(os.listdir(tmp_path)) == ["face-kek.json", "omnifit.sqlite"]  # no image kept anywhere
    stored = (tmp_path / "omnifit.sqlite").read_bytes()
    plain = face_embedding("obama.jpg").astype("<f8").tobytes()
    assert plain[:32] not in stored and plain[-32:] not in stored and face_file("obama.jpg").read_bytes()[:4096] not in stored
    old_key = json.loads(key_file.read_text())["active"]
    code, out, _ = _run(capsys, "face", "rotate-key", "--db", db, "--json")
    assert code == 0 and out == {"active_kek": out["active_kek"], "retired_kek": old_key, "rewrapped_data_keys": 1}
    assert list(json.loads(key_file.read_text())["keys"]) == [out["active_kek"]]
    code, out, _ = _run(capsys, "face", "sweep", "--db", db, "--json")
    assert code == 0 and out["deleted"] == 0
    code, out, _ = _run(capsys, "face", "delete", "--shopper", "obama", "--db", db, "--json")
    assert code == 0 and _templates(db) == 0
    code, out, _ = _run(capsys, "face", "audit", "--verify", "--db", db, "--json")
    assert code == 0 and out["ok"] and out["entries"] == 3


@pytest.mark.parametrize(
    ("image", "extra", "message"),
    [
        ("two_people.jpg", ["--consent"], "2 faces found"),
        ("obama-240p.jpg", ["--consent"], "px across"),
        ("obama.jpg", [], "explicit consent"),
        ("obama.jpg", ["--consent", "--payment-token", "4111111111111111"], "card number"),
        ("LICENSE-face_recognition.txt", ["--consent"], "not a readable image"),
    ],
)
def test_bad_enrollment_exits_2_and_changes_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], image: str, extra: list[str], message: str
) -> None:
    code, out, err = _run(capsys, "face", "enroll", "--image", str(face_file(image)), "--phone", "0612345678", "--db", db, *extra)
    assert code == 2 and out is None and message in err
    assert os.listdir(tmp_path) == []  # no database, no key file


def test_audit_reports_tampering_with_exit_1(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "face", "enroll", "--image", str(face_file("obama.jpg")), "--phone", "0612345678", "--consent", "--db", db)
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(audit_log_table.update().values(subject="someone-else"))
    engine.dispose()
    code, out, _ = _run(capsys, "face", "audit", "--verify", "--db", db, "--json")
    assert code == 1 and not out["ok"] and out["first_bad_seq"] == 1


def test_delete_of_an_unknown_shopper_exits_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "face", "delete", "--shopper", "nobody", "--db", db)
    assert code == 2 and "no face template" in err


@pytest.mark.postgres
def test_postgres_with_the_kek_from_the_environment(
    pg_schema_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import secrets

    def env_key(key_id: str) -> str:
        return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"

    monkeypatch.delenv("OMNIFIT_FACE_KEK", raising=False)
    code, _, err = _run(capsys, "face", "sweep", "--db", pg_schema_url)
    assert code == 2 and "OMNIFIT_FACE_KEK" in err  # no key file next to a server database
    monkeypatch.setenv("OMNIFIT_FACE_KEK", env_key("kek-prod-1"))
    enroll = ["face", "enroll", "--image", str(face_file("obama.jpg")), "--phone", "0612345678", "--consent", "--db", pg_schema_url]
    assert _run(capsys, *enroll, "--shopper", "obama")[0] == 0
    code, _, err = _run(capsys, "face", "rotate-key", "--db", pg_schema_url)
    assert code == 2 and "OMNIFIT_FACE_NEW_KEK" in err
    monkeypatch.setenv("OMNIFIT_FACE_NEW_KEK", env_key("kek-prod-2"))
    code, out, _ = _run(capsys, "face", "rotate-key", "--db", pg_schema_url, "--json")
    assert code == 0 and out["retired_kek"] == "kek-prod-1" and out["rewrapped_data_keys"] == 1
    code, _, err = _run(capsys, "face", "delete", "--shopper", "obama", "--db", pg_schema_url)
    assert code == 2 and "retired" in err  # the old key no longer opens the store
    monkeypatch.setenv("OMNIFIT_FACE_KEK", os.environ["OMNIFIT_FACE_NEW_KEK"])
    assert _run(capsys, "face", "delete", "--shopper", "obama", "--db", pg_schema_url)[0] == 0
    code, out, _ = _run(capsys, "face", "audit", "--verify", "--db", pg_schema_url, "--json")
    assert code == 0 and out["ok"] and out["entries"] == 3
