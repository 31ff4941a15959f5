"""Taking the shopper's own shoes out of the frame before the new ones are drawn.

:func:`old_shoe_mask` finds each old shoe from the foot landmarks and the person
mask: the zone around heel, toe and ankle (cut at the ankle along the shin, so the
trouser leg stays), the person mask inside it, then GrabCut on that small window
to follow the shoe's colour edges. :func:`erase` fills the found pixels from the floor
around them (OpenCV's Telea inpainting) on the window only, so it stays cheap.
"""
from __future__ import annotations

import numpy as np

from tryon.ar import landmarks as lm


def foot_zone(shape: tuple[int, int], pixels: np.ndarray, side: lm.Side, grow: float = 0.35,
              above_ankle: float = 0.12) -> np.ndarray:
    """(H, W) bool: pixels within ``grow`` foot lengths of the heel-toe-ankle triangle, and not more
    than ``above_ankle`` foot lengths up the shin from the ankle."""
    import cv2

    height, width = shape
    zone = np.zeros((height, width), bool)
    ankle_i, heel_i, toe_i = lm.FOOT[side]
    ankle, heel, toe, knee = pixels[ankle_i], pixels[heel_i], pixels[toe_i], pixels[lm.KNEE[side]]
    length = max(8.0, float(np.linalg.norm(toe - heel)), 0.6 * float(np.linalg.norm(ankle - heel)))
    reach = max(1, int(round(grow * length)))
    triangle = np.stack([ankle, heel, toe])
    # Work on the window around the foot only: the frame is 20-50 times larger.
    x0, y0 = np.floor(triangle.min(axis=0)).astype(int) - reach - 1
    x1, y1 = np.ceil(triangle.max(axis=0)).astype(int) + reach + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        return zone
    window = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(window, np.round(triangle - [x0, y0]).astype(np.int32), 1)
    window = cv2.dilate(window, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))
    shin = ankle - knee
    shin_len = float(np.linalg.norm(shin))
    if shin_len > 1.0:
        down = shin / shin_len
        ys, xs = np.mgrid[y0:y1, x0:x1]
        along = (xs - ankle[0]) * down[0] + (ys - ankle[1]) * down[1]
        window &= (along >= -above_ankle * length).astype(np.uint8)
    zone[y0:y1, x0:x1] = window.astype(bool)
    return zone


def _window(mask: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    height, width = mask.shape
    return (max(int(xs.min()) - pad, 0), max(int(ys.min()) - pad, 0),
            min(int(xs.max()) + pad + 1, width), min(int(ys.max()) + pad + 1, height))


def old_shoe_mask(image: np.ndarray, person: np.ndarray, pixels: np.ndarray, sides: tuple[lm.Side, ...],
                  refine: bool = True) -> np.ndarray:
    """(H, W) bool: the shopper's own shoes on the feet ``sides`` (see :func:`old_shoe_masks`)."""
    shoes = np.zeros(person.shape, bool)
    for mask in old_shoe_masks(image, person, pixels, sides, refine).values():
        shoes |= mask
    return shoes


def old_shoe_masks(image: np.ndarray, person: np.ndarray, pixels: np.ndarray, sides: tuple[lm.Side, ...],
                   refine: bool = True) -> dict[lm.Side, np.ndarray]:
    """{side: (H, W) bool} the shopper's own shoe on each foot of ``sides``.

    image : (H, W, 3) uint8 BGR; person : (H, W) float person probability; pixels : (33, 2).
    """
    import cv2

    height, width = person.shape
    found_shoes: dict[lm.Side, np.ndarray] = {}
    for side in sides:
        shoes = np.zeros((height, width), bool)
        found_shoes[side] = shoes
        zone = foot_zone((height, width), pixels, side)
        box = _window(zone, 4)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        sub_zone = zone[y0:y1, x0:x1]
        # The mask is soft at the feet (shoes blend into the floor): a low threshold, inside the zone.
        sub_person = (person[y0:y1, x0:x1] > 0.3) & sub_zone
        if refine and sub_person.sum() >= 20 and (~sub_person & sub_zone).sum() >= 20:
            grab = np.full(sub_zone.shape, cv2.GC_BGD, np.uint8)
            grab[sub_zone] = cv2.GC_PR_BGD
            grab[sub_person] = cv2.GC_PR_FGD
            # The heel-toe line is on the shoe for sure.
            line = np.round(pixels[[lm.FOOT[side][1], lm.FOOT[side][2]]] - [x0, y0]).astype(np.int32)
            cv2.line(grab, tuple(line[0]), tuple(line[1]), cv2.GC_FGD, 2)
            fg, bg = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            try:
                cv2.grabCut(np.ascontiguousarray(image[y0:y1, x0:x1]), grab, None, bg, fg, 2, cv2.GC_INIT_WITH_MASK)
                found = ((grab == cv2.GC_FGD) | (grab == cv2.GC_PR_FGD)) & sub_zone
                # GrabCut adds the shoe's edges the soft mask missed; the mask's own pixels stay
                # (dropping them would leave old-shoe pixels the colour model took for floor).
                sub_person = found | sub_person
            except cv2.error:
                pass
        shoes[y0:y1, x0:x1] |= sub_person
    return found_shoes


def sole_row(shoe: np.ndarray, pixels: np.ndarray, side: lm.Side) -> float | None:
    """Image row where the old shoe meets the floor under its heel-toe span (its lowest rows), or None."""
    ys, xs = np.nonzero(shoe)
    if len(ys) < 20:
        return None
    return float(np.percentile(ys, 98))


def erase(image: np.ndarray, region: np.ndarray, person: np.ndarray | None = None, grow_px: int = 3,
          radius_px: int = 5, scale: float = 1.0) -> np.ndarray:
    """A copy of ``image`` with ``region`` (H, W) bool (grown by ``grow_px``) inpainted from around it.

    ``person`` (H, W) probability keeps the person's pixels at the hole's edge (the trouser
    leg) from being smeared into it: they are filled too, then put back. ``scale`` < 1
    inpaints a smaller copy of the window (the live mirror: the fill is smooth anyway)
    and pastes back only the hole.
    """
    import cv2

    box = _window(region, grow_px + 2 * radius_px)
    if box is None:
        return image
    x0, y0, x1, y1 = box
    hole = region[y0:y1, x0:x1].astype(np.uint8) * 255
    if grow_px > 0:
        hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1)))
    keep = np.zeros(hole.shape, bool)
    if person is not None:
        near = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * radius_px + 1, 4 * radius_px + 1)))
        keep = (near > 0) & (hole == 0) & (person[y0:y1, x0:x1] > 0.5)
    window = np.ascontiguousarray(image[y0:y1, x0:x1])
    unknown = np.where(keep, 255, hole).astype(np.uint8)
    if scale < 1.0 and min(window.shape[:2]) * scale >= 16:
        size = (max(1, int(round(window.shape[1] * scale))), max(1, int(round(window.shape[0] * scale))))
        small = cv2.inpaint(cv2.resize(window, size, interpolation=cv2.INTER_AREA),
                            (cv2.resize(unknown, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8) * 255,
                            max(2, int(round(radius_px * scale))), cv2.INPAINT_TELEA)
        filled = window.copy()
        grown = cv2.resize(small, (window.shape[1], window.shape[0]), interpolation=cv2.INTER_LINEAR)
        filled[hole > 0] = grown[hole > 0]
    else:
        filled = cv2.inpaint(window, unknown, radius_px, cv2.INPAINT_TELEA)
        filled[keep] = window[keep]
    out = image.copy()
    out[y0:y1, x0:x1] = filled
    return out
