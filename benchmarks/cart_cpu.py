"""CPU per cart mutation: the server's and the database's, over a fixed number of ``UpdateLine`` calls.

``python -m benchmarks.cart_cpu [--db postgresql|sqlite] [--mutations 3000] [--concurrency 16]``
starts real ``omnifit serve`` processes (two on PostgreSQL, one on SQLite), warms them, then
sends ``--mutations`` UpdateLine calls from ``--concurrency`` callers to replica A and prints
one JSON object:

- ``server_cpu_ms``: replica A's process CPU (user + system) per mutation;
- ``postgres_cpu_ms``: CPU of the PostgreSQL backends serving the replicas (their pool, LISTEN
  and NOTIFY connections, by ``application_name``) per mutation; absent on SQLite;
- ``mutation_rps``: the rate reached (set by the machine's load, unlike the two above).

On a shared machine a throughput ratio moves with other people's work; CPU time per call
moves far less, so this is the figure to compare two versions by, run back to back.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

from benchmarks.cart_sync import _Bench, _database, _store_and_skus
from cloud.testing import ServerProcess
from proto.omnifit.v1 import cart_pb2

WARMUP_MUTATIONS = 200


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` (those that still run)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _backends(server_pids: list[int], pg_url: str) -> list[int]:
    """The PostgreSQL backend pids of these servers' connections."""
    import psycopg

    names = [f"omnifit-{pid}" for pid in server_pids]
    with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql").split("?")[0], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = ANY(%s) OR application_name LIKE 'omnifit-listen-%%'",
            (names,),
        ).fetchall()
    return [row[0] for row in rows]


async def _measure(servers: list[ServerProcess], db_url: str, kind: str, mutations: int, concurrency: int) -> dict[str, float]:
    from cloud.admin import issue_device_token

    targets = [server.target for server in servers]
    store_id, skus = await _store_and_skus(targets[0])
    bench = _Bench(targets, issue_device_token(db_url, store_id), store_id, skus)
    try:
        carts = [await bench.new_cart_with_line() for _ in range(concurrency)]
        stub = bench.carts()
        sent = 0

        async def caller(index: int, total: int) -> None:
            nonlocal sent
            quantity = 1
            while sent < total:
                sent += 1
                quantity = 3 - quantity
                await stub.UpdateLine(
                    cart_pb2.UpdateLineRequest(cart_id=carts[index].cart_id, line_id=carts[index].lines[0].line_id,
                                               quantity=quantity, idempotency_key=uuid.uuid4().hex),
                    metadata=bench.metadata,
                )

        await asyncio.gather(*(caller(i, WARMUP_MUTATIONS) for i in range(concurrency)))
        sent = 0
        server_pids = [servers[0].process.pid] if servers[0].process else []
        replica_pids = [s.process.pid for s in servers if s.process]
        backends = _backends(replica_pids, db_url) if kind == "postgresql" else []
        before = {pid: _cpu_s([pid]) for pid in backends}
        server_before, started = _cpu_s(server_pids), time.perf_counter()
        await asyncio.gather(*(caller(i, mutations) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
        result = {"server_cpu_ms": round((_cpu_s(server_pids) - server_before) / sent * 1000, 3),
                  "mutation_rps": round(sent / elapsed, 1), "mutations": sent}
        if kind == "postgresql":  # connections opened during the run count whole; those closed meanwhile are lost
            after = set(_backends(replica_pids, db_url)) | set(before)
            spent = sum(_cpu_s([pid]) - before.get(pid, 0.0) for pid in after if os.path.exists(f"/proc/{pid}"))
            result["postgres_cpu_ms"] = round(spent / sent * 1000, 3)
        return result
    finally:
        await bench.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--mutations", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    kind, db_url, cleanup = _database(args.db)
    servers = [ServerProcess(db_url).start() for _ in range(2 if kind == "postgresql" else 1)]
    try:
        result = asyncio.run(_measure(servers, db_url, kind, args.mutations, args.concurrency))
    finally:
        for server in servers:
            server.stop()
        cleanup()
    print(json.dumps({**result, "db": kind, "replicas": len(servers), "concurrency": args.concurrency}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
