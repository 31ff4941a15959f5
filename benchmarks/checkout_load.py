"""Peak load: a store chain's shoppers against two ``omnifit serve`` replicas on PostgreSQL.

``python -m benchmarks.checkout_load [--shoppers 200] [--replicas 2] [--kiosks 20] [--think-s 0.5]
[--ramp-s 10] [--max-seconds 180] [--db postgresql|sqlite]`` starts the replicas on a fresh
database (loopback only), registers the shoppers (set-up, not timed), then runs every shopper's
journey once, all at the same time:

browse (ListProducts, GetProduct, GetStock) → the kiosk creates a cart and adds two shoes → pairing
(the kiosk's code, the phone claims it) → the phone watches the cart on the *other* replica → the
phone changes a quantity, the kiosk removes that line → card checkout at the kiosk through intents
(CreateIntent, ConfirmIntent, CaptureIntent: the sandbox card network, ledger, order, receipt).

Every call goes through the product's own ``SyncClient`` (retries, failover, idempotency keys),
with exponential think time between steps; the run is bounded by ``--shoppers`` journeys and
``--max-seconds``. It prints one JSON object: ``db``, ``replicas``, ``shoppers``, ``calls``,
``errors``, ``lost``, ``doubled``, ``p99_ms`` (``cart``: every cart call; ``checkout``: the three
intent calls of one payment together), throughput, p50/p95/p99 per call type, and the watchers'
lag from a write's answer to its event on the other replica. Afterwards it checks in the database
that every acknowledged cart version is stored once and nothing else is (``lost``/``doubled``),
each cart's lines are what the clients did, and every captured payment has its one order, its
receipt and balanced ledger entries (``payments_without_order``, ``payments_unbalanced``).

Each phone comes from an address of its own, as phones on mobile networks do: the replicas trust
the loopback as a proxy (``--trusted-proxy 127.0.0.1/32``) and each phone names its address in
``x-forwarded-for``, so the per-address registration and sign-in limits see 200 shoppers, not one.

Why not Locust: its users are gevent greenlets, and the product's client is ``grpc.aio`` (asyncio),
which does not run under gevent (grpc's gevent support covers the synchronous API only). Driving
Locust would mean measuring another client than the one the kiosk and the app run; so the same
user/task shape (one task per shopper, think time, a ramp) runs on asyncio here.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from benchmarks.cart_sync import _database, _percentile
from cloud.admin import issue_device_token
from cloud.client import ClientError, SyncClient
from cloud.client.client import RetryPolicy
from cloud.client.types import Cart, CartEvent, CartStatus
from cloud.storage import schema
from cloud.testing import ServerProcess
from omnifit.errors import ErrorCode
from payments import storage as pay_schema

APPROVE = "tok_visa_approve"
PASSWORD, PIN = "correct horse 1", "2468"
CART_CALLS = ("create_cart", "add_line", "update_line", "remove_line", "get_cart")


@dataclass
class Shopper:
    index: int
    email: str
    token: str = ""
    cart_id: str = ""
    acked: set[int] = field(default_factory=set)  # cart versions the clients were answered with
    expected: dict[str, int] = field(default_factory=dict)  # sku -> quantity the clients asked for
    captured_intent: str = ""
    acked_at: dict[int, float] = field(default_factory=dict)
    seen_at: dict[int, float] = field(default_factory=dict)
    final_version: int = 0


class Run:
    def __init__(self, think_s: float) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.think_s = think_s
        self.pin_asked = 0  # confirms answered "PIN needed" (at or above the limit), then confirmed with it

    async def timed(self, kind: str, coro):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            result = await coro
        except Exception as exc:
            self.errors[kind] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{kind}: {type(exc).__name__}: {exc}")
            raise
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        return result

    async def think(self) -> None:
        await asyncio.sleep(random.expovariate(1 / self.think_s) if self.think_s > 0 else 0)


class _Phone(SyncClient):
    """The app's client, calling from its own (simulated) network address."""

    def __init__(self, *args, address: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.address = address

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (*super()._metadata(), ("x-forwarded-for", self.address))


def _ack(shopper: Shopper, cart: Cart | object) -> Cart:
    if not isinstance(cart, Cart):
        raise RuntimeError(f"mutation queued in the outbox instead of applied: {cart}")
    shopper.acked.add(cart.version)
    shopper.acked_at.setdefault(cart.version, time.perf_counter())
    return cart


async def _journey(run: Run, shopper: Shopper, kiosk: SyncClient, phone: SyncClient, store_id: str) -> None:
    page = await run.timed("list_products", kiosk.list_products(store_id=store_id))
    product = random.choice(page.products)
    await run.think()
    detail = await run.timed("get_product", kiosk.get_product(product.product_id))
    await run.timed("stock", kiosk.stock(store_id, [v.sku for v in detail.variants]))
    first, second = random.sample([v.sku for p in page.products for v in p.variants[:1]], 2)
    await run.think()
    cart = _ack(shopper, await run.timed("create_cart", kiosk.create_cart(store_id)))
    shopper.cart_id = cart.cart_id
    for sku in (first, second):
        cart = _ack(shopper, await run.timed("add_line", kiosk.add_line(cart.cart_id, sku, 1)))
        shopper.expected[sku] = shopper.expected.get(sku, 0) + 1
        await run.think()
    code = await run.timed("create_pairing_code", kiosk.create_pairing_code(cart.cart_id))
    claimed, _ = await run.timed("claim_pairing_code", phone.claim_pairing_code(code.code))
    cart = _ack(shopper, claimed)
    watching = asyncio.create_task(_watch(shopper, phone, cart.version))
    try:
        await run.think()
        line = next(line for line in cart.lines if line.sku == second)
        cart = _ack(shopper, await run.timed("update_line", phone.update_line(cart.cart_id, line.line_id, 2)))
        shopper.expected[second] = 2
        await run.think()
        line = next(line for line in cart.lines if line.sku == second)
        cart = _ack(shopper, await run.timed("remove_line", kiosk.remove_line(cart.cart_id, line.line_id)))
        del shopper.expected[second]
        await run.think()
        cart = await run.timed("get_cart", kiosk.get_cart(cart.cart_id))
        started = time.perf_counter()
        intent = await run.timed("create_intent", kiosk.create_payment_intent(cart.cart_id, cart.subtotal, payment_token=APPROVE))
        await _confirm(run, kiosk, intent.intent_id)
        await run.timed("capture_intent", kiosk.capture_payment_intent(intent.intent_id))
        run.latencies["checkout"].append((time.perf_counter() - started) * 1000)
        shopper.captured_intent = intent.intent_id
        final = await run.timed("get_cart", kiosk.get_cart(cart.cart_id))
        shopper.acked.add(final.version)  # the capture's check-out
        shopper.acked_at.setdefault(final.version, time.perf_counter())
        shopper.final_version = final.version
        deadline = time.perf_counter() + 15
        while max(shopper.seen_at, default=0) < final.version and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)


async def _confirm(run: Run, kiosk: SyncClient, intent_id: str) -> None:
    """As the kiosk does: confirm; at or above the PIN limit the answer asks for the PIN, typed, confirmed again."""
    started = time.perf_counter()
    try:
        await kiosk.confirm_payment_intent(intent_id)
    except ClientError as exc:
        if exc.code is not ErrorCode.FAILED_PRECONDITION or "PIN" not in str(exc):
            run.errors["confirm_intent"] += 1
            run.error_samples.append(f"confirm_intent: {exc}")
            raise
        run.pin_asked += 1
        await run.timed("confirm_intent_pin", kiosk.confirm_payment_intent(intent_id, PIN))
    run.latencies["confirm_intent"].append((time.perf_counter() - started) * 1000)


async def _watch(shopper: Shopper, phone: SyncClient, after_version: int) -> None:
    event: CartEvent
    async for event in phone.watch(shopper.cart_id, after_version=after_version):
        shopper.seen_at.setdefault(event.cart.version, time.perf_counter())
        if event.cart.status is CartStatus.CHECKED_OUT:
            return


def _stats(samples: list[float]) -> dict[str, float]:
    return {"n": len(samples), "p50": round(statistics.median(samples), 1), "p95": round(_percentile(samples, 95), 1),
            "p99": round(_percentile(samples, 99), 1)} if samples else {"n": 0}


def _verify(db_url: str, shoppers: list[Shopper]) -> dict[str, int]:
    """What the database holds against what the clients were told."""
    engine = sa.create_engine(db_url.replace("postgresql+psycopg", "postgresql+psycopg"))
    carts = [s for s in shoppers if s.cart_id]
    ids = [s.cart_id for s in carts]
    lost = doubled = wrong_lines = 0
    with engine.connect() as conn:
        stored: dict[str, list[int]] = defaultdict(list)
        for row in conn.execute(sa.select(schema.cart_changes.c.cart_id, schema.cart_changes.c.version)
                                .where(schema.cart_changes.c.cart_id.in_(ids))):
            stored[row.cart_id].append(row.version)
        lines: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in conn.execute(sa.select(schema.cart_lines.c.cart_id, schema.cart_lines.c.sku, schema.cart_lines.c.quantity)
                                .where(schema.cart_lines.c.cart_id.in_(ids))):
            lines[row.cart_id][row.sku] += row.quantity
        intents = pay_schema.payment_intents
        per_cart = dict(conn.execute(sa.select(intents.c.cart_id, sa.func.count()).where(
            intents.c.cart_id.in_(ids), intents.c.state == "captured").group_by(intents.c.cart_id)).all())
        captured = [s.captured_intent for s in carts if s.captured_intent]
        orders = dict(conn.execute(sa.select(pay_schema.orders.c.intent_id, sa.func.count()).where(
            pay_schema.orders.c.intent_id.in_(captured)).group_by(pay_schema.orders.c.intent_id)).all())
        receipts = set(conn.execute(sa.select(pay_schema.receipts.c.intent_id).where(
            pay_schema.receipts.c.intent_id.in_(captured))).scalars())
        entries, postings = pay_schema.ledger_entries, pay_schema.ledger_postings
        balance = dict(conn.execute(sa.select(entries.c.intent_id, sa.func.sum(postings.c.amount_minor))
                                    .join_from(postings, entries, postings.c.entry_id == entries.c.entry_id)
                                    .where(entries.c.intent_id.in_(captured)).group_by(entries.c.intent_id)).all())
    engine.dispose()
    for shopper in carts:
        versions = stored.get(shopper.cart_id, [])
        lost += len(shopper.acked - set(versions))
        doubled += len(versions) - len(set(versions)) + len(set(versions) - shopper.acked)
        if shopper.captured_intent and {k: v for k, v in lines[shopper.cart_id].items()} != shopper.expected:
            wrong_lines += 1
    return {
        "lost": lost, "doubled": doubled, "carts_with_wrong_lines": wrong_lines,
        "payments_captured": len(captured),
        "payments_doubled": sum(1 for count in per_cart.values() if count > 1),
        "payments_without_order": sum(1 for i in captured if orders.get(i) != 1 or i not in receipts),
        "payments_unbalanced": sum(1 for i in captured if i not in balance or balance[i] != 0),
    }


async def _run(args: argparse.Namespace, targets: list[str], db_url: str) -> dict:
    retry = RetryPolicy(attempts=6, initial_backoff_s=0.05, max_backoff_s=1.0, call_timeout_s=10.0)
    async with SyncClient(targets[0], retry=retry) as anonymous:
        stores = [store.store_id for store in await anonymous.list_stores()]
    kiosks = []
    for k in range(args.kiosks):
        store_id = stores[k % len(stores)]
        token = await asyncio.to_thread(issue_device_token, db_url, store_id)
        kiosks.append((SyncClient([targets[k % len(targets)], *targets], token=token, retry=retry), store_id))
    shoppers = [Shopper(i, f"peak-{uuid.uuid4().hex[:8]}-{i}@example.com") for i in range(args.shoppers)]
    phones = [_Phone([targets[(i + 1) % len(targets)], *targets], retry=retry, address=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
              for i in range(args.shoppers)]
    register_gate = asyncio.Semaphore(8)

    async def register(shopper: Shopper, phone: SyncClient) -> None:
        async with register_gate:
            session = await phone.register(shopper.email, PASSWORD, "+8613800138000", f"Peak {shopper.index}")
            phone.token = session.token
            await phone.set_payment_pin(PIN, password=PASSWORD)

    await asyncio.gather(*(register(s, p) for s, p in zip(shoppers, phones, strict=True)))
    baseline = await _echo_baseline(targets, args.shoppers)
    run = Run(args.think_s)
    failed_journeys = 0

    async def shopper_task(shopper: Shopper) -> None:
        nonlocal failed_journeys
        await asyncio.sleep(random.uniform(0, args.ramp_s))
        kiosk, store_id = kiosks[shopper.index % len(kiosks)]
        try:
            await _journey(run, shopper, kiosk, phones[shopper.index], store_id)
        except Exception:  # noqa: BLE001 - counted in run.errors; the journey stops there
            failed_journeys += 1

    started = time.perf_counter()
    tasks = [asyncio.create_task(shopper_task(s)) for s in shoppers]
    done, pending = await asyncio.wait(tasks, timeout=args.max_seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - started
    for client in [*phones, *(k for k, _ in kiosks)]:
        await client.close()

    lags = [max(0.0, (s.seen_at[v] - s.acked_at[v]) * 1000) for s in shoppers for v in s.acked_at if v in s.seen_at]
    missed = sum(1 for s in shoppers if s.final_version and max(s.seen_at, default=0) < s.final_version)
    checks = await asyncio.to_thread(_verify, db_url, shoppers)
    calls = sum(len(v) for k, v in run.latencies.items() if k != "checkout")
    cart_samples = [x for k in CART_CALLS for x in run.latencies[k]]
    return {
        "shoppers": args.shoppers, "calls": calls, "errors": sum(run.errors.values()),
        "lost": checks["lost"], "doubled": checks["doubled"],
        "p99_ms": {"cart": round(_percentile(cart_samples, 99), 1) if cart_samples else None,
                   "checkout": round(_percentile(run.latencies["checkout"], 99), 1) if run.latencies["checkout"] else None},
        "p50_ms": {"cart": round(statistics.median(cart_samples), 1) if cart_samples else None,
                   "checkout": round(statistics.median(run.latencies["checkout"]), 1) if run.latencies["checkout"] else None},
        "throughput_calls_per_s": round(calls / elapsed, 1), "seconds": round(elapsed, 1),
        "journeys_completed": sum(1 for s in shoppers if s.captured_intent), "journeys_failed": failed_journeys,
        "journeys_unfinished": len(pending),
        "per_call": {k: _stats(v) for k, v in sorted(run.latencies.items())},
        "errors_by_call": dict(run.errors), "error_samples": run.error_samples,
        "watch_lag_ms": _stats(lags), "watchers_missing_final": missed,
        **{k: v for k, v in checks.items() if k not in ("lost", "doubled")},
        "baseline_echo_ms": baseline, "pin_asked": run.pin_asked,
        "think_s": args.think_s, "ramp_s": args.ramp_s, "kiosks": args.kiosks,
    }


async def _echo_baseline(targets: list[str], concurrent: int, per_caller: int = 5) -> dict[str, float]:
    """The floor on this machine now: the gRPC health Check (an empty RPC), ``concurrent`` callers at once."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    channels = [grpc.aio.insecure_channel(t) for t in targets]
    samples: list[float] = []

    async def caller(index: int) -> None:
        stub = health_pb2_grpc.HealthStub(channels[index % len(channels)])
        for _ in range(per_caller):
            started = time.perf_counter()
            await stub.Check(health_pb2.HealthCheckRequest())
            samples.append((time.perf_counter() - started) * 1000)

    try:
        await asyncio.gather(*(caller(i) for i in range(concurrent)))
    finally:
        for channel in channels:
            await channel.close()
    return _stats(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--kiosks", type=int, default=20)
    parser.add_argument("--think-s", type=float, default=0.5, help="mean think time between a shopper's steps")
    parser.add_argument("--ramp-s", type=float, default=10.0, help="shoppers start spread over this many seconds")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="stop unfinished journeys after this long")
    args = parser.parse_args(argv)
    if args.shoppers < 1 or args.replicas < 1 or args.kiosks < 1:
        parser.error("--shoppers, --replicas and --kiosks must be at least 1")
    kind, db_url, cleanup = _database(args.db)
    if kind == "sqlite":
        args.replicas = 1  # several processes on one SQLite file see each other only by polling
    issue_device_token(db_url, "sh-jingan")  # migrate and seed before the replicas race to
    servers = [ServerProcess(db_url, extra_args=("--trusted-proxy", "127.0.0.1/32")).start() for _ in range(args.replicas)]
    try:
        result = asyncio.run(_run(args, [s.target for s in servers], db_url))
    finally:
        for server in servers:
            server.stop()
        cleanup()
    print(json.dumps({"db": kind, "replicas": args.replicas, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
