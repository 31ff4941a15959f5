"""Kiosk UI responsiveness: frame times of the pygame loop while a foot scan runs in the background.

Starts ``omnifit serve`` on a fresh SQLite file, opens the kiosk headless
(``SDL_VIDEODRIVER=dummy``, 1280x800), and ``--scans`` times taps *Scan my feet* and
runs the loop as fast as a 30 fps kiosk would until the scan's result screen shows.
Each frame's time is the loop's own work (events, outcomes, drawing), and ``gap_ms``
is the time between frame starts (what a shopper sees as stutter). Prints ONE JSON
object: ``{"scans", "scan_s_median", "frame_ms": {"p50", "p95", "max"}, "gap_ms":
{"p50", "p95", "max"}, "frames", "machine"}``.

    .venv/bin/python -m benchmarks.kiosk_frames
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

FRAME_S = 1 / 30


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _scan_once(app) -> tuple[float, list[float], list[float]]:
    """One scan from the attract screen; (seconds, frame times ms, gaps between frame starts ms)."""
    frames: list[float] = []
    gaps: list[float] = []
    app.tap("Scan my feet")
    started = last = time.perf_counter()
    while app.screen.name == "scan" and app.screen.failed is None:
        begin = time.perf_counter()
        gaps.append((begin - last) * 1000)
        last = begin
        app.step([])
        frames.append((time.perf_counter() - begin) * 1000)
        time.sleep(max(0.0, FRAME_S - (time.perf_counter() - begin)))
        if begin - started > 300:
            raise TimeoutError("the scan did not finish within 300 s")
    if app.screen.name == "scan":
        raise RuntimeError(f"the scan failed: {app.screen.failed}")
    return time.perf_counter() - started, frames, gaps[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

    from cloud.admin import issue_device_token
    from cloud.testing import ServerProcess
    from kiosk.app.app import KioskApp
    from kiosk.app.config import KioskConfig

    with tempfile.TemporaryDirectory(prefix="omnifit-kiosk-bench-") as folder:
        db_url = f"sqlite:///{folder}/cloud.sqlite"
        server = ServerProcess(db_url).start()
        try:
            config = KioskConfig(targets=(server.target,), store_id="sh-jingan",
                                 device_token=issue_device_token(db_url, "sh-jingan"), data_dir=Path(folder) / "kiosk")
            app = KioskApp(config)
            try:
                app.wait_idle(30)
                seconds, frames, gaps = [], [], []
                for _ in range(args.scans):
                    scan_s, scan_frames, scan_gaps = _scan_once(app)
                    seconds.append(scan_s)
                    frames += scan_frames
                    gaps += scan_gaps
                    app.reset_session()
            finally:
                app.close()
        finally:
            server.stop()
    print(json.dumps({
        "scans": args.scans,
        "scan_s_median": round(statistics.median(seconds), 3),
        "frame_ms": {"p50": _percentile(frames, 0.5), "p95": _percentile(frames, 0.95), "max": round(max(frames), 2)},
        "gap_ms": {"p50": _percentile(gaps, 0.5), "p95": _percentile(gaps, 0.95), "max": round(max(gaps), 2)},
        "frames": len(frames),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }))


if __name__ == "__main__":
    main()
