"""Payment intents: latency of the checkout money path on the sandbox gateway.

``python -m benchmarks.pay_intents [--db sqlite|postgresql|both] [--n 200]`` prints one JSON
object with, per database, the p50/p95 in milliseconds of:

- ``checkout_ms``: :meth:`PaymentService.authorize_and_capture` (create, confirm, capture:
  idempotency keys, intent lock, sandbox network, ledger entry, order, receipt);
- ``replay_ms``: the same call again with the same key (a double tap: answered from the key store);
- ``refund_ms``: a partial staff refund (gateway, ledger entry, audit entry).

The database is a fresh SQLite file or a fresh PostgreSQL schema, dropped afterwards.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

from payments.audit import AuditLog
from payments.gateways import SandboxGateway
from payments.money import Money
from payments.service import PaymentService, StaffRoster
from payments.storage import create_engine, create_schema

PG_URL = os.environ.get("OMNIFIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WARMUP = 10


@contextlib.contextmanager
def _database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    raw = PG_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(raw, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _timed(fn: Callable[[int], object], n: int) -> dict[str, float]:
    samples = []
    for index in range(n + WARMUP):
        start = time.perf_counter()
        fn(index)
        if index >= WARMUP:
            samples.append((time.perf_counter() - start) * 1000)
    ordered = sorted(samples)
    return {"p50": round(statistics.median(ordered), 2), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2)}


def measure(url: str, n: int) -> dict[str, dict[str, float]]:
    engine = create_engine(url)
    create_schema(engine)
    service = PaymentService(engine, {"sandbox": SandboxGateway(engine)}, staff=StaffRoster(["st-bench"]),
                             audit=AuditLog(engine))
    run = uuid.uuid4().hex[:8]

    def checkout(index: int):  # type: ignore[no-untyped-def]
        return service.authorize_and_capture(
            key=f"{run}-{index}", amount=Money.parse("599.00", "CNY"), payment_token="tok_visa_approve",
            cart_id=f"cart-{index}", store_id="sh-jingan", shopper_id="shopper-bench",
        )

    captured = []
    results = {"checkout_ms": _timed(lambda i: captured.append(checkout(i)), n)}
    results["replay_ms"] = _timed(checkout, n)
    results["refund_ms"] = _timed(lambda i: service.refund(
        captured[i].intent_id, key=f"{run}-refund-{i}", amount=Money.parse("10.00", "CNY"), staff_id="st-bench"), n)
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--n", type=int, default=200, help="timed calls per figure (after 10 warm-up calls)")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    report: dict[str, object] = {"n": args.n}
    for kind in kinds:
        with _database(kind) as url:
            report[kind] = measure(url, args.n)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
