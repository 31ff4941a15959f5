"""The end-to-end scan: depth source → calibrated frames → reconstruction → measurements → files.

``scan(source, kind)`` runs journey 1 of the architecture and returns a
:class:`ScanResult`; ``write_scan(result, out_dir)`` writes the meshes (PLY and GLB),
``measurements.json`` and ``quality.json`` into ``out_dir`` atomically: everything is
written into a fresh temporary folder next to it, which replaces ``out_dir`` only when
complete, so a failed scan never leaves half-written files.

Sources are built by name (``make_source``): ``synthetic`` renders a mesh file through
the virtual kiosk rig (a foot mesh is taken as the right foot and stands beside its
mirror image), ``recorded`` reads a recorded folder, ``realsense`` opens the cameras.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from scanning.errors import CalibrationError, ScanningError
from scanning.files import replace_folder
from scanning.reconstruct import Reconstruction, reconstruct
from scanning.sources.frame import DepthSource, RGBDFrame
from scanning.types import BodyMeasurements, FootMeasurements

_LOGGER = logging.getLogger(__name__)

KINDS = ("foot", "body")
Progress = Callable[[str, float], None]
TORSO_HALF_WIDTH = 0.15  # of stature: a scanned point further out to the side (above the hips) is an arm


@dataclass
class ScanResult:
    """One scan: per part (``left``/``right`` feet or ``body``) its measurements (mm) and
    watertight mesh (metres, canonical frame), the quality report and stage timings (s)."""

    kind: str
    measurements: dict[str, FootMeasurements | BodyMeasurements]
    reconstruction: Reconstruction
    timing_s: dict[str, float] = field(default_factory=dict)
    unreliable: dict[str, dict[str, str]] = field(default_factory=dict)

    def measurements_mm(self) -> dict[str, dict[str, float]]:
        return {part: {k: round(v, 2) for k, v in m.to_mm_dict().items()} for part, m in self.measurements.items()}

    def quality(self) -> dict[str, object]:
        """The reconstruction's quality report plus, per part, the measurements not to trust
        and why (``unreliable_measurements``)."""
        return {**self.reconstruction.quality.to_dict(), "unreliable_measurements": self.unreliable}

    def summary(self) -> dict[str, object]:
        """The one JSON object ``omnifit scan --json`` prints."""
        return {
            "kind": self.kind,
            "measurements_mm": self.measurements_mm(),
            "timing_s": self.timing_s,
            "quality": self.quality(),
        }


def scan(source: DepthSource, kind: str, *, seed: int = 0, refine_icp: bool = False,
         progress: Progress | None = None) -> ScanResult:
    """Capture from ``source``, reconstruct and measure. ``kind`` is ``foot`` or ``body``;
    ``progress(stage, fraction)`` is told as each stage starts."""
    from scanning.measure import measure_body, measure_foot

    if kind not in KINDS:
        raise ScanningError(f"unknown scan kind {kind!r}; expected one of {KINDS}", kind=kind)
    progress = progress or (lambda stage, fraction: None)
    timing: dict[str, float] = {}
    started = time.perf_counter()
    progress("capture", 0.0)
    frames: list[RGBDFrame] = list(source.frames())
    timing["capture"] = time.perf_counter() - started
    progress("reconstruct", 0.3)
    reconstruction = reconstruct(frames, kind, seed=seed, refine_icp=refine_icp)
    timing["reconstruct"] = time.perf_counter() - started - timing["capture"]
    progress("measure", 0.8)
    measure = measure_foot if kind == "foot" else measure_body
    measured_at = time.perf_counter()
    measurements = {part: _measure_part(measure, part, mesh, reconstruction) for part, mesh in
                    reconstruction.parts.items()}
    timing["measure"] = time.perf_counter() - measured_at
    unreliable = {"body": _body_cut_off(reconstruction)} if kind == "body" else {}
    timing["scan_to_measurements"] = timing["reconstruct"] + timing["measure"]
    timing["total"] = time.perf_counter() - started
    progress("done", 1.0)
    return ScanResult(kind, measurements, reconstruction, {k: round(v, 4) for k, v in timing.items()},
                      {part: reasons for part, reasons in unreliable.items() if reasons})


def _body_cut_off(reconstruction: Reconstruction) -> dict[str, str]:
    """Measurements of a scanned body that the scan volume's side walls cut into, with the reason.

    The kiosk asks for an A-pose; arms held out sideways (a T-pose) reach past the body rig's
    volume, which loses the hands (the wrist the arm length ends at) and folds the armpits the
    shoulder points hang on; the torso's girths and the height lie well inside. A cut anywhere
    else (the shopper off the platform's centre) spoils every measurement but the height.
    """
    from scanning.reconstruct import SCAN_SETTINGS

    if not any(flag.code == "cut_off_at_volume" for flag in reconstruction.quality.flags):
        return {}
    mesh = reconstruction.parts["body"]
    fusion = SCAN_SETTINGS["body"].fusion
    platform = trimesh.transform_points(mesh.vertices, np.linalg.inv(reconstruction.to_canonical["body"]))
    margin = 3 * fusion.voxel_m
    at_wall = (np.any(platform[:, :2] <= np.array(fusion.volume_min[:2]) + margin, axis=1)
               | np.any(platform[:, :2] >= np.array(fusion.volume_max[:2]) - margin, axis=1))
    cut = np.asarray(mesh.vertices)[at_wall]
    stature = float(mesh.vertices[:, 2].max())
    arms = (np.abs(cut[:, 0]) > TORSO_HALF_WIDTH * stature) & (cut[:, 2] > 0.5 * stature)
    if len(cut) and arms.all():
        advice = "ask the shopper to hold the arms a little away from the body (A-pose) and scan again"
        return {
            "arm_length": f"the arms reach past the scan volume (held out sideways, as in a T-pose) and the hands "
                          f"were not scanned; {advice}",
            "shoulder_width": f"raised arms fold the armpits, where the shoulder points are found, unlike the "
                              f"hanging arms of the definition (measured 50 mm wide on a T-posed SMPL body); {advice}",
        }
    reason = "the body reaches past the scan volume's side; ask the shopper to stand in the middle of the platform"
    names = [name.removesuffix("_mm") for name in BodyMeasurements.__dataclass_fields__]
    return {name: reason for name in names if name != "height"}


def _measure_part(measure: Callable, part: str, mesh: trimesh.Trimesh, reconstruction: Reconstruction):
    """Measurements of one part; a failure names the part and the scan's quality flags.
    A part the reconstruction put in its canonical frame is not canonicalised again."""
    canonical = not any(flag.code == "not_canonical" and flag.part == part for flag in reconstruction.quality.flags)
    try:
        return measure(mesh, canonical=canonical)
    except ScanningError as exc:
        flags = "; ".join(flag.message for flag in reconstruction.quality.flags) or "none"
        label = f"{part} foot" if reconstruction.kind == "foot" else part
        raise ScanningError(f"the scanned {label} could not be measured ({exc}); quality flags: {flags}",
                            part=part) from exc


def write_scan(result: ScanResult, out_dir: str | Path) -> list[Path]:
    """Write ``<part>.ply``, ``<part>.glb``, ``measurements.json`` and ``quality.json``
    into ``out_dir`` (replacing it as a whole). Returns the written paths."""
    from scanning.export import write_glb, write_ply

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)
    try:
        names = []
        for part, mesh in result.reconstruction.parts.items():
            stem = f"{result.kind}_{part}" if result.kind == "foot" else part
            write_ply(mesh, staging / f"{stem}.ply")
            write_glb(mesh, staging / f"{stem}.glb", name=stem)
            names += [f"{stem}.ply", f"{stem}.glb"]
        measurements = {"kind": result.kind, "units": "mm", "measurements_mm": result.measurements_mm()}
        (staging / "measurements.json").write_text(json.dumps(measurements, indent=2))
        quality = {"kind": result.kind, "timing_s": result.timing_s, **result.quality()}
        (staging / "quality.json").write_text(json.dumps(quality, indent=2, allow_nan=False))
        names += ["measurements.json", "quality.json"]
        replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / name for name in names]


def load_subject(path: str | Path, kind: str, *, units: str = "m", up: str = "z") -> trimesh.Trimesh:
    """A mesh file as the shopper for the synthetic rig: metres, canonical frame, on z = 0."""
    from scanning.measure import canonicalize_body, canonicalize_foot
    from scanning.mesh_utils import load_mesh

    canonicalize = canonicalize_foot if kind == "foot" else canonicalize_body
    mesh, _ = canonicalize(load_mesh(path), up=up, units=units)
    return mesh


def synthetic_source(subject: trimesh.Trimesh, kind: str, *, views: int | None = None, seed: int = 0,
                     noise: bool = True, plantar: bool | None = None) -> DepthSource:
    """The virtual kiosk rig looking at ``subject`` (canonical frame, metres): both feet
    (the subject as the right foot, its mirror as the left) or the standing body.
    ``views`` defaults to the kind's rig (4 cameras around feet, 6 around bodies);
    ``plantar`` (default: for feet) adds the glass platform's camera under the soles."""
    from scanning.sources.synthetic import SyntheticRig, body_scene, foot_pair_scene, kiosk_rig

    plantar = kind == "foot" if plantar is None else plantar
    scene = foot_pair_scene(subject) if kind == "foot" else body_scene(subject)
    return SyntheticRig(scene, kiosk_rig(kind, views, plantar=plantar), kind=kind, seed=seed, noise=noise)


def make_source(name: str, *, kind: str, mesh: str | None = None, path: str | None = None,
                calibration: str | None = None, units: str = "m", up: str = "z", views: int | None = None,
                seed: int = 0, plantar: bool | None = None) -> DepthSource:
    """A depth source by name: ``synthetic`` (needs ``mesh``), ``recorded`` (needs
    ``path``), ``realsense`` (needs ``calibration``, the rig's JSON)."""
    if name == "synthetic":
        if not mesh:
            raise ScanningError("--source synthetic needs --mesh MESH", field="mesh")
        return synthetic_source(load_subject(mesh, kind, units=units, up=up), kind, views=views, seed=seed,
                                plantar=plantar)
    # a recorded folder or a live rig has the cameras it has: choosing them is for the virtual rig
    for flag, value in (("--views", views), ("--no-plantar", plantar)):
        if value is not None:
            raise ScanningError(f"{flag} chooses the synthetic rig's cameras; --source {name} scans with the "
                                f"cameras its calibration lists", field=flag.lstrip("-"))
    if name == "recorded":
        from scanning.sources.recorded import RecordedSource

        if not path:
            raise ScanningError("--source recorded needs --path DIR", field="path")
        return RecordedSource(path)
    if name == "realsense":
        from scanning.calibration import RigCalibration
        from scanning.sources.realsense import RealSenseSource

        if not calibration:
            raise CalibrationError("--source realsense needs --calibration FILE (the rig's ChArUco calibration)")
        return RealSenseSource(RigCalibration.load(calibration))
    raise ScanningError(f"unknown depth source {name!r}; expected one of ['recorded', 'realsense', 'synthetic']",
                        field="source")


__all__ = ["ScanResult", "load_subject", "make_source", "scan", "synthetic_source", "write_scan"]
