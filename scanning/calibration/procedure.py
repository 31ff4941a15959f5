"""The rig calibration procedures as the captures staff take, and capture folders on disk.

A procedure is a list of :class:`CaptureStep`: where to put the ChArUco board, in words
for staff, and which cameras must see it there. The foot rig needs one capture (the
board lying at the platform centre; on a glass platform with a plantar camera under it,
the double-sided board, whose back print that camera sees through the glass); the body
rig 1 + 2n for n cameras: the centre board, the board lying in front of each camera, and
the board standing between each pair of neighbouring cameras (docs/calibration.md says why).

A capture folder (docs/calibration.md) holds ``rig.json`` (the rig's kind, its
cameras in order around the platform with their intrinsics, which of them is a plantar
camera under the glass, the board) and one
sub-folder per capture, named after its step, in the recorded RGB-D format of
:mod:`scanning.sources.recorded` (``depth/<camera>_<n>.png``, ``colour/<camera>_<n>.png``)
without a ``calibration.json``. ``omnifit calibrate`` reads such folders; the kiosk's
guided calibration writes one capture at a time into one and solves it the same way.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from scanning.calibration.charuco import (
    MIN_CORNERS,
    CharucoBoardSpec,
    calibrate_rig,
    lying_board_pose,
    seen_side,
    standing_board_pose,
    try_detect_corners,
)
from scanning.calibration.rig import CameraCalibration, RigCalibration, json_flag
from scanning.errors import CalibrationError, FrameError
from scanning.files import replace_folder
from scanning.sources.frame import Intrinsics, RGBDFrame, is_plantar

CAPTURES_FORMAT = "omnifit-calibration-captures"
CAPTURES_VERSION = 1
RIG_FILE = "rig.json"
RIG_KINDS = ("foot", "body")
# The foot rig's cameras see an A3 board large from 0.5 m; the body rig's need an A1 foam board.
BOARDS = {"foot": CharucoBoardSpec(), "body": CharucoBoardSpec(square_m=0.08, marker_m=0.06)}
# A glass foot platform's plantar camera sees the board from under the glass: the A3 board
# printed on both sides of a 3 mm sheet (docs/calibration.md).
GLASS_FOOT_BOARD = replace(BOARDS["foot"], double_sided=True, thickness_m=0.003)
LYING_DISTANCE_M = 0.45
STANDING_HEIGHTS_M = (1.0, 1.4)  # waist and chest height, alternately
MAX_REPROJECTION_PX = 1.0  # above this a camera's solve is not trusted (the rendered rigs reach 0.2-0.3 px)


@dataclass(frozen=True, eq=False)
class CaptureRig:
    """The cameras to calibrate, in order around the platform, with their intrinsics, and the board.

    distortion : per camera id, (5,) OpenCV coefficients where not zero.
    plantar : the cameras under a glass foot platform looking up at it (rig.json marks them
        ``"plantar": true``); they see only the back of a board lying on the glass, so such
        a rig needs a double-sided board. Not part of the ring of cameras around the platform.
    mirrored : the cameras that see the platform by way of a mirror (``"mirrored": true``):
        their captures are recorded un-mirrored (docs/recorded-format.md) and the calibration
        marks them mirrored, so the live sources flip their frames the same way.
    """

    kind: str
    cameras: tuple[str, ...]
    intrinsics: Mapping[str, Intrinsics]
    board: CharucoBoardSpec
    distortion: Mapping[str, np.ndarray] = field(default_factory=dict)
    plantar: tuple[str, ...] = ()
    mirrored: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in RIG_KINDS:
            raise CalibrationError(f"unknown rig kind {self.kind!r}; expected one of {list(RIG_KINDS)}", field="kind")
        if not self.cameras or len(set(self.cameras)) != len(self.cameras):
            raise CalibrationError(f"a rig needs distinct camera ids; got {list(self.cameras)}", field="cameras")
        missing = [camera for camera in self.cameras if camera not in self.intrinsics]
        if missing:
            raise CalibrationError(f"camera {missing[0]}: no intrinsics", camera=missing[0])
        self._check_plantar()

    def _check_plantar(self) -> None:
        for role, marked in (("plantar", self.plantar), ("mirrored", self.mirrored)):
            unknown = [camera for camera in marked if camera not in self.cameras]
            if unknown:
                raise CalibrationError(f"{role} camera {unknown[0]} is not one of the rig's cameras "
                                       f"{list(self.cameras)}", camera=unknown[0])
        if not self.plantar:
            return
        if self.kind != "foot":
            raise CalibrationError(f"camera {self.plantar[0]}: only a foot rig has a glass platform with a plantar "
                                   f"camera; this is a {self.kind} rig", camera=self.plantar[0], field="plantar")
        if len(self.plantar) == len(self.cameras):
            raise CalibrationError("a rig needs cameras above the platform as well as under its glass; every camera "
                                   f"is marked plantar: {list(self.cameras)}", field="plantar")
        if not self.board.double_sided:
            raise CalibrationError(
                f"camera {self.plantar[0]}: under the glass a plantar camera sees only the back of the board, so a "
                f"rig with one needs a double-sided board (\"double_sided\": true; docs/calibration.md)",
                camera=self.plantar[0], field="board")

    @property
    def glass(self) -> bool:
        """Whether the platform is glass with a plantar camera under it."""
        return bool(self.plantar)

    @property
    def around(self) -> tuple[str, ...]:
        """The cameras around the platform, in order (the plantar cameras left out)."""
        return tuple(camera for camera in self.cameras if camera not in self.plantar)

    def to_dict(self) -> dict[str, object]:
        cameras = []
        for camera in self.cameras:
            entry: dict[str, object] = {"id": camera, "intrinsics": self.intrinsics[camera].to_dict()}
            if camera in self.distortion:
                entry["distortion"] = np.asarray(self.distortion[camera]).tolist()
            if camera in self.plantar:
                entry["plantar"] = True
            if camera in self.mirrored:
                entry["mirrored"] = True
            cameras.append(entry)
        return {"format": CAPTURES_FORMAT, "version": CAPTURES_VERSION, "kind": self.kind,
                "board": self.board.to_dict(), "cameras": cameras}

    @classmethod
    def from_dict(cls, data: object, where: str) -> CaptureRig:
        if not isinstance(data, dict) or data.get("format") != CAPTURES_FORMAT or data.get("version") != CAPTURES_VERSION:
            raise CalibrationError(f"{where}: expected format {CAPTURES_FORMAT!r} version {CAPTURES_VERSION}",
                                   path=where)
        try:
            kind = str(data["kind"])
            entries = list(data["cameras"])
            cameras = tuple(str(entry["id"]) for entry in entries)
            intrinsics = {str(entry["id"]): Intrinsics.from_dict(entry["intrinsics"]) for entry in entries}
            distortion = {str(entry["id"]): _distortion(entry["distortion"]) for entry in entries
                          if entry.get("distortion") is not None}
            plantar = tuple(str(entry["id"]) for entry in entries if json_flag(entry.get("plantar", False), "plantar"))
            mirrored = tuple(str(entry["id"]) for entry in entries
                             if json_flag(entry.get("mirrored", False), "mirrored"))
            board = CharucoBoardSpec(**data["board"]) if data.get("board") else default_board(kind, bool(plantar))
        except (KeyError, TypeError, ValueError, FrameError) as exc:
            raise CalibrationError(f"{where}: not a capture rig description ({exc})", path=where) from exc
        return cls(kind, cameras, intrinsics, board, distortion, plantar, mirrored)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RIG_FILE).write_text(json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, folder: Path) -> CaptureRig:
        path = folder / RIG_FILE
        if not path.is_file():
            raise CalibrationError(f"{folder} is not a calibration capture folder: it has no {RIG_FILE} "
                                   f"(the rig's kind and cameras, see docs/calibration.md)", path=str(path))
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CalibrationError(f"{path} is not readable JSON: {exc}", path=str(path)) from exc
        return cls.from_dict(data, str(path))

    def intrinsics_only(self) -> RigCalibration:
        """A calibration holding only the intrinsics (identity poses), for reading the captures
        with :class:`~scanning.sources.recorded.RecordedSource`, which checks every image's
        camera and size against it."""
        return RigCalibration({c: CameraCalibration(c, self.intrinsics[c], np.eye(4)) for c in self.cameras})


def default_board(kind: str, glass: bool = False) -> CharucoBoardSpec:
    """The board of a rig kind (the double-sided one for a glass foot platform)."""
    return GLASS_FOOT_BOARD if glass and kind == "foot" else BOARDS.get(kind, CharucoBoardSpec())


def _distortion(values: object) -> np.ndarray:
    coefficients = np.asarray(values, dtype=np.float64).ravel()
    if coefficients.shape != (5,) or not np.all(np.isfinite(coefficients)):
        raise ValueError(f"distortion must be 5 finite numbers (k1 k2 p1 p2 k3); got {values!r}")
    return coefficients


@dataclass(frozen=True, eq=False)
class CaptureStep:
    """One capture of the procedure.

    name : its folder name (``centre``, ``lying-<camera>``, ``standing-<camera>-<camera>``).
    role : ``centre`` (defines the platform frame), ``lying`` (flat elsewhere on the
        platform) or ``standing`` (held upright), as :func:`calibrate_rig` takes them.
    cameras : the cameras the capture is for (named in its instruction and its errors).
    required : the cameras that must each see the board (``MIN_CORNERS`` corners or more).
    min_cameras : how many cameras at least must see it: a board lying before one of the
        body rig's low cameras is below that camera's view (it looks across the booth) but
        its neighbours see it, and that is what pins the platform's tilt.
    board_pose : (4, 4) board → platform pose the instruction asks for, where the cameras'
        positions are known (the synthetic rig renders it); None otherwise.
    """

    name: str
    role: str
    cameras: tuple[str, ...]
    instruction: str
    board_pose: np.ndarray | None = None
    required: tuple[str, ...] = ()
    min_cameras: int = 1


def procedure(rig: CaptureRig, azimuths_deg: Mapping[str, float] | None = None) -> list[CaptureStep]:
    """The captures that calibrate ``rig``, in the order staff take them.

    azimuths_deg : each camera's direction from the platform centre (0° = +x,
        counter-clockwise), when known; it gives every step its board pose.
    """
    spec = rig.board
    centre = CaptureStep("centre", "centre", rig.cameras,
                         "Lay the board flat in the middle of the platform, printed side up, its long side "
                         "pointing the way a shopper faces.", spec.board_to_platform() if azimuths_deg else None)
    if rig.glass:  # the plantar camera sees the back print through the glass from 0.3 m
        below = ", ".join(rig.plantar)
        return [replace(centre, required=rig.cameras, instruction=(
            f"Lay the double-sided board flat in the middle of the glass, front print up, its long side pointing "
            f"the way a shopper faces: camera {below} under the glass sees its back print (a capture of the board "
            f"the wrong side up is refused; turn it over)."))]
    if rig.kind == "foot":  # every camera sees the board large from 0.5 m
        return [replace(centre, required=rig.cameras)]
    # The body rig's far cameras see the centre board small; one that misses it is placed
    # through the standing boards, so two cameras suffice here.
    steps = [replace(centre, min_cameras=min(2, len(rig.cameras)))]
    for camera in rig.around:
        pose = None if azimuths_deg is None else lying_board_pose(spec, azimuths_deg[camera], LYING_DISTANCE_M)
        steps.append(CaptureStep(
            f"lying-{camera}", "lying", (camera,),
            f"Lay the board flat on the platform about {LYING_DISTANCE_M * 100:.0f} cm in front of camera "
            f"{camera}, printed side up, its long side across the line to the camera.", pose,
            min_cameras=min(2, len(rig.cameras))))
    pairs = len(rig.cameras) if len(rig.cameras) > 2 else len(rig.cameras) - 1
    for index in range(pairs):
        first, second = rig.cameras[index], rig.cameras[(index + 1) % len(rig.cameras)]
        height = STANDING_HEIGHTS_M[index % len(STANDING_HEIGHTS_M)]
        pose = None
        if azimuths_deg is not None:
            pose = standing_board_pose(spec, _between(azimuths_deg[first], azimuths_deg[second]), height)
        steps.append(CaptureStep(
            f"standing-{first}-{second}", "standing", (first, second),
            f"Stand the board upright at the platform centre, printed side facing midway between cameras "
            f"{first} and {second}, its centre {height:.1f} m above the platform "
            f"({'waist' if index % 2 == 0 else 'chest'} height).", pose, required=(first, second)))
    return steps


def _between(first_deg: float, second_deg: float) -> float:
    """The direction midway between two directions (degrees), the shorter way round."""
    first, second = np.radians([first_deg, second_deg])
    return float(np.degrees(np.arctan2(np.sin(first) + np.sin(second), np.cos(first) + np.cos(second))))


@dataclass(frozen=True)
class CaptureCheck:
    """What one capture showed: ChArUco corners found per camera, and what is wrong with it
    (``problems``, each about the camera at the same place in ``cameras_at_fault``)."""

    step: str
    corners: Mapping[str, int]
    problems: tuple[str, ...] = ()
    cameras_at_fault: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def check_capture(rig: CaptureRig, step: CaptureStep, frames: Sequence[RGBDFrame]) -> CaptureCheck:
    """Corners per camera in one capture; a problem for each camera of the rig without an
    image in it, each required camera that sees fewer than MIN_CORNERS corners, and too few
    cameras seeing the board."""
    corners: dict[str, int] = {}
    sides: dict[str, str | None] = {}
    for frame in frames:
        camera_matrix = rig.intrinsics[frame.camera_id].matrix()
        points, _, found = try_detect_corners(rig.board, frame.colour, camera_matrix,
                                              rig.distortion.get(frame.camera_id))
        corners[frame.camera_id], sides[frame.camera_id] = found, seen_side(rig.board, points)
    faults = {camera: f"no image in capture {step.name}" for camera in rig.cameras if camera not in corners}
    faults.update({camera: f"found {corners[camera]} ChArUco corners in capture {step.name}, need at least "
                   f"{MIN_CORNERS}" for camera in step.required if corners.get(camera, MIN_CORNERS) < MIN_CORNERS})
    if step.role in ("centre", "lying") and rig.board.double_sided:
        faults.update({camera: f"sees the board's {side} print in capture {step.name}: it lies the wrong side up"
                       for camera, side in _wrong_sides(rig, sides, corners).items() if camera not in faults})
    seeing = sorted(camera for camera, found in corners.items() if found >= MIN_CORNERS)
    if not faults and len(seeing) < step.min_cameras:
        faults[step.cameras[0]] = (f"the board in capture {step.name} is seen by {len(seeing)} camera(s) {seeing}, "
                                   f"need at least {step.min_cameras}")
    return CaptureCheck(step.name, corners, tuple(f"camera {camera}: {fault}" for camera, fault in faults.items()),
                        tuple(faults))


def _wrong_sides(rig: CaptureRig, sides: Mapping[str, str | None], corners: Mapping[str, int]) -> dict[str, str]:
    """The side each camera saw of a board lying on the platform where it is not the side that
    camera should see (the front from above, the back from under the glass): the board was
    laid upside down, which would turn the platform frame over."""
    return {camera: side for camera, side in sides.items()
            if side is not None and corners[camera] >= MIN_CORNERS
            and side != ("back" if camera in rig.plantar else "front")}


def require(check: CaptureCheck, step: CaptureStep) -> None:
    """Raise a :class:`CalibrationError` naming the first camera of a failed capture and how to retake it."""
    if check.ok:
        return
    raise CalibrationError(f"{'; '.join(check.problems)}. Retake it: {step.instruction}",
                           camera=check.cameras_at_fault[0], capture=step.name)


@dataclass(frozen=True, eq=False)
class CalibrationOutcome:
    """A solved rig and how it compares with the reprojection limit (pixels)."""

    calibration: RigCalibration
    limit_px: float

    @property
    def reprojection_px(self) -> dict[str, float]:
        return {c: cal.reprojection_error_px for c, cal in sorted(self.calibration.cameras.items())}

    @property
    def over_limit(self) -> list[str]:
        return [camera for camera, error in self.reprojection_px.items() if error > self.limit_px]

    def problems(self) -> list[str]:
        return [f"camera {camera}: reprojection error {self.reprojection_px[camera]:.2f} px is above the "
                f"{self.limit_px:.2f} px limit" for camera in self.over_limit]

    def refusal(self) -> CalibrationError:
        """The error that refuses to save this outcome, naming the first camera over the limit."""
        camera = self.over_limit[0]
        return CalibrationError(f"{'; '.join(self.problems())}: not saved. Retake the captures camera {camera} "
                                f"takes part in (or save anyway with --force)", camera=camera,
                                reprojection_px=self.reprojection_px[camera])


def solve(rig: CaptureRig, steps: Sequence[CaptureStep], captures: Mapping[str, Sequence[RGBDFrame]],
          limit_px: float = MAX_REPROJECTION_PX) -> CalibrationOutcome:
    """Check every capture (the first failing one raises, naming camera and capture), then solve
    the rig jointly from all of them."""
    for step in steps:
        require(check_capture(rig, step, captures[step.name]), step)
    by_role = {role: [list(captures[s.name]) for s in steps if s.role == role] for role in ("lying", "standing")}
    centre = next(list(captures[s.name]) for s in steps if s.role == "centre")
    calibration = calibrate_rig(rig.board, centre, lying=by_role["lying"], held=by_role["standing"],
                                distortion=dict(rig.distortion) or None)
    if rig.mirrored:  # solved as the virtual camera behind the mirror; live frames must be flipped to match
        calibration = RigCalibration({camera: replace(cal, mirrored=camera in rig.mirrored)
                                      for camera, cal in calibration.cameras.items()}, board=calibration.board)
    return CalibrationOutcome(calibration, limit_px)


def save(outcome: CalibrationOutcome, path: str | Path, *, force: bool = False) -> Path:
    """Write the calibration to ``path`` atomically; refused (nothing written) when a camera is
    over the limit, unless ``force``."""
    if outcome.over_limit and not force:
        raise outcome.refusal()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    outcome.calibration.save(path)
    return path


# --- capture folders ---------------------------------------------------------------------------
def read_capture(rig: CaptureRig, folder: Path, step: CaptureStep) -> list[RGBDFrame]:
    """One capture's frames, the first (lowest n) of each camera."""
    from scanning.sources.recorded import RecordedSource

    where = folder / step.name
    if not where.is_dir():
        raise CalibrationError(f"{folder} is missing capture {step.name!r} (a folder {where} with depth/ and "
                               f"colour/ images of each camera): {step.instruction}", capture=step.name,
                               path=str(where))
    frames: dict[str, RGBDFrame] = {}
    for frame in RecordedSource(where, rig.intrinsics_only()).frames():
        frames.setdefault(frame.camera_id, frame.with_extrinsic(None))
    return list(frames.values())


def read_captures(folder: str | Path) -> tuple[CaptureRig, list[CaptureStep], dict[str, list[RGBDFrame]]]:
    """A capture folder's rig, its procedure, and every capture's frames by step name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CalibrationError(f"calibration capture folder not found: {folder}", path=str(folder))
    rig = CaptureRig.load(folder)
    steps = procedure(rig)
    return rig, steps, {step.name: read_capture(rig, folder, step) for step in steps}


def write_capture(folder: Path, step: CaptureStep, frames: Sequence[RGBDFrame]) -> Path:
    """Save one capture as ``folder/<step>/``, replacing an earlier take of it whole (written
    beside it, then swapped in), so a retake never leaves a mix of two takes."""
    from scanning.sources.recorded import write_recording

    target = folder / step.name
    staging = Path(tempfile.mkdtemp(prefix=f".{step.name}-", dir=folder))
    try:
        write_recording(list(frames), staging, None)
        replace_folder(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# --- the synthetic rig -------------------------------------------------------------------------
def synthetic_rig(kind: str, views: int | None = None, plantar: bool | None = None):
    """The virtual rig of ``kind`` as a :class:`CaptureRig`, its cameras
    (:class:`~scanning.sources.synthetic.VirtualCamera`) and their azimuths (degrees).

    views : the cameras around the platform (the kind's default when None).
    plantar : a glass platform with the plantar camera under it; by default for feet, as
        synthetic foot scans have it (``scanning.pipeline.synthetic_source``).
    """
    from scanning.sources.synthetic import kiosk_rig

    if kind not in RIG_KINDS:
        raise CalibrationError(f"unknown rig kind {kind!r}; expected one of {list(RIG_KINDS)}", field="kind")
    plantar = kind == "foot" if plantar is None else plantar
    cameras = kiosk_rig(kind, views, plantar=plantar)
    under = tuple(c.camera_id for c in cameras if is_plantar(c.extrinsic))
    rig = CaptureRig(kind, tuple(c.camera_id for c in cameras), {c.camera_id: c.intrinsics for c in cameras},
                     default_board(kind, bool(under)), plantar=under)
    azimuths = {c.camera_id: float(np.degrees(np.arctan2(c.extrinsic[1, 3], c.extrinsic[0, 3]))) for c in cameras}
    return rig, cameras, azimuths


def render_capture(rig: CaptureRig, cameras, step: CaptureStep) -> list[RGBDFrame]:
    """What the virtual cameras see with the board at ``step.board_pose`` (no sensor noise:
    the colour image is what calibration reads)."""
    from scanning.calibration.charuco import board_scene_mesh
    from scanning.sources.synthetic import SyntheticRig

    if step.board_pose is None:
        raise CalibrationError(f"capture {step.name}: no board pose to render", capture=step.name)
    scene = board_scene_mesh(rig.board, step.board_pose)  # the rig adds the shop's ceiling beyond the glass
    return list(SyntheticRig(None, cameras, kind=rig.kind, extras=scene, supersample=4, noise=False).frames())


def start_synthetic_captures(folder: str | Path, kind: str, views: int | None = None, *,
                             plantar: bool | None = None, keep_previous: int | None = None) -> list[CaptureStep]:
    """A new capture folder for the virtual rig (its ``rig.json``; ``views`` and ``plantar``
    as :func:`synthetic_rig` takes them); returns the steps to take.

    keep_previous : how many earlier capture folders beside ``folder`` to keep (the newest);
        older ones are deleted, so repeated calibrations do not fill a kiosk's disk. None keeps all.
    """
    folder = Path(folder)
    if keep_previous is not None:
        prune_capture_folders(folder.parent, keep_previous)
    rig, _, azimuths = synthetic_rig(kind, views, plantar)
    rig.save(folder)
    return procedure(rig, azimuths)


def prune_capture_folders(parent: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest capture folders (those holding a ``rig.json``) in
    ``parent``; returns the deleted ones."""
    if not parent.is_dir():
        return []
    folders = sorted((f for f in parent.iterdir() if (f / RIG_FILE).is_file()),
                     key=lambda f: (f / RIG_FILE).stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old)
    return folders[keep:]


def take_synthetic_capture(folder: str | Path, step: CaptureStep) -> CaptureCheck:
    """Render one step through the virtual rig of ``folder``'s ``rig.json``, save it there, check it."""
    folder = Path(folder)
    rig = CaptureRig.load(folder)
    _, cameras, _ = synthetic_rig(rig.kind, len(rig.around), rig.glass)
    frames = render_capture(rig, cameras, step)
    write_capture(folder, step, frames)
    return check_capture(rig, step, frames)


def calibrate_folder(folder: str | Path, path: str | Path, limit_px: float = MAX_REPROJECTION_PX,
                     *, force: bool = False) -> tuple[CalibrationOutcome, bool]:
    """Solve a capture folder and save the calibration to ``path`` when every camera is within
    ``limit_px`` (or ``force``); returns the outcome and whether it was saved. A capture that is
    missing or fails its check raises, naming it and the camera."""
    rig, steps, captures = read_captures(folder)
    outcome = solve(rig, steps, captures, limit_px)
    if outcome.over_limit and not force:
        return outcome, False
    save(outcome, path, force=force)
    return outcome, True
