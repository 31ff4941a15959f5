"""AR mirror benchmark: landmarks + render + composite at 640x480 over a real clip.

Runs the pipelined mirror (tracking on ``--workers`` threads, drawing on this one)
over the acceptance walking clip, cropped and resized to 640x480 and decoded
up front (a camera hands over decoded frames), looped ``--loops`` times, once
with a catalog shoe and once with a catalog top. Prints ONE JSON object:
``{"shoes": {"fps", "frame_ms": {"p50", "p95"}, "stages_ms": {...}, ...},
"clothing": {...}}``; the first ``--warmup`` frames are left out of the timings.

``--load scan`` measures the mirror twice in one run: on its own, then while a kiosk's
foot scan (``kiosk.app.scanner.scan_feet`` on the synthetic rig, as the kiosk's work
process runs it) loops in another process: the background load a kiosk really has.
``--landmarks adaptive`` lets the mirror skip Pose on every other frame when the
trackers fall behind 30 fps (``Mirror(landmark_every=None)``); ``every`` runs it on all.
``--inline`` measures the kiosk's own set-up (one tracker on the drawing thread): skipping
is meant for it; with two pipelined trackers each graph would see only every 4th frame.

    .venv/bin/python -m benchmarks.ar_mirror
    .venv/bin/python -m benchmarks.ar_mirror --load scan --landmarks adaptive
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import platform
import sys
import time

from omnifit.shared import SHARED

CLIP = SHARED / "acceptance" / "people" / "intel_walk_to_table_10s.mp4"
SHOE_SKU = "ka-swift-m-BLK-42"
TOP_SKU = "hp-crew-m-WHT-M"


def frames_for_timing(loops: int, size: tuple[int, int] = (640, 480)):
    from tryon.ar.sources import Frame, FrameSource

    clip = list(FrameSource(str(CLIP), size=size))
    period = clip[-1].time_s + 1.0 / 10.0
    return [Frame(i, loop * period + f.time_s, f.image) for i, (loop, f) in
            enumerate((loop, f) for loop in range(loops) for f in clip)]


def run_mirror(sku: str, frames, segmenter: str, workers: int, warmup: int, landmark_every: int | None = 1,
               inline: bool = False) -> dict:
    from tryon.ar import BodyTracker, Mirror, build_tryon

    tryon = build_tryon(sku=sku)
    trackers = [BodyTracker(segmenter=segmenter) for _ in range(1 if inline else workers)]
    try:
        stats = Mirror(tryon, trackers, landmark_every=landmark_every, pipelined=not inline).run(frames)
    finally:
        for tracker in trackers:
            tracker.close()
    return {"sku": sku, "workers": 1 if inline else workers, "inline": inline, **stats.summary(skip=warmup)}


def _scan_loop(stop, done) -> None:
    """Foot scans back to back, as the kiosk's work process runs them, until ``stop`` is set."""
    from kiosk.app.config import KioskConfig
    from kiosk.app.scanner import scan_feet

    config = KioskConfig(targets=("127.0.0.1:1",), camera="synthetic")  # a scan never calls the cloud
    shopper = 0
    while not stop.is_set():
        scan_feet(config, shopper, lambda *_: None)
        shopper += 1
        with done.get_lock():
            done.value += 1


class ScanLoad:
    """A kiosk foot scan looping in another process while the block runs; ``scans`` counts the finished ones."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._done = context.Value("i", 0)
        self._process = context.Process(target=_scan_loop, args=(self._stop, self._done), daemon=True)

    def __enter__(self) -> ScanLoad:
        self._process.start()
        time.sleep(8.0)  # the scanning stack is imported and the first scan under way
        self.started = self._done.value
        self.cpu_started = self._cpu_s()
        return self

    def _cpu_s(self) -> float:
        """CPU seconds the scan process has used (Linux /proc), to show the load was real."""
        try:
            fields = open(f"/proc/{self._process.pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        self.scans = self._done.value - self.started
        self.alive = self._process.is_alive()
        self.cpu_s = round(self._cpu_s() - self.cpu_started, 1)
        self._stop.set()
        if not self.alive:
            raise RuntimeError("the background scan died during the measurement (its error is above): no load figure")
        self._process.join(timeout=120)
        if self._process.is_alive():
            self._process.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=2, help="times to play the 101-frame clip (default 2)")
    parser.add_argument("--warmup", type=int, default=10, help="frames left out of the timings (default 10)")
    parser.add_argument("--segmenter", choices=("pose", "selfie"), default="pose")
    parser.add_argument("--workers", type=int, default=2, help="landmark threads, one MediaPipe graph each (default 2)")
    parser.add_argument("--load", choices=("none", "scan"), default="none",
                        help="scan: measure again while a kiosk foot scan loops in another process")
    parser.add_argument("--landmarks", choices=("every", "adaptive"), default="every",
                        help="Pose on every frame, or skip every other frame when behind 30 fps")
    parser.add_argument("--only", choices=("shoes", "clothing"), help="measure one try-on only")
    parser.add_argument("--inline", action="store_true",
                        help="the kiosk's mirror: one tracker on the drawing thread (kiosk.app.mirror.run_mirror)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not CLIP.is_file():
        print(f"benchmark clip not found: {CLIP}", file=sys.stderr)
        return 2
    frames = frames_for_timing(args.loops, (640, 480))
    every = None if args.landmarks == "adaptive" else 1
    kinds = {"shoes": SHOE_SKU, "clothing": TOP_SKU}
    if args.only:
        kinds = {args.only: kinds[args.only]}
    result: dict = {
        "input": f"{CLIP.name} x{args.loops}, 640x480, {len(frames)} frames",
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "machine": platform.machine(),
        "segmenter": args.segmenter,
        "landmarks": args.landmarks,
    }
    for kind, sku in kinds.items():
        result[kind] = run_mirror(sku, frames, args.segmenter, args.workers, args.warmup, every, args.inline)
    if args.load == "scan":
        loaded: dict = {}
        with ScanLoad() as load:
            for kind, sku in kinds.items():
                loaded[kind] = run_mirror(sku, frames, args.segmenter, args.workers, args.warmup, every, args.inline)
        loaded["scans_during"] = load.scans
        loaded["scan_process"] = {"alive_to_the_end": load.alive, "cpu_s": load.cpu_s}
        result["under_scan"] = loaded
        result["fps_ratio_under_scan"] = {k: round(loaded[k]["fps"] / result[k]["fps"], 3) if result[k]["fps"] else None
                                          for k in kinds}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
