"""The session survives a restart (its file readable by the user only); signing out forgets it.

Without a saved session the app opens on the catalog and asks for an account on the way to the cart.
"""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.mobile.conftest import Cloud, failed_step, play, sign_up_steps, translate

pytestmark = pytest.mark.slow

SIGN_UP = """
wait catalog 40
tap {{Me}}
wait settings
tap {{Sign in}}
wait sign_in
{sign_up}
wait settings 20
expect again@example.com
"""

AFTER_RESTART = """
wait catalog 40
tap {{Me}}
wait settings
expect again@example.com
screenshot restarted-signed-in
tap {{Sign out}}
wait catalog
tap {{Cart}}
wait sign_in
expect {{Welcome back}}
"""


def test_the_session_survives_a_restart_and_sign_out_forgets_it(cloud: Cloud, tmp_path: Path, artefacts: Path) -> None:
    data = tmp_path / "app"
    first = translate(SIGN_UP.replace("{sign_up}", sign_up_steps("again@example.com")), "en")
    code, report = play(cloud, first, data, None)
    assert code == 0, failed_step(report)
    session = data / "session.json"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert json.loads(session.read_text())["token"]

    code, report = play(cloud, translate(AFTER_RESTART, "en"), data, artefacts)
    assert code == 0, failed_step(report)
    saved = json.loads(session.read_text())
    assert saved["token"] == "" and saved["email"] == "" and saved["store_id"]  # the store stays chosen
