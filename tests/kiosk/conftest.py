"""Fixtures for the kiosk app: a real ``omnifit serve`` process on SQLite and a headless kiosk against it.

The cloud runs in its own process, as in a store: grpc.aio allows one event loop per
process, and the kiosk's worker loop is that process's one.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from cloud.testing import ServerProcess  # noqa: E402

STORE = "sh-jingan"
STAFF_ID = "alice"
STAFF_PASSWORD = "correct horse 1"


@dataclass
class Cloud:
    server: ServerProcess
    db_url: str
    device_token: str

    @property
    def target(self) -> str:
        return self.server.target

    def staff_session(self):
        """A staff session for STAFF_ID, signed in through the cloud's own account service."""
        from cloud.domain.accounts import AccountService
        from cloud.domain.auth import signer_for
        from cloud.storage import open_database

        database = open_database(self.db_url, pool_size=1)
        try:
            return AccountService(database, signer_for(database)).staff_sign_in(STAFF_ID, STAFF_PASSWORD)
        finally:
            database.close()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    from cloud.admin import create_staff, issue_device_token

    db_url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    running = Cloud(ServerProcess(db_url).start(), db_url, "")
    try:
        create_staff(db_url, STAFF_ID, STAFF_PASSWORD, stores=(STORE,))
        running.device_token = issue_device_token(db_url, STORE)
        yield running
    finally:
        running.server.stop()  # a test may have restarted it: stop the one running now


def kiosk_config(cloud: Cloud, tmp_path: Path, **overrides):
    from kiosk.app.config import KioskConfig

    # No warm-up: most tests never scan, and the machine is shared. English and the sandbox's test
    # cards (a --dev kiosk) unless a test says otherwise: the assertions read the English words.
    settings = dict(targets=(cloud.target,), store_id=STORE, device_token=cloud.device_token,
                    data_dir=tmp_path / "kiosk", warm_up=False, lang="en", dev=True)
    settings.update(overrides)
    return KioskConfig(**settings)


@pytest.fixture
def kiosk(cloud: Cloud, tmp_path: Path):
    from kiosk.app.app import KioskApp

    app = KioskApp(kiosk_config(cloud, tmp_path))
    app.wait_idle(30)
    yield app
    app.close()
