"""Real ``omnifit serve`` processes for tests and benchmarks: start, read the port, kill; and a
real gRPC load balancer (HAProxy) in front of them, with health checks on the gRPC health service."""
from __future__ import annotations

import os
import shutil
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
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``python -m omnifit.cli serve`` in its own process; ``port`` is known once it prints it."""

    def __init__(self, db_url: str, port: int = 0, *, extra_env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.db_url = db_url
        self.requested_port = port
        self.extra_env = extra_env or {}
        self.extra_args = tuple(extra_args)
        self.process: subprocess.Popen[str] | None = None
        self.port = port
        self.log: tempfile._TemporaryFileWrapper[str] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        env = {**os.environ, **self.extra_env, "PYTHONUNBUFFERED": "1"}
        # stderr to a file: a pipe nobody reads would fill and stall the server.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="omnifit-serve-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "omnifit.cli", "serve", "--listen", f"127.0.0.1:{self.requested_port}", "--db", self.db_url,
             *self.extra_args],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        assert self.process.stdout is not None  # stdout=PIPE above
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


def _h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def _hpack_literal(name_index: int, value: bytes) -> bytes:
    """A header field without indexing, its name from HPACK's static table, its value plain (< 128 bytes)."""
    return bytes([name_index]) + bytes([len(value)]) + value


def grpc_health_probe() -> bytes:
    """One gRPC ``Health/Check`` call (empty request: every service) as raw HTTP/2 bytes.

    HAProxy's HTTP checks cannot send a body with NUL bytes (a gRPC message starts with its
    5-byte frame header), so its ``tcp-check send-binary`` speaks HTTP/2 itself: the preface,
    empty SETTINGS, one HEADERS frame and the DATA frame of the request.
    """
    headers = (b"\x83\x86"  # :method POST, :scheme http (static table 3, 6)
               + _hpack_literal(0x04, b"/grpc.health.v1.Health/Check")  # :path
               + _hpack_literal(0x01, b"omnifit")  # :authority
               + b"\x0f\x10" + bytes([16]) + b"application/grpc"  # content-type (static table 31)
               + b"\x00\x02te\x08trailers")
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + _h2_frame(4, 0, 0, b"")
            + _h2_frame(1, 0x4, 1, headers) + _h2_frame(0, 0x1, 1, b"\x00" * 5))


# The answer's message: 5-byte gRPC frame header, then status = SERVING (NOT_SERVING is 08 02).
GRPC_HEALTH_SERVING = bytes.fromhex("0000000002") + b"\x08\x01"
HAPROXY_CONFIG = """\
global
    maxconn 4096
    pidfile {pidfile}
    stats socket {stats} level operator
defaults
    mode http
    timeout connect 1s
    timeout client 1h
    timeout server 1h
    timeout check 1s
    # A replica that refuses the connection: try another. A call already sent to a replica that
    # dies is not replayed here: the client retries it under its idempotency key (a pairing
    # claim, single use, is not retried blindly by anyone).
    retries 3
    option redispatch 1
frontend grpc_in
    bind 127.0.0.1:{port} proto h2
{bind_ipv6}    option forwardfor
    default_backend replicas
backend replicas
    balance roundrobin
    # gRPC health check (grpc_health_probe): SERVING or the replica is out; a draining
    # replica answers NOT_SERVING and stops getting new calls.
    option tcp-check
    tcp-check connect
    tcp-check send-binary {health_request}
    tcp-check expect binary {health_serving}
    default-server proto h2 check inter {check_ms}ms fall 2 rise 2{source}
{servers}
"""


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).is_file()), None)


class Balancer:
    """HAProxy in front of ``targets`` (``host:port``), on ``127.0.0.1:port``; config in a temp folder."""

    def __init__(self, targets: list[str], port: int = 0, *, check_ms: int = 300, source: str = "",
                 also_ipv6: bool = False) -> None:
        """``source``: the balancer's address towards the replicas (their ``--trusted-proxy``);
        ``also_ipv6``: listen on ``[::1]`` too, so a test has a second client address."""
        binary = haproxy_binary()
        if binary is None:
            raise FileNotFoundError("haproxy is not installed (Debian package haproxy)")
        self.binary = binary
        self.targets = list(targets)
        self.port = port or free_port()
        self.check_ms = check_ms
        self.source = source
        self.also_ipv6 = also_ipv6
        self.folder = tempfile.TemporaryDirectory(prefix="omnifit-haproxy-")
        self.process: subprocess.Popen[str] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def target_ipv6(self) -> str:
        return f"[::1]:{self.port}"

    @property
    def stats_path(self) -> Path:
        return Path(self.folder.name) / "stats.sock"

    @property
    def config_path(self) -> Path:
        return Path(self.folder.name) / "haproxy.cfg"

    def config(self) -> str:
        servers = "\n".join(f"    server r{i} {target}" for i, target in enumerate(self.targets))
        return HAPROXY_CONFIG.format(port=self.port, servers=servers, check_ms=self.check_ms, stats=self.stats_path,
                                     bind_ipv6=f"    bind [::1]:{self.port} proto h2\n" if self.also_ipv6 else "",
                                     source=f" source {self.source}" if self.source else "",
                                     health_request=grpc_health_probe().hex(), health_serving=GRPC_HEALTH_SERVING.hex(),
                                     pidfile=Path(self.folder.name) / "haproxy.pid")

    def start(self, timeout_s: float = 10.0) -> Balancer:
        self.config_path.write_text(self.config())
        check = subprocess.run([self.binary, "-c", "-f", str(self.config_path)], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused its configuration: {check.stdout}{check.stderr}")
        log = open(Path(self.folder.name) / "haproxy.log", "w")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen([self.binary, "-db", "-f", str(self.config_path)], stdout=log, stderr=log, text=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"haproxy did not listen on {self.target} within {timeout_s} s")

    def server_states(self) -> dict[str, str]:
        """Each replica's state as the health checks see it (``UP``, ``DOWN``, ``UP 1/2``…), from the stats socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_path))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {row["svname"]: row["status"] for row in rows if row["svname"] not in ("FRONTEND", "BACKEND")}

    def wait_up(self, names: list[str], timeout_s: float = 15.0) -> bool:
        """Wait until exactly ``names`` take calls; False if that did not happen within ``timeout_s``.

        ``UP 1/2`` (failing, not yet out) still takes calls; ``DOWN 1/2`` (passing, not yet back) does not.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if sorted(n for n, state in self.server_states().items() if state.startswith("UP")) == sorted(names):
                return True
            time.sleep(0.1)
        return False

    def log_text(self) -> str:
        path = Path(self.folder.name) / "haproxy.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.folder.cleanup()
