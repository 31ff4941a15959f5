"""PostgreSQL that survives losing its primary, for tests: etcd, two Patroni nodes (a primary
and a synchronous streaming replica) and HAProxy routing to whichever is primary (Patroni's
REST ``/primary`` as the health check), all on loopback ports in a temp folder.

Debian packages: ``etcd-server``, ``patroni``, ``haproxy``, PostgreSQL's server binaries.
PostgreSQL refuses to run as root, so as root the nodes run as the ``postgres`` user.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from cloud.testing import free_port, haproxy_binary

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def missing_tools() -> list[str]:
    """What this machine lacks for :class:`PatroniCluster` (empty when it can run)."""
    missing = [name for name in ("etcd", "patroni") if shutil.which(name) is None]
    if haproxy_binary() is None:
        missing.append("haproxy")
    if not any((d / "postgres").is_file() for d in PG_BIN_DIRS):
        missing.append("postgresql server binaries")
    return missing


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PatroniCluster:
    """etcd + Patroni ``pg0`` (bootstraps as primary) and ``pg1`` (synchronous replica) + HAProxy."""

    SCOPE = "omnifit-test"

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="omnifit-patroni-"))
        os.chmod(self.folder, 0o777)
        self.etcd_client, self.etcd_peer = free_port(), free_port()
        self.pg_ports = [free_port(), free_port()]
        self.rest_ports = [free_port(), free_port()]
        self.proxy_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.bin_dir = next(d for d in PG_BIN_DIRS if (d / "postgres").is_file())

    @property
    def url(self) -> str:
        """The service's database URL: through HAProxy to whichever node is primary."""
        return f"postgresql+psycopg://postgres:pg@127.0.0.1:{self.proxy_port}/postgres"

    def node_url(self, index: int) -> str:
        return f"postgresql://postgres:pg@127.0.0.1:{self.pg_ports[index]}/postgres"

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - the child holds it
        self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def start(self, timeout_s: float = 120.0) -> PatroniCluster:
        self._spawn("etcd", ["etcd", "--name", "e0", "--data-dir", str(self.folder / "etcd"),
                             "--listen-client-urls", f"http://127.0.0.1:{self.etcd_client}",
                             "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_client}",
                             "--listen-peer-urls", f"http://127.0.0.1:{self.etcd_peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.etcd_peer}",
                             "--initial-cluster", f"e0=http://127.0.0.1:{self.etcd_peer}"])
        self._wait(lambda: self._http(f"http://127.0.0.1:{self.etcd_client}/health") is not None, 30, "etcd")
        self.start_node(0)
        self._wait(lambda: self.role(0) == "primary", timeout_s, "pg0 as primary")
        self.start_node(1)
        self._wait(lambda: self.role(1) == "sync", timeout_s, "pg1 as synchronous replica")
        self._start_proxy()
        return self

    def start_node(self, index: int) -> None:
        config = self.folder / f"pg{index}.yml"
        config.write_text(json.dumps(self._config(index)))  # JSON is YAML
        os.chmod(config, 0o644)
        self._spawn(f"pg{index}", [*_as_postgres(), "patroni", str(config)])

    def _config(self, index: int) -> dict[str, object]:
        data = self.folder / f"pg{index}"
        return {
            "scope": self.SCOPE, "name": f"pg{index}",
            "restapi": {"listen": f"127.0.0.1:{self.rest_ports[index]}", "connect_address": f"127.0.0.1:{self.rest_ports[index]}"},
            "etcd3": {"hosts": [f"127.0.0.1:{self.etcd_client}"]},
            "bootstrap": {
                "dcs": {"ttl": 20, "loop_wait": 2, "retry_timeout": 5, "maximum_lag_on_failover": 1048576,
                        # A commit is acknowledged once the standby has it: a failover loses no acknowledged write.
                        "synchronous_mode": True,
                        "postgresql": {"use_pg_rewind": False, "parameters": {"max_connections": 200}}},
                "initdb": [{"encoding": "UTF8"}, {"auth": "trust"}],
                "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust"],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{self.pg_ports[index]}", "connect_address": f"127.0.0.1:{self.pg_ports[index]}",
                "data_dir": str(data), "bin_dir": str(self.bin_dir), "pgpass": str(self.folder / f"pgpass{index}"),
                "authentication": {"replication": {"username": "replicator", "password": "rep"},
                                   "superuser": {"username": "postgres", "password": "pg"}},
                "parameters": {"unix_socket_directories": str(self.folder)},
            },
        }

    def _start_proxy(self) -> None:
        servers = "\n".join(f"    server pg{i} 127.0.0.1:{port} check port {self.rest_ports[i]}"
                            for i, port in enumerate(self.pg_ports))
        config = self.folder / "haproxy.cfg"
        config.write_text(f"""\
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 1s
listen postgres_primary
    bind 127.0.0.1:{self.proxy_port}
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
{servers}
""")
        binary = haproxy_binary()
        assert binary is not None
        self._spawn("haproxy", [binary, "-db", "-f", str(config)])
        self._wait(lambda: self._connects(self.proxy_port), 15, "haproxy")

    def role(self, index: int) -> str | None:
        """``primary``, ``sync`` (synchronous replica), ``replica`` or None (down), from Patroni's REST API."""
        for path, name in (("primary", "primary"), ("sync", "sync"), ("replica", "replica")):
            if self._http(f"http://127.0.0.1:{self.rest_ports[index]}/{path}") == 200:
                return name
        return None

    def kill_node(self, index: int) -> None:
        """Patroni and its PostgreSQL die at once (SIGKILL to the node's process group): a lost machine."""
        process = self.processes.pop(f"pg{index}")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        for pid_line in subprocess.run(["pgrep", "-f", f"-D {self.folder / f'pg{index}'}"],
                                       capture_output=True, text=True).stdout.split():
            os.kill(int(pid_line), signal.SIGKILL)  # the postmaster, if it left the group

    def wait_primary(self, index: int, timeout_s: float = 90.0) -> float:
        started = time.monotonic()
        self._wait(lambda: self.role(index) == "primary", timeout_s, f"pg{index} as primary")
        return time.monotonic() - started

    def stop(self) -> None:
        for name in sorted(self.processes, key=lambda n: n == "etcd"):  # etcd last: Patroni needs it to stop
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
        for pid_line in subprocess.run(["pgrep", "-f", str(self.folder)], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid_line), signal.SIGKILL)  # postmasters orphaned by a killed Patroni
            except ProcessLookupError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.folder.glob("*.log")))

    @staticmethod
    def _http(url: str) -> int | None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return None

    @staticmethod
    def _connects(port: int) -> bool:
        import socket

        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def _wait(self, condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.3)
        raise TimeoutError(f"{what} not ready within {timeout_s} s\n{self.logs()}")
