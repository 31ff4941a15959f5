"""Face-pay checkout over gRPC: what a kiosk waits for after it has the embedding.

``python -m benchmarks.face_pay_grpc [--db sqlite|postgresql|both] [--n 40] [--bucket 10]`` starts
the cloud service on a fresh database, enrolls ``--bucket`` shoppers who share one phone's last 4
digits (the 1:few candidates; about 10 at 100,000 enrolled) plus 50 others, and then, ``--n``
times, a kiosk cart of one line is paid by face through :class:`cloud.client.SyncClient`. It
prints one JSON object with, per database, p50/p95 in milliseconds of:

- ``identify_ms``: ``IdentifyFace`` (the bucket's sealed templates read and opened, the match,
  the audit entry, the match token);
- ``checkout_ms``: identify, then ``CreateIntent`` with the match token, ``ConfirmIntent``,
  ``CaptureIntent`` (order, stock, ledger, receipt, the cart checked out).

Capture, quality gate, liveness and the embedding run on the kiosk and are measured by
``benchmarks/face_pay.py``; the sum of the two is the shopper's wait from capture to paid.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.pay_intents import _database
from cloud.client import FaceConsent, SyncClient
from cloud.server import ServerConfig, start_server

WARMUP = 3
PASSWORD = "correct horse battery"
CARD = "tok_visa_approve"
STORE = "sh-jingan"


def _face(rng: np.random.Generator) -> np.ndarray:
    vector = rng.normal(size=128)
    return vector / np.linalg.norm(vector) * 0.7


def _p(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(float(np.percentile(values, 95)), 2)}


async def _enroll(target: str, email: str, phone: str, face: np.ndarray) -> None:
    async with SyncClient(target) as app:
        await app.register(email, PASSWORD, phone)
        await app.enroll_face(face, consent=FaceConsent("face pay at Omnifit checkouts", 365), payment_token=CARD)


async def _cheapest_stocked_sku(kiosk: SyncClient) -> str:
    page = await kiosk.list_products(store_id=STORE, in_stock_only=True, page_size=50)
    product = min(page.products, key=lambda p: p.price.minor)  # below the PIN limit
    levels = await kiosk.stock(STORE, [v.sku for v in product.variants])
    return max(levels, key=levels.get)


async def _run(db_url: str, n: int, bucket: int, folder: Path) -> dict[str, dict[str, float]]:
    from cloud.admin import issue_device_token

    server = await start_server(ServerConfig(listen="127.0.0.1:0", db_url=db_url, face_key_file=folder / "kek.json"))
    target = f"127.0.0.1:{server.port}"
    rng = np.random.default_rng(20261127)
    try:
        shoppers = [_face(rng) for _ in range(bucket)]
        for index, face in enumerate(shoppers):
            await _enroll(target, f"b{index}@example.com", "+8613800138000", face)
        for index in range(50):
            await _enroll(target, f"o{index}@example.com", f"+86138001{index:05d}", _face(rng))
        token = await asyncio.to_thread(issue_device_token, db_url, STORE)
        identify, checkout = [], []
        async with SyncClient(target, token=token) as kiosk:
            sku = await _cheapest_stocked_sku(kiosk)
            for attempt in range(WARMUP + n):
                cart = await kiosk.add_line((await kiosk.create_cart(STORE)).cart_id, sku, pickup_only=False)
                probe = shoppers[attempt % bucket] + rng.normal(0, 0.01, 128)
                started = time.perf_counter()
                match = await kiosk.identify_face(probe, "8000")
                identified = time.perf_counter()
                intent = await kiosk.create_payment_intent(cart.cart_id, cart.subtotal, face_match=match)
                await kiosk.confirm_payment_intent(intent.intent_id)
                await kiosk.capture_payment_intent(intent.intent_id)
                done = time.perf_counter()
                if attempt >= WARMUP:
                    identify.append((identified - started) * 1000)
                    checkout.append((done - started) * 1000)
        return {"identify_ms": _p(identify), "checkout_ms": _p(checkout)}
    finally:
        await server.stop(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--n", type=int, default=40, help="timed checkouts per database")
    parser.add_argument("--bucket", type=int, default=10, help="enrolled shoppers sharing the phone digits")
    args = parser.parse_args(argv)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    result: dict[str, object] = {"n": args.n, "bucket": args.bucket}
    for kind in kinds:
        with _database(kind) as url, tempfile.TemporaryDirectory() as folder:
            result[kind] = asyncio.run(_run(url, args.n, args.bucket, Path(folder)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
