"""AR mirror benchmark: landmarks + render + composite at 640x480 over a real clip.

Runs the pipelined mirror (tracking on ``--workers`` threads, drawing on this one)
over the acceptance walking clip, cropped and resized to 640x480 and decoded
up front (a camera hands over decoded frames), looped ``--loops`` times, once
with a catalog shoe and once with a catalog top. Prints ONE JSON object:
``{"shoes": {"fps", "frame_ms": {"p50", "p95"}, "stages_ms": {...}, ...},
"clothing": {...}}``; the first ``--warmup`` frames are left out of the timings.

    .venv/bin/python -m benchmarks.ar_mirror
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys

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


def run_mirror(sku: str, frames, segmenter: str, workers: int, warmup: int) -> dict:
    from tryon.ar import BodyTracker, Mirror, build_tryon

    tryon = build_tryon(sku=sku)
    trackers = [BodyTracker(segmenter=segmenter) for _ in range(workers)]
    try:
        stats = Mirror(tryon, trackers).run(frames)
    finally:
        for tracker in trackers:
            tracker.close()
    return {"sku": sku, "workers": workers, **stats.summary(skip=warmup)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=2, help="times to play the 101-frame clip (default 2)")
    parser.add_argument("--warmup", type=int, default=10, help="frames left out of the timings (default 10)")
    parser.add_argument("--segmenter", choices=("pose", "selfie"), default="pose")
    parser.add_argument("--workers", type=int, default=2, help="landmark threads, one MediaPipe graph each (default 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not CLIP.is_file():
        print(f"benchmark clip not found: {CLIP}", file=sys.stderr)
        return 2
    frames = frames_for_timing(args.loops, (640, 480))
    result = {
        "input": f"{CLIP.name} x{args.loops}, 640x480, {len(frames)} frames",
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "segmenter": args.segmenter,
        "shoes": run_mirror(SHOE_SKU, frames, args.segmenter, args.workers, args.warmup),
        "clothing": run_mirror(TOP_SKU, frames, args.segmenter, args.workers, args.warmup),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
