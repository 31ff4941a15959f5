"""Fixtures for the mobile app: a real ``omnifit serve`` on SQLite and the app played by script, headless.

The app runs as ``omnifit mobile --script`` in its own process (Kivy owns its process's
window and event loop); tests that act as a kiosk meanwhile use a ``SyncClient`` with a
device token from this process. Screenshots go to ``tests/mobile/artefacts/<test>/``
(ignored by git), kept after the run for people to look at.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cloud.testing import REPO_ROOT, ServerProcess
from omnifit.i18n import Catalog

STORE = "sh-jingan"
PASSWORD = "correct horse battery"
PHONE = "+8613800138000"
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"


@dataclass
class Cloud:
    server: ServerProcess
    db_url: str
    device_token: str

    @property
    def target(self) -> str:
        return self.server.target

    def restart(self) -> None:
        """Start the server again on the same port and database (after a kill)."""
        self.server = ServerProcess(self.db_url, port=self.server.port).start()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    from cloud.admin import issue_device_token

    db_url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    running = Cloud(ServerProcess(db_url).start(), db_url, "")
    try:
        running.device_token = issue_device_token(db_url, STORE)
        yield running
    finally:
        running.server.stop()


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    folder = ARTEFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.rglob("*.png"):
        old.unlink()
    return folder


@dataclass
class AppRun:
    """One ``omnifit mobile --script`` process; ``finish()`` waits for it and reads its JSON report."""

    process: subprocess.Popen[str]
    started: float = field(default_factory=time.monotonic)

    def finish(self, timeout_s: float = 240) -> tuple[int, dict]:
        out, err = self.process.communicate(timeout=timeout_s)
        try:
            report = json.loads(out)
        except ValueError:
            report = {"ok": False, "steps": [], "stdout": out[-3000:]}
        report["stderr"] = err[-4000:]
        return self.process.returncode, report

    def running(self) -> bool:
        return self.process.poll() is None


def start_app(cloud: Cloud, script: str, data_dir: Path, shots: Path | None, *, lang: str = "en") -> AppRun:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "script.txt"
    path.write_text(script, encoding="utf-8")
    command = [sys.executable, "-m", "omnifit.cli", "mobile", "--target", cloud.target, "--lang", lang,
               "--data-dir", str(data_dir), "--script", str(path), "--json"]
    if shots is not None:
        command += ["--screenshot", str(shots)]
    env = {**os.environ, "KIVY_NO_ARGS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("KIVY_HOME", None)  # each app keeps its Kivy settings in its data folder
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    return AppRun(process)


def play(cloud: Cloud, script: str, data_dir: Path, shots: Path | None = None, *, lang: str = "en",
         timeout_s: float = 240) -> tuple[int, dict]:
    return start_app(cloud, script, data_dir, shots, lang=lang).finish(timeout_s)


def failed_step(report: dict) -> str:
    bad = [step for step in report.get("steps", []) if "error" in step]
    return json.dumps(bad[:1], ensure_ascii=False) + "\n" + report.get("stderr", "")[-2500:]


def sign_up_steps(email: str) -> str:
    """Script lines from the sign-in screen to a new account (``{{…}}`` messages, for :func:`translate`)."""
    return (f"tap {{{{Create an account}}}}\nwait sign_up\ntap {{{{E-mail}}}}\ntype {email}\n"
            f"tap {{{{Password (8 characters or more)}}}}\ntype {PASSWORD}\ntap {{{{Mobile number}}}}\ntype {PHONE}\n"
            "tap {{Create my account}}\n")


def translate(script: str, lang: str) -> str:
    """``{{message}}`` or ``{{message|field=value|…}}`` in a script template, in ``lang`` from the app's catalog."""
    catalog = Catalog.load("mobile", "mobile", lang)

    def one(match: re.Match[str]) -> str:
        message, *fields = match.group(1).split("|")
        return catalog.gettext(message, **dict(field.split("=", 1) for field in fields))

    return re.sub(r"\{\{(.+?)\}\}(?!\})", one, script)
