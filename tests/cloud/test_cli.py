"""``omnifit serve`` and ``omnifit admin ...`` as a user runs them: real processes, real databases."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

from cloud.domain.auth import signer_for
from cloud.domain.types import PrincipalKind
from cloud.fanout import CartHub
from cloud.server import ServerConfig, build_services
from cloud.storage import open_database
from cloud.storage.migrate import head_revision
from tests.cloud.conftest import STORE
from tests.conftest import REPO_ROOT


def _omnifit(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnifit.cli", *args], cwd=REPO_ROOT, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_admin_commands(sqlite_url: str) -> None:
    migrated = _omnifit("admin", "migrate", "--db", sqlite_url, "--json")
    assert migrated.returncode == 0, migrated.stderr
    assert json.loads(migrated.stdout) == {"revision": head_revision()}
    issued = _omnifit("admin", "issue-device-token", "--store", STORE, "--db", sqlite_url, "--json")
    assert issued.returncode == 0, issued.stderr
    device = json.loads(issued.stdout)
    staff = _omnifit("admin", "create-staff", "--staff-id", "ops-1", "--password-stdin", "--db", sqlite_url, stdin="a long staff pass\n")
    assert staff.returncode == 0, staff.stderr
    database = open_database(sqlite_url, pool_size=1)
    try:
        principal = signer_for(database).verify(device["token"])
        assert (principal.kind, principal.subject_id, principal.store_id) == (PrincipalKind.DEVICE, device["device_id"], STORE)
        assert build_services(database, CartHub()).accounts.staff_sign_in("ops-1", "a long staff pass").subject_id == "ops-1"
    finally:
        database.close()
    revoked = _omnifit("admin", "revoke-device", device["device_id"], "--db", sqlite_url)
    assert revoked.returncode == 0, revoked.stderr
    pruned = _omnifit("admin", "prune", "--db", sqlite_url, "--json")
    assert pruned.returncode == 0 and json.loads(pruned.stdout) == {"idempotency_keys": 0, "pairing_codes": 0, "pairing_failures": 0,
                                                                       "cart_changes": 0}


def test_admin_errors_name_the_problem(sqlite_url: str) -> None:
    unknown = _omnifit("admin", "issue-device-token", "--store", "atlantis", "--db", sqlite_url)
    assert unknown.returncode == 2 and "atlantis" in unknown.stderr and unknown.stdout == ""
    short = _omnifit("admin", "create-staff", "--staff-id", "ops-2", "--password-stdin", "--db", sqlite_url, stdin="short\n")
    assert short.returncode == 2 and "password" in short.stderr
    bad_url = _omnifit("admin", "migrate", "--db", "mysql://nope/x")
    assert bad_url.returncode == 2 and "db_url" in bad_url.stderr


def test_serve_reports_its_port_and_stops_on_sigterm(sqlite_url: str) -> None:
    command = [sys.executable, "-m", "omnifit.cli", "serve", "--listen", "127.0.0.1:0", "--db", sqlite_url]
    with subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            line = process.stdout.readline()
            host, _, port = line.strip().removeprefix("listening on ").rpartition(":")
            assert line.startswith("listening on ") and host == "127.0.0.1" and int(port) > 0
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
            assert process.stdout.read() == ""
        finally:
            if process.poll() is None:
                process.kill()
    bad = _omnifit("serve", "--listen", "no-port", "--db", sqlite_url)
    assert bad.returncode == 2 and "HOST:PORT" in bad.stderr
    assert ServerConfig().listen == "127.0.0.1:50051"
