"""Mobile app: how fast a cart change crosses between a kiosk and the app, cold start, and frames while it does.

Starts ``omnifit serve`` on a fresh SQLite file and the real app (``mobile.run``) under the
X display it is given (run it under ``xvfb-run``). Inside the app's own loop it signs a shopper
up, claims a kiosk cart by its pairing code and opens the cart screen; then

- ``kiosk_to_app_ms``: a kiosk ``SyncClient`` (device token) sets the line's quantity, until the
  app has drawn the frame whose cart screen shows the new item count (``Window.on_flip``);
  ``kiosk_to_app_state_ms``, the same change until the app's ``cart`` property has it (network,
  server and fan-out without the drawing: the baseline the drawing adds to);
- ``app_to_kiosk_ms``: the app changes the quantity (the path its + button takes), until the
  kiosk's ``watch()`` has the new version;
- ``frame_ms_p95``: the app's frame times (Kivy clock ticks: input, callbacks, layout, drawing)
  while the kiosk's changes stream in; Kivy redraws only what changed, so each change costs a frame;
- ``cold_start_s``: ``omnifit mobile`` process start until its first screen is drawn (median of
  ``--cold-starts`` runs of a one-line script).

The kiosk's client shares the app's loop (grpc.aio serves one event loop per process), which
is the harder case for the app. Prints ONE JSON object::

    {"kiosk_to_app_ms": {"p50", "p99"}, "kiosk_to_app_state_ms": {...}, "app_to_kiosk_ms": {...}, "cold_start_s",
     "frame_ms_p95", "changes", "machine"}

    xvfb-run -a .venv/bin/python -m benchmarks.mobile_sync --changes 100
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cloud.testing import REPO_ROOT, ServerProcess

STORE = "sh-jingan"
SKU = "ka-swift-m-BLK-42"
PACE_S = 0.05  # between changes: a busy cart, not a flood


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": _percentile(values, 0.5), "p99": _percentile(values, 0.99), "n": len(values)}


class FrameProbe:
    """Times each frame (clock tick) and when the cart screen was first drawn showing each cart version."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        from kivy.clock import Clock
        from kivy.core.window import Window

        self.app = app
        self.frame_ms: list[float] = []
        self.shown: dict[int, float] = {}
        self.arrived: dict[int, float] = {}  # the watch's event in the app's state, before any drawing
        self._waiting: int | None = None
        Window.bind(on_flip=self._flip)
        app.bind(cart=self._cart)
        Clock.schedule_interval(lambda dt: self.frame_ms.append(dt * 1000), 0)

    def _cart(self, _app, cart) -> None:  # type: ignore[no-untyped-def]
        if cart is not None:
            self.arrived.setdefault(cart.version, time.monotonic())
            self._waiting = cart.version

    def _flip(self, *_args: object) -> None:
        now = time.monotonic()
        version, cart = self._waiting, self.app.cart
        screen = self.app.screen("cart")
        if version is not None and cart is not None and screen.summary.endswith(str(sum(line.quantity for line in cart.lines))):
            self.shown.setdefault(version, now)
            self._waiting = None


async def _until(predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the change never arrived")
        await asyncio.sleep(0.001)


async def _measure(app, target: str, device_token: str, changes: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from cloud.client import SyncClient

    client = app.client
    email = f"bench-{int(time.time() * 1000)}@example.com"
    session = await client.register(email, "correct horse battery", "+8613800138000")
    app.signed_in_as(email, session)
    async with SyncClient(target, token=device_token) as kiosk:
        cart = await kiosk.add_line((await kiosk.create_cart(STORE)).cart_id, SKU)
        code = await kiosk.create_pairing_code(cart.cart_id)
        claimed, profile = await client.claim_pairing_code(code.code)
        app.adopt_cart(claimed, profile)
        app.go("cart")
        probe = FrameProbe(app)
        await _until(lambda: app.cart is not None and app.cart.lines)
        line_id = app.cart.lines[0].line_id

        kiosk_seen: dict[int, float] = {}

        async def follow() -> None:
            async for event in kiosk.watch(cart.cart_id):
                kiosk_seen.setdefault(event.cart.version, time.monotonic())

        watcher = asyncio.ensure_future(follow())
        to_app: list[float] = []
        to_state: list[float] = []
        frames_from = len(probe.frame_ms)
        for step in range(changes):
            await asyncio.sleep(PACE_S)
            sent = time.monotonic()
            updated = await kiosk.update_line(cart.cart_id, line_id, 2 + step % 5)
            version = updated.version
            await _until(lambda version=version: version in probe.shown)
            to_app.append((probe.shown[version] - sent) * 1000)
            to_state.append((probe.arrived[version] - sent) * 1000)
        frames = probe.frame_ms[frames_from:]
        to_kiosk: list[float] = []
        for step in range(changes):
            await asyncio.sleep(PACE_S)
            sent = time.monotonic()
            updated = await client.update_line(cart.cart_id, line_id, 2 + (step + 1) % 5)
            version = updated.version
            await _until(lambda version=version: version in kiosk_seen)
            to_kiosk.append((kiosk_seen[version] - sent) * 1000)
        watcher.cancel()
    return {"kiosk_to_app_ms": _summary(to_app), "kiosk_to_app_state_ms": _summary(to_state),
            "app_to_kiosk_ms": _summary(to_kiosk),
            "frame_ms_p95": _percentile(frames, 0.95), "frame_ms_p50": _percentile(frames, 0.5), "frames": len(frames)}


def _live(target: str, device_token: str, data_dir: Path, changes: int) -> dict[str, object]:
    from mobile.config import MobileConfig
    from mobile.run import make_app, serve

    app = make_app(MobileConfig(targets=(target,), lang="en", data_dir=data_dir, headless=True))
    result: dict[str, object] = {}

    def start(running) -> None:  # type: ignore[no-untyped-def]
        async def run() -> None:
            try:
                result.update(await _measure(running, target, device_token, changes))
            except Exception as exc:  # reported in the JSON, never a hang
                result["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                running.stop()

        asyncio.ensure_future(run())

    app.on_started.append(start)
    asyncio.run(serve(app))
    return result


def _cold_start(target: str, folder: Path) -> float:
    script = folder / "cold.txt"
    script.write_text("wait catalog 60\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "omnifit.cli", "mobile", "--target", target, "--lang", "en",
                           "--data-dir", str(folder / f"cold-{time.time_ns()}"), "--script", str(script), "--json"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    if not report["ok"] or report.get("first_frame_at") is None:
        raise RuntimeError(f"cold start run failed: {done.stdout[-500:]} {done.stderr[-1500:]}")
    return float(report["first_frame_at"]) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100, help="changes each way (default 100)")
    parser.add_argument("--cold-starts", type=int, default=3, help="cold starts to take the median of (default 3)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        raise SystemExit("needs an X display: run under xvfb-run -a")
    from cloud.admin import issue_device_token

    with tempfile.TemporaryDirectory(prefix="omnifit-mobile-bench-") as folder:
        db_url = f"sqlite:///{folder}/cloud.sqlite"
        server = ServerProcess(db_url).start()
        try:
            token = issue_device_token(db_url, STORE)
            colds = [_cold_start(server.target, Path(folder)) for _ in range(args.cold_starts)]
            live = _live(server.target, token, Path(folder) / "app", args.changes)
        finally:
            server.stop()
    print(json.dumps({**live, "cold_start_s": round(statistics.median(colds), 2),
                      "cold_starts_s": [round(c, 2) for c in colds], "changes": args.changes,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"}))


if __name__ == "__main__":
    main()
