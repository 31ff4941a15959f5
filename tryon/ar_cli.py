"""``omnifit tryon``: the AR mirror over an image, a video or a camera.

Standard library only at module level (``omnifit --help`` stays fast); the
mirror is imported inside the handler.
"""
from __future__ import annotations

import argparse
import json
import logging

_LOGGER = logging.getLogger(__name__)

# Exit status of a still image on which nothing could be drawn (2 is bad input).
NOTHING_DRAWN = 3


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480; got {text!r}") from exc
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"frame size must be at least 16x16; got {text!r}")
    return width, height


def register(subparsers) -> None:
    parser = subparsers.add_parser("tryon", help="AR mirror: draw shoes or a garment on the people in an image, video or camera")
    parser.add_argument("--input", required=True, help="IMAGE, VIDEO or camera:N")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--shoe", help="shoe model (glTF or GLB; long axis X, Y up, sole at Y=0, metres)")
    what.add_argument("--sku", help="catalog SKU {product_id}-{colour}-{size} (shoe, top or bottom)")
    what.add_argument("--garment", help="garment image (PNG with alpha and its .json sidecar)")
    parser.add_argument("--variant", help="KHR_materials_variants variant of the --shoe model, e.g. beach")
    parser.add_argument("--out", required=True, help="composited image (image input) or video (video/camera input)")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    parser.add_argument("--size", type=_size, help="crop and resize frames to WIDTHxHEIGHT, e.g. 640x480")
    parser.add_argument("--hfov", type=float, default=60.0, help="camera horizontal field of view, degrees (default 60)")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames (camera input needs it or Ctrl-C)")
    parser.add_argument("--segmenter", choices=("pose", "selfie"), default="pose",
                        help="person mask: Pose's own (default) or MediaPipe selfie segmentation")
    parser.add_argument("--workers", type=int,
                        help="landmark threads, one MediaPipe graph each (default: 2 for a camera, 1 for files, "
                             "whose tracking is steadier when one graph sees every frame)")
    parser.set_defaults(handler=run_tryon)


def run_tryon(args: argparse.Namespace) -> int:
    from tryon.ar import ArInputError, BodyTracker, FrameSink, FrameSource, Mirror, build_tryon
    from tryon.ar.scene import MESSAGES, Notice

    if args.workers is not None and not 1 <= args.workers <= 8:
        raise ArInputError(f"--workers must be between 1 and 8; got {args.workers}")
    source = FrameSource(args.input, size=args.size, max_frames=args.max_frames)
    sink = FrameSink(args.out, fps=source.fps or 1.0, still=source.is_image)
    tryon = build_tryon(shoe=args.shoe, garment=args.garment, sku=args.sku, variant=args.variant)
    count = 1 if source.is_image else args.workers or (2 if args.input.startswith("camera:") else 1)
    trackers = [BodyTracker(static_image_mode=source.is_image, segmenter=args.segmenter) for _ in range(count)]
    try:
        stats = Mirror(tryon, trackers, hfov_deg=args.hfov).run(source, lambda result: sink.write(result.image))
    except BaseException:
        sink.discard()
        raise
    finally:
        for tracker in trackers:
            tracker.close()
    sink.close()
    summary = stats.summary()
    # A still image on which nothing could be drawn is a failure the caller must see (the
    # picture carries the reason); a video or camera run is judged frame by frame.
    drawn = summary["overlay_frames"] > 0
    if args.json:
        print(json.dumps({"input": args.input, "out": args.out, "drawn": drawn, **summary}))
    else:
        said = "; ".join(f"{MESSAGES[Notice(code)]} ({count} frames)" for code, count in summary["notices"].items())
        print(f"wrote {args.out}: {summary['frames']} frames, {summary['person_frames']} with a person, "
              f"{summary['overlay_frames']} drawn, {summary['fps']} fps" + (f"; {said}" if said else ""))
    if source.is_image and not drawn:
        _LOGGER.error("nothing drawn on %s: %s", args.input,
                      "; ".join(MESSAGES[Notice(code)] for code in summary["notices"]) or "no try-on possible")
        return NOTHING_DRAWN
    return 0
