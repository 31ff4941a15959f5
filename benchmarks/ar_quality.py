"""AR mirror quality: does the shopper's own shoe or top still show, do the drawn shoes sit
on the detected heel and toe, does a still foot's shoe hold still, does the garment sit
on the shoulders; and a contact sheet of every case to look at.

Runs ``omnifit tryon``'s path (the :class:`tryon.ar.Mirror` with a catalog SKU) over the
photos and the clip of ``shared/data/people`` (never the acceptance set). Every
reference is measured apart from the mirror's own masks:

- ``old_shoe_visible``: the shopper's shoe is MediaPipe *selfie* segmentation (not the
  Pose mask the mirror uses) inside the heel-toe-ankle triangle (from a fresh Pose run)
  grown by a third of the foot and cut at the ankle row; the fraction of those pixels
  left unchanged (no channel moved by more than 12) in the result and not the colour of
  the floor around them (within 30 of its median), over all cases.
- ``heel_toe_error_px``: median distance from the drawn shoe's rearmost and foremost
  points (the model's extremes, projected) to Pose's raw heel and toe landmarks, scaled
  to a 640-px-high frame.
- ``jitter_px``: median frame-to-frame motion of the drawn heel and toe over the squats
  clip, whose feet stay still (cases.json), scaled to 640 px high; p95 beside it.
- ``old_garment_visible``: the shopper's top is the selfie mask inside the shoulder-hip
  quad grown by a quarter and raised over the shoulders, in the colour of the quad's
  core; the fraction unchanged after drawing a top in the colour least like it (white on
  a dark top, black on a light one).
- ``shoulder_error_px``: at each shoulder landmark's column, the rows between the top
  edge of the person (selfie mask) and the top edge of the drawn garment, above the
  shoulder; scaled to 640 px high.
- ``mirror``: fps and frame p95 of ``benchmarks.ar_mirror`` (the acceptance walking clip,
  timings only) unless ``--no-fps``.

Prints ONE JSON object; writes ``out/ar_quality/contact_sheet.png`` (original | result).

    .venv/bin/python -m benchmarks.ar_quality
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from omnifit.shared import SHARED_DATA

PEOPLE = SHARED_DATA / "people"
CLIP = "tfjs_woman_squats_10s.mp4"
SHOE_SKU = "ka-swift-m-BLK-42"
TOP_SKUS = {"light": "hp-crew-m-BLK-M", "dark": "hp-crew-m-WHT-M"}
UNCHANGED = 12
SHEET = Path("out") / "ar_quality" / "contact_sheet.png"


def _scale(height: int) -> float:
    return 640.0 / height


class _Reference:
    """Pose (static) and selfie segmentation, run apart from the mirror's own tracker."""

    def __init__(self) -> None:
        import mediapipe as mp

        self.pose = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)
        self.selfie = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
        """(pixels (33, 2) or None, visibility (33,) or None, person mask (H, W) bool)."""
        import cv2

        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        height, width = image.shape[:2]
        mask = self.selfie.process(rgb).segmentation_mask > 0.5
        result = self.pose.process(rgb)
        if result.pose_landmarks is None:
            return None, None, mask
        raw = np.array([(p.x * width, p.y * height, p.visibility) for p in result.pose_landmarks.landmark])
        return raw[:, :2], raw[:, 2], mask

    def close(self) -> None:
        self.pose.close()
        self.selfie.close()


def _shoe_region(shape: tuple[int, int], pixels: np.ndarray, person: np.ndarray) -> np.ndarray:
    import cv2

    from tryon.ar import landmarks as lm

    region = np.zeros(shape, np.uint8)
    for ankle_i, heel_i, toe_i in lm.FOOT.values():
        ankle, heel, toe = pixels[ankle_i], pixels[heel_i], pixels[toe_i]
        length = max(8.0, float(np.linalg.norm(toe - heel)))
        zone = np.zeros(shape, np.uint8)
        cv2.fillConvexPoly(zone, np.round(np.stack([ankle, heel, toe])).astype(np.int32), 1)
        grow = int(round(length / 3))
        zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        zone[: max(int(ankle[1]), 0)] = 0
        region |= zone
    return region.astype(bool) & person


def _floor_like(image: np.ndarray, region: np.ndarray, person: np.ndarray, distance: float = 30.0) -> np.ndarray:
    """(H, W) bool: pixels whose colour is within ``distance`` (BGR) of the floor's median colour,
    the floor being a ring around ``region`` off the person. A dark shoe inpainted with dark
    carpet is "unchanged" yet shows no shoe; such pixels are not counted as the old shoe."""
    import cv2

    ys, xs = np.nonzero(region)
    if not len(xs):
        return np.zeros(region.shape, bool)
    reach = max(6, int(0.5 * max(np.ptp(xs), np.ptp(ys)) / 2))
    ring = cv2.dilate(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    ring &= ~region & ~person
    if ring.sum() < 20:
        return np.zeros(region.shape, bool)
    floor = np.median(image[ring].astype(np.float64), axis=0)
    return np.linalg.norm(image.astype(np.float64) - floor, axis=2) <= distance


def _top_region(image: np.ndarray, pixels: np.ndarray, person: np.ndarray) -> np.ndarray:
    """The shopper's top: the person (selfie mask) inside the shoulder-hip quad grown by a quarter
    about its centre and raised over the shoulders, in the colour (BGR within 45) of the quad's core."""
    import cv2

    from tryon.ar import landmarks as lm

    quad = pixels[[lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER, lm.RIGHT_HIP, lm.LEFT_HIP]]
    centre = quad.mean(axis=0)
    span = float(np.linalg.norm(quad[0] - quad[1]))
    grown = centre + 1.25 * (quad - centre)
    grown[:2, 1] -= 0.15 * span
    zone, core = np.zeros(image.shape[:2], np.uint8), np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(zone, np.round(grown).astype(np.int32), 1)
    cv2.fillConvexPoly(core, np.round(centre + 0.5 * (quad - centre)).astype(np.int32), 1)
    core_pixels = image[(core > 0) & person]
    if len(core_pixels) < 20:
        return np.zeros(image.shape[:2], bool)
    colour = np.median(core_pixels.astype(np.float64), axis=0)
    similar = np.linalg.norm(image.astype(np.float64) - colour, axis=2) <= 45.0
    return (zone > 0) & person & similar


def _unchanged(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2) <= UNCHANGED


def _drawn_heel_toe(tryon, camera) -> dict:
    """{side: (heel px, toe px)} of the shoes the try-on drew last."""
    out = {}
    for instance, side in zip(tryon.last_instances, tryon.last_sides, strict=True):
        points = np.concatenate([p.positions for p in instance.model.parts]).astype(np.float64)
        length = float(np.ptp(points[:, 0]))
        ends = []
        for chosen in (points[points[:, 0] <= points[:, 0].min() + 0.02 * length],
                       points[points[:, 0] >= points[:, 0].max() - 0.02 * length]):
            # The extreme of the sole-side half: heel counter and toe tip, not the collar or the laces.
            low = chosen[chosen[:, 1] <= np.median(chosen[:, 1])]
            ends.append(low.mean(axis=0))
        world = np.stack(ends) @ instance.pose[:3, :3].T + instance.pose[:3, 3]
        out[side] = camera.project(world)
    return out


def _top_edge(mask: np.ndarray, x: float, y: float) -> float | None:
    """Row of the mask's top edge directly above (x, y) when (x, y) is on the mask, else None."""
    height, width = mask.shape
    col, row = int(round(x)), int(round(y))
    if not (0 <= col < width and 0 <= row < height) or not mask[row, col]:
        return None
    column = mask[: row + 1, col]
    outside = np.flatnonzero(~column)
    return float(outside[-1] + 1) if len(outside) else 0.0


def _label(image: np.ndarray, text: str) -> None:
    import cv2

    cv2.rectangle(image, (0, 0), (image.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(image, text[:90], (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)


def _sheet_row(original: np.ndarray, result: np.ndarray, text: str, height: int = 420) -> np.ndarray:
    import cv2

    scale = height / original.shape[0]
    pair = np.hstack([cv2.resize(original, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                      cv2.resize(result, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)])
    _label(pair, text)
    return pair


def _run_still(tryon, image: np.ndarray):
    from tryon.ar import BodyTracker, Mirror
    from tryon.ar.sources import Frame

    results = []
    with BodyTracker(static_image_mode=True) as tracker:
        mirror = Mirror(tryon, [tracker], pipelined=False)
        mirror.run([Frame(0, 0.0, image)], results.append)
    return results[0], mirror.camera


def _shoe_cases(cases: list[dict], reference: _Reference, rows: list) -> dict:
    import cv2

    from tryon.ar import build_tryon
    from tryon.ar import landmarks as lm

    tryon = build_tryon(sku=SHOE_SKU)
    hidden = total = 0
    errors: list[float] = []
    per_case = {}
    for case in cases:
        image = cv2.imread(str(PEOPLE / case["file"]))
        result, camera = _run_still(tryon, image)
        notices = ",".join(n.value for n in result.notices)
        pixels, _, person = reference(image)
        entry: dict = {"drawn": result.overlay, "notices": notices}
        if case["feet_in_frame"] and pixels is not None:
            region = _shoe_region(image.shape[:2], pixels, person)
            left = region & _unchanged(image, result.image) & ~_floor_like(result.image, region, person)
            entry["old_shoe_pixels"] = int(region.sum())
            entry["old_shoe_visible"] = round(float(left.sum() / max(region.sum(), 1)), 3)
            hidden += int(region.sum() - left.sum())
            total += int(region.sum())
            if result.overlay:
                drawn = _drawn_heel_toe(tryon, camera)
                case_errors = []
                for side, (heel, toe) in drawn.items():
                    _, heel_i, toe_i = lm.FOOT[side]
                    case_errors += [float(np.linalg.norm(heel - pixels[heel_i])), float(np.linalg.norm(toe - pixels[toe_i]))]
                case_errors = [e * _scale(image.shape[0]) for e in case_errors]
                entry["heel_toe_error_px"] = round(float(np.median(case_errors)), 2) if case_errors else None
                errors += case_errors
        per_case[case["file"]] = entry
        rows.append(_sheet_row(image, result.image, f"shoes {SHOE_SKU} | {case['file']} | drawn={result.overlay} {notices}"))
    return {
        "sku": SHOE_SKU,
        "old_shoe_visible": round(1.0 - hidden / total, 3) if total else None,
        "heel_toe_error_px": round(float(np.median(errors)), 2) if errors else None,
        "cases": per_case,
    }


def _jitter(rows: list, max_frames: int | None) -> dict:
    import cv2

    from tryon.ar import BodyTracker, Mirror, build_tryon
    from tryon.ar.sources import FrameSource

    tryon = build_tryon(sku=SHOE_SKU)
    source = FrameSource(str(PEOPLE / CLIP), max_frames=max_frames)
    anchors: list[dict] = []
    results = []
    with BodyTracker() as tracker:
        mirror = Mirror(tryon, [tracker], pipelined=False)

        def keep(result) -> None:
            anchors.append(_drawn_heel_toe(tryon, mirror.camera) if result.overlay else {})
            if result.index % 10 == 0:
                results.append(result)

        mirror.run(source, keep)
    height = mirror.camera.height
    motion = []
    for before, after in zip(anchors, anchors[1:]):
        for side in set(before) & set(after):
            motion += list(np.linalg.norm(after[side] - before[side], axis=1) * _scale(height))
    first = cv2.VideoCapture(str(PEOPLE / CLIP))
    for result in results[:3]:
        first.set(cv2.CAP_PROP_POS_FRAMES, result.index)
        ok, original = first.read()
        if ok:
            rows.append(_sheet_row(original, result.image, f"clip {CLIP} frame {result.index} | drawn={result.overlay}"))
    first.release()
    return {
        "clip": CLIP,
        "frames": len(anchors),
        "drawn_frames": sum(bool(a) for a in anchors),
        "jitter_px": round(float(np.median(motion)), 3) if motion else None,
        "jitter_p95_px": round(float(np.percentile(motion, 95)), 3) if motion else None,
    }


def _garment_cases(cases: list[dict], reference: _Reference, rows: list) -> dict:
    import cv2

    from tryon.ar import build_tryon
    from tryon.ar import landmarks as lm

    tryons = {tone: build_tryon(sku=sku) for tone, sku in TOP_SKUS.items()}
    hidden = total = 0
    errors: list[float] = []
    per_case = {}
    for case in cases:
        image = cv2.imread(str(PEOPLE / case["file"]))
        pixels, visibility, person = reference(image)
        tone = "light"
        region = None
        if pixels is not None:
            region = _top_region(image, pixels, person)
            if region.any():
                tone = "light" if float(image[region].mean()) > 110 else "dark"
        tryon = tryons[tone]
        result, camera = _run_still(tryon, image)
        notices = ",".join(n.value for n in result.notices)
        entry: dict = {"sku": TOP_SKUS[tone], "drawn": result.overlay, "notices": notices}
        if region is not None and region.sum() > 200 and case.get("whole_body", False):
            left = region & _unchanged(image, result.image)
            entry["old_garment_visible"] = round(float(left.sum() / region.sum()), 3)
            hidden += int(region.sum() - left.sum())
            total += int(region.sum())
            drawn = ~_unchanged(image, result.image)
            for shoulder in (lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER):
                if visibility[shoulder] < 0.5:
                    continue
                x, y = pixels[shoulder]
                body_top = _top_edge(person, x, y)
                garment_top = _top_edge(drawn, x, y)
                if body_top is None:
                    continue
                error = abs((garment_top if garment_top is not None else y) - body_top) * _scale(image.shape[0])
                errors.append(float(error))
        per_case[case["file"]] = entry
        rows.append(_sheet_row(image, result.image, f"top {TOP_SKUS[tone]} | {case['file']} | drawn={result.overlay} {notices}"))
    return {
        "skus": TOP_SKUS,
        "old_garment_visible": round(1.0 - hidden / total, 3) if total else None,
        "shoulder_error_px": round(float(np.median(errors)), 2) if errors else None,
        "cases": per_case,
    }


def _save_sheet(rows: list, path: Path) -> None:
    import cv2

    width = max(r.shape[1] for r in rows)
    padded = [np.hstack([r, np.zeros((r.shape[0], width - r.shape[1], 3), np.uint8)]) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack(padded))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-fps", action="store_true", help="leave out the ar_mirror timing run")
    parser.add_argument("--clip-frames", type=int, help="frames of the squats clip for the jitter (default: all)")
    parser.add_argument("--sheet", type=Path, default=SHEET, help=f"contact sheet path (default {SHEET})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    cases_file = PEOPLE / "cases.json"
    if not cases_file.is_file():
        print(f"people data not found: {cases_file}", file=sys.stderr)
        return 2
    cases = [c for c in json.loads(cases_file.read_text())["cases"] if c["kind"] == "photo"]
    started = time.perf_counter()
    reference = _Reference()
    shoe_rows: list = []
    garment_rows: list = []
    try:
        shoes = _shoe_cases(cases, reference, shoe_rows)
        garments = _garment_cases(cases, reference, garment_rows)
    finally:
        reference.close()
    clip_rows: list = []
    shoes["still_foot"] = _jitter(clip_rows, args.clip_frames)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "old_shoe_visible": shoes["old_shoe_visible"],
        "heel_toe_error_px": shoes["heel_toe_error_px"],
        "jitter_px": shoes["still_foot"]["jitter_px"],
        "old_garment_visible": garments["old_garment_visible"],
        "shoulder_error_px": garments["shoulder_error_px"],
        "goals": {"old_shoe_visible": 0.05, "heel_toe_error_px": 6, "jitter_px": 1.5, "old_garment_visible": 0.05,
                  "shoulder_error_px": 8, "fps": 30, "frame_p95_ms": 33},
        "shoes": shoes,
        "garments": garments,
    }
    _save_sheet(shoe_rows + clip_rows + garment_rows, args.sheet)
    result["contact_sheet"] = str(args.sheet)
    if not args.no_fps:
        from benchmarks import ar_mirror

        frames = ar_mirror.frames_for_timing(1)
        mirror = ar_mirror.run_mirror(ar_mirror.SHOE_SKU, frames, "pose", 2, 10)
        result["mirror"] = {"fps": mirror["fps"], "frame_ms": mirror["frame_ms"], "frames": mirror["frames"]}
    result["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
