"""Real ``omnifit serve`` processes for tests and benchmarks: start, read the port, kill."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``python -m omnifit.cli serve`` in its own process; ``port`` is known once it prints it."""

    def __init__(self, db_url: str, port: int = 0, *, extra_env: dict[str, str] | None = None) -> None:
        self.db_url = db_url
        self.requested_port = port
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[str] | None = None
        self.port = port
        self.log: tempfile._TemporaryFileWrapper | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        env = {**os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}
        # stderr to a file: a pipe nobody reads would fill and stall the server.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="omnifit-serve-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omnifit.cli", "serve", "--listen", f"127.0.0.1:{self.requested_port}", "--db", self.db_url],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("listening on "):
                self.port = int(line.rsplit(":", 1)[1])
                return self
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_text()[-2000:]}")
        self.kill()
        raise TimeoutError(f"server did not report its port within {timeout_s} s")

    def log_text(self) -> str:
        return Path(self.log.name).read_text() if self.log else ""

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to say goodbye, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._release()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._release()

    def _release(self) -> None:
        if self.process and self.process.stdout:
            self.process.stdout.close()
        if self.log:
            self.log.close()
            os.unlink(self.log.name)
            self.log = None
