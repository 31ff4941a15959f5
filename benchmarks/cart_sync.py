"""Cart sync: mutation throughput against an empty RPC, cross-replica propagation, many shoppers.

``python -m benchmarks.cart_sync [--db auto|sqlite|postgresql] [--replicas 2] [--seconds 5]``
starts real ``omnifit serve`` processes on one database and prints one JSON object:

- ``echo_rps``: the gRPC health Check (an empty unary RPC) on the same server: the ceiling;
- ``mutation_rps``: ``UpdateLine`` (idempotency key, versioned write, change row, fan-out);
- ``ratio``: mutation_rps / echo_rps, both with the same client and concurrency;
- ``propagation_ms``: p50/p99 from sending a write through replica A to the event on a watcher of replica B;
- ``shoppers``: per-call latency of ``concurrent`` shoppers each creating a cart, adding lines,
  changing a quantity and reading the cart back, with think time between calls.
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
        cart = await stub.CreateCart(cart_pb2.CreateCartRequest(store_id=self.store_id, idempotency_key=uuid.uuid4().hex), metadata=self.metadata)
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
                cart = await timed(stub.CreateCart(cart_pb2.CreateCartRequest(store_id=self.store_id, idempotency_key=uuid.uuid4().hex), metadata=self.metadata))
                for sku in random.sample(self.skus, 2):
                    await asyncio.sleep(random.expovariate(1 / think_s))
                    cart = await timed(stub.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, sku=sku, quantity=1, idempotency_key=uuid.uuid4().hex), metadata=self.metadata))
                await asyncio.sleep(random.expovariate(1 / think_s))
                cart = await timed(stub.UpdateLine(cart_pb2.UpdateLineRequest(cart_id=cart.cart_id, line_id=cart.lines[0].line_id, quantity=2, idempotency_key=uuid.uuid4().hex, expected_version=cart.version), metadata=self.metadata))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("auto", "sqlite", "postgresql"), default="auto")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--think-s", type=float, default=1.0)
    args = parser.parse_args(argv)
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
