"""Cart sync: mutation throughput against an empty RPC, cross-replica propagation, many shoppers.

``python -m benchmarks.cart_sync [--db auto|sqlite|postgresql] [--replicas 2] [--seconds 5]``
starts real ``omnifit serve`` processes on one database and prints one JSON object:

- ``echo_rps``: the gRPC health Check (an empty unary RPC) on the same server: the ceiling;
- ``mutation_rps``: ``UpdateLine`` (idempotency key, versioned write, change row, fan-out);
- ``ratio``: mutation_rps / echo_rps, both with the same client and concurrency;
- ``propagation_ms``: p50/p99 from sending a write through replica A to the event on a watcher of replica B;
- ``shoppers``: per-call latency of ``concurrent`` shoppers each creating a cart, adding lines,
  changing a quantity and reading the cart back, with think time between calls.

``--notify-scaling [--replica-counts 1,2,4] [--nats nats://127.0.0.1:4222]`` measures instead where
the fan-out bends on PostgreSQL: for each fan-out (``NOTIFY``, and NATS when a server answers at
``--nats``) and each replica count, ``--concurrency`` writers spread over the replicas change their
own carts back to back while a watcher of each cart sits on the next replica, and it reports
``mutation_rps`` and the watchers' ``propagation_ms`` (a write's answer to its event) under that
load. Every replica hears every announcement, so with more replicas each one does more fan-out work.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cloud.testing import ServerProcess
from proto.omnifit.v1 import cart_pb2, cart_pb2_grpc, catalog_pb2, catalog_pb2_grpc

PG_URL = os.environ.get("OMNIFIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def _closed_loop(seconds: float, concurrency: int, one_call) -> float:
    """Calls per second with ``concurrency`` callers each calling back to back."""
    count = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await one_call(index)
            count += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return count / (time.perf_counter() - start)


class _Bench:
    def __init__(self, targets: list[str], token: str, store_id: str, skus: list[str]) -> None:
        self.channels = [grpc.aio.insecure_channel(t) for t in targets]
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.store_id = store_id
        self.skus = skus

    def carts(self, replica: int = 0) -> cart_pb2_grpc.CartServiceStub:
        return cart_pb2_grpc.CartServiceStub(self.channels[replica])

    async def new_cart_with_line(self, replica: int = 0) -> cart_pb2.Cart:
        stub = self.carts(replica)
        cart = await stub.CreateCart(
            cart_pb2.CreateCartRequest(store_id=self.store_id, idempotency_key=uuid.uuid4().hex), metadata=self.metadata
        )
        return await stub.AddLine(
            cart_pb2.AddLineRequest(cart_id=cart.cart_id, sku=random.choice(self.skus), quantity=1, idempotency_key=uuid.uuid4().hex),
            metadata=self.metadata,
        )

    async def throughput(self, seconds: float, concurrency: int) -> dict[str, float]:
        health = health_pb2_grpc.HealthStub(self.channels[0])
        echo_rps = await _closed_loop(seconds, concurrency, lambda _: health.Check(health_pb2.HealthCheckRequest()))
        carts = [await self.new_cart_with_line() for _ in range(concurrency)]
        stub = self.carts()
        flip = [1] * concurrency

        async def mutate(index: int) -> None:
            flip[index] = 3 - flip[index]
            await stub.UpdateLine(
                cart_pb2.UpdateLineRequest(cart_id=carts[index].cart_id, line_id=carts[index].lines[0].line_id,
                                           quantity=flip[index], idempotency_key=uuid.uuid4().hex),
                metadata=self.metadata,
            )

        mutation_rps = await _closed_loop(seconds, concurrency, mutate)
        return {"echo_rps": round(echo_rps, 1), "mutation_rps": round(mutation_rps, 1), "ratio": round(mutation_rps / echo_rps, 3)}

    async def propagation(self, writes: int) -> dict[str, float]:
        watch_replica = len(self.channels) - 1
        cart = await self.new_cart_with_line(0)
        events: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
        call = self.carts(watch_replica).WatchCart(cart_pb2.WatchCartRequest(cart_id=cart.cart_id), metadata=self.metadata)

        async def pump() -> None:
            async for event in call:
                events.put_nowait((time.perf_counter(), event.cart.version))

        task = asyncio.create_task(pump())
        await asyncio.wait_for(events.get(), 10)
        samples = []
        writer = self.carts(0)
        for index in range(writes):
            sent = time.perf_counter()
            updated = await writer.UpdateLine(
                cart_pb2.UpdateLineRequest(cart_id=cart.cart_id, line_id=cart.lines[0].line_id, quantity=1 + index % 2 + 1,
                                           idempotency_key=uuid.uuid4().hex),
                metadata=self.metadata,
            )
            while True:
                arrived, version = await asyncio.wait_for(events.get(), 10)
                if version >= updated.version:
                    break
            samples.append((arrived - sent) * 1000)
        call.cancel()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return {"p50": round(statistics.median(samples), 2), "p99": round(_percentile(samples, 99), 2), "writes": writes}

    async def shoppers(self, concurrent: int, seconds: float, think_s: float) -> dict[str, float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def timed(coro):
            start = time.perf_counter()
            result = await coro
            latencies.append((time.perf_counter() - start) * 1000)
            return result

        async def shopper(index: int) -> None:
            stub = self.carts(index % len(self.channels))
            await asyncio.sleep(random.uniform(0, think_s))
            while time.perf_counter() < deadline:
                cart = await timed(stub.CreateCart(
                    cart_pb2.CreateCartRequest(store_id=self.store_id, idempotency_key=uuid.uuid4().hex), metadata=self.metadata
                ))
                for sku in random.sample(self.skus, 2):
                    await asyncio.sleep(random.expovariate(1 / think_s))
                    cart = await timed(stub.AddLine(
                        cart_pb2.AddLineRequest(cart_id=cart.cart_id, sku=sku, quantity=1, idempotency_key=uuid.uuid4().hex),
                        metadata=self.metadata,
                    ))
                await asyncio.sleep(random.expovariate(1 / think_s))
                cart = await timed(stub.UpdateLine(
                    cart_pb2.UpdateLineRequest(
                        cart_id=cart.cart_id, line_id=cart.lines[0].line_id, quantity=2,
                        idempotency_key=uuid.uuid4().hex, expected_version=cart.version,
                    ),
                    metadata=self.metadata,
                ))
                await timed(stub.GetCart(cart_pb2.GetCartRequest(cart_id=cart.cart_id), metadata=self.metadata))

        await asyncio.gather(*(shopper(i) for i in range(concurrent)))
        return {"concurrent": concurrent, "calls": len(latencies), "rps": round(len(latencies) / seconds, 1),
                "p50_ms": round(statistics.median(latencies), 2), "p99_ms": round(_percentile(latencies, 99), 2),
                "think_s": think_s}

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


async def _store_and_skus(target: str) -> tuple[str, list[str]]:
    async with grpc.aio.insecure_channel(target) as channel:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        store_id = (await catalog.ListStores(catalog_pb2.ListStoresRequest())).stores[0].store_id
        products = await catalog.ListProducts(catalog_pb2.ListProductsRequest(category=catalog_pb2.CATEGORY_SHOES))
        skus = [v.sku for p in products.products for v in p.variants]
        return store_id, skus


def _database(kind: str) -> tuple[str, str, callable]:
    """(kind, url, cleanup) for a fresh database of the asked kind."""
    if kind in ("auto", "postgresql"):
        try:
            import psycopg

            raw = PG_URL.replace("postgresql+psycopg", "postgresql")
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(raw, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')

            def drop() -> None:
                with psycopg.connect(raw, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

            return "postgresql", f"{PG_URL}?options=-csearch_path%3D{schema}", drop
        except Exception:
            if kind == "postgresql":
                raise
    import tempfile

    folder = tempfile.TemporaryDirectory(prefix="omnifit-bench-")
    return "sqlite", f"sqlite:///{folder.name}/bench.sqlite", folder.cleanup


async def _run(args: argparse.Namespace, targets: list[str], db_url: str) -> dict:
    from cloud.admin import issue_device_token

    store_id, skus = await _store_and_skus(targets[0])
    bench = _Bench(targets, issue_device_token(db_url, store_id), store_id, skus)
    try:
        result = await bench.throughput(args.seconds, args.concurrency)
        result["propagation_ms"] = await bench.propagation(args.writes)
        result["shoppers"] = await bench.shoppers(args.shoppers, args.seconds * 2, args.think_s)
        return result
    finally:
        await bench.close()


async def _fanout_load(targets: list[str], token: str, store_id: str, skus: list[str], seconds: float,
                       concurrency: int) -> dict[str, object]:
    """Writers on every replica, each cart watched on the next replica: mutation rate and wake-up delay."""
    bench = _Bench(targets, token, store_id, skus)
    n = len(targets)
    try:
        carts = [await bench.new_cart_with_line(i % n) for i in range(concurrency)]
        acked: dict[tuple[str, int], float] = {}  # (cart, version) -> when its write was sent
        seen: dict[tuple[str, int], float] = {}  # -> when the watcher got it (may be before the answer)
        calls = []

        async def pump(index: int) -> None:
            cart = carts[index]
            call = bench.carts((index + 1) % n).WatchCart(cart_pb2.WatchCartRequest(cart_id=cart.cart_id), metadata=bench.metadata)
            calls.append(call)
            async for event in call:
                seen.setdefault((cart.cart_id, event.cart.version), time.perf_counter())

        pumps = [asyncio.create_task(pump(i)) for i in range(concurrency)]
        await asyncio.sleep(1.0)  # every watch has its snapshot
        flip = [1] * concurrency

        async def mutate(index: int) -> None:
            flip[index] = 3 - flip[index]
            cart = carts[index]
            sent = time.perf_counter()
            updated = await bench.carts(index % n).UpdateLine(
                cart_pb2.UpdateLineRequest(cart_id=cart.cart_id, line_id=cart.lines[0].line_id, quantity=flip[index],
                                           idempotency_key=uuid.uuid4().hex), metadata=bench.metadata)
            acked.setdefault((cart.cart_id, updated.version), sent)

        rps = await _closed_loop(seconds, concurrency, mutate)
        await asyncio.sleep(6.0)  # stragglers arrive by the 5 s re-read at the latest
        for call in calls:
            call.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        delays = [max(0.0, seen[key] - sent) * 1000 for key, sent in acked.items() if key in seen]
        return {"mutation_rps": round(rps, 1), "propagation_ms": {
            "p50": round(statistics.median(delays), 1) if delays else None,
            "p99": round(_percentile(delays, 99), 1) if delays else None,
            "events": len(delays), "never_seen": len(acked) - len(delays)}}
    finally:
        await bench.close()


def _nats_reachable(url: str) -> bool:
    import socket

    host, _, port = url.removeprefix("nats://").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def notify_scaling(args: argparse.Namespace) -> dict[str, object]:
    """Mutations/s and wake-up delay against replica count, NOTIFY and (when reachable) NATS."""
    from cloud.admin import issue_device_token

    kind, db_url, cleanup = _database("postgresql")
    fanouts: list[tuple[str, tuple[str, ...]]] = [("notify", ())]
    if _nats_reachable(args.nats):
        fanouts.append(("nats", ("--fanout", args.nats)))
    rows = []
    tokens: dict[str, str] = {}
    try:
        issue_device_token(db_url, "sh-jingan")  # migrate and seed before the replicas race to
        for name, extra in fanouts:
            for count in args.replica_counts:
                servers = [ServerProcess(db_url, extra_args=extra).start() for _ in range(count)]
                try:
                    store_id, skus = asyncio.run(_store_and_skus(servers[0].target))
                    token = tokens.setdefault(store_id, issue_device_token(db_url, store_id))
                    result = asyncio.run(_fanout_load([s.target for s in servers], token, store_id, skus, args.seconds,
                                                      args.concurrency))
                finally:
                    for server in servers:
                        server.stop()
                rows.append({"fanout": name, "replicas": count, **result})
    finally:
        cleanup()
    return {"db": kind, "notify_scaling": rows, "concurrency": args.concurrency, "seconds": args.seconds,
            "nats": args.nats if len(fanouts) > 1 else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("auto", "sqlite", "postgresql"), default="auto")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--think-s", type=float, default=1.0)
    parser.add_argument("--notify-scaling", action="store_true", help="fan-out against replica count instead (PostgreSQL)")
    parser.add_argument("--replica-counts", default="1,2,4", help="with --notify-scaling: replica counts to try")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222", help="with --notify-scaling: a NATS server to compare")
    args = parser.parse_args(argv)
    if args.notify_scaling:
        args.replica_counts = [int(n) for n in args.replica_counts.split(",")]
        print(json.dumps(notify_scaling(args)))
        return 0
    kind, db_url, cleanup = _database(args.db)
    if kind == "sqlite" and args.replicas > 1:
        args.replicas = 1  # SQLite fans out in-process only: one replica is the honest set-up
    servers = [ServerProcess(db_url).start() for _ in range(args.replicas)]
    try:
        result = asyncio.run(_run(args, [s.target for s in servers], db_url))
    finally:
        for server in servers:
            server.stop()
        cleanup()
    print(json.dumps({**result, "replicas": args.replicas, "db": kind, "concurrency": args.concurrency,
                      "seconds": args.seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
