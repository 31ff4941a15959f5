"""The kiosk's foot and body scans and size advice: the depth source through ``scanning``, then ``tryon.fit``.

These run on the worker's pool (a scan takes a second or more); they take and return plain values.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.app.config import KioskConfig
from kiosk.app.text import N_

_LOGGER = logging.getLogger(__name__)

STAGES = {
    "capture": N_("Capturing from the depth cameras"),
    "reconstruct": N_("Building a 3D model of your feet"),
    "measure": N_("Measuring your feet"),
    "done": N_("Done"),
}
BODY_STAGES = {
    "capture": N_("Capturing from the depth cameras"),
    "reconstruct": N_("Building a 3D model of your body"),
    "measure": N_("Measuring your body"),
    "done": N_("Done"),
}


@dataclass(frozen=True)
class FootScan:
    """Both feet's measurements (``tryon.fit.Feet``), the figures shown, and the scan's quality."""

    feet: object
    summary: dict[str, dict[str, float]]
    watertight: bool
    flags: tuple[str, ...]
    seconds: float
    views: tuple[bytes, ...] = ()  # PNGs of both feet turning (``kiosk.app.turntable``); empty if it could not draw
    depth_fill: dict[str, float] | None = None  # per camera: the share of its pixels with a depth reading


def foot_source(config: KioskConfig, shopper: int):
    """The depth source of one scan. The synthetic rig scans a generated shopper (a new one each scan)."""
    from scanning.pipeline import make_source, synthetic_source

    if config.camera == "synthetic":
        from scanning.population import make_foot

        seed = config.scan_seed + shopper
        return synthetic_source(make_foot(seed=seed), "foot", seed=seed)
    if config.camera == "recorded":
        return make_source("recorded", kind="foot", path=str(config.camera_path))
    return make_source("realsense", kind="foot", calibration=str(config.calibration))


def scan_feet(config: KioskConfig, shopper: int, progress: Callable[[str, float], None]) -> FootScan:
    """Scan both feet from the kiosk's source; a :class:`scanning.errors.ScanningError` says what failed."""
    from scanning.pipeline import scan
    from tryon.fit import Feet

    result = scan(foot_source(config, shopper), "foot", seed=config.scan_seed + shopper, progress=progress)
    quality = result.reconstruction.quality
    feet = Feet(left=result.measurements.get("left"), right=result.measurements.get("right"))
    return FootScan(
        views=_views(result.reconstruction.parts),
        depth_fill=dict(quality.valid_depth),
        feet=feet,
        summary=result.measurements_mm(),
        watertight=all(quality.watertight.values()),
        flags=tuple(flag.message for flag in quality.flags),
        seconds=result.timing_s.get("total", 0.0),
    )


@dataclass(frozen=True)
class BodyScan:
    """The body's measurements (``scanning.types.BodyMeasurements``, what ``tryon.fit`` sizes garments on),
    the figures shown (millimetres), and the scan's quality."""

    body: object
    summary: dict[str, float]
    watertight: bool
    flags: tuple[str, ...]
    seconds: float


def body_source(config: KioskConfig, shopper: int):
    """The depth source of one body scan: the synthetic booth scans a generated shopper (a new one each scan)."""
    from scanning.pipeline import make_source, synthetic_source

    if config.camera == "synthetic":
        from scanning.population import make_body

        seed = config.scan_seed + shopper
        return synthetic_source(make_body(seed=seed), "body", seed=seed)
    if config.camera == "recorded":
        return make_source("recorded", kind="body", path=str(config.camera_path))
    return make_source("realsense", kind="body", calibration=str(config.calibration))


def scan_body(config: KioskConfig, shopper: int, progress: Callable[[str, float], None]) -> BodyScan:
    """Scan the standing shopper; a :class:`scanning.errors.ScanningError` says what failed (or how to stand)."""
    from scanning.pipeline import scan

    result = scan(body_source(config, shopper), "body", seed=config.scan_seed + shopper, progress=progress)
    quality = result.reconstruction.quality
    return BodyScan(
        body=result.measurements["body"],
        summary=dict(result.measurements_mm()["body"]),
        watertight=all(quality.watertight.values()),
        flags=tuple(flag.message for flag in quality.flags),
        seconds=result.timing_s.get("total", 0.0),
    )


def _views(parts: dict) -> tuple[bytes, ...]:
    """The turntable of the scanned meshes; a renderer that cannot start costs the pictures, not the scan."""
    from kiosk.app.turntable import render_turntable

    try:
        return render_turntable(parts)
    except Exception:  # noqa: BLE001 - e.g. no EGL on this machine: the figures are still shown
        _LOGGER.exception("could not render the scanned feet")
        return ()


@functools.lru_cache(maxsize=1)
def _seed_catalog():
    from assets.catalog import load_seed

    return {product.product_id: product for product in load_seed().products}


def recommend(product_id: str, measurements) -> object:
    """``tryon.fit``'s size recommendation for one shoe (on ``Feet``) or garment (on ``BodyMeasurements``);
    ``UnknownProductError`` when the kiosk has no fit data."""
    from tryon.fit import UnknownProductError
    from tryon.fit.recommend import recommend_size

    product = _seed_catalog().get(product_id)
    if product is None:
        raise UnknownProductError(f"no size data for product {product_id!r} on this kiosk; "
                                  "staff can help with sizing", product_id=product_id)
    return recommend_size(product, measurements)
