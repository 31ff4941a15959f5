"""A seeded synthetic RGB-D presentation-attack set for face-pay liveness, and its error rates.

Every sample is rendered through the kiosk's depth camera (a 640x480 pinhole, the
scanning rig's moderngl renderer) and passed through the RealSense D4xx noise model
(``scanning.sources.noise.add_depth_noise`` by default; any function with its
signature can be given). From one real photo we build:

``bona_fide``
    the photo textured onto a 3D face surface: MediaPipe Face Mesh's 468 landmarks
    (x, y from the photo, z from the mesh, scaled to a 85–100 mm eye-corner span and
    flattened by 0.6–0.9 so the relief is not exaggerated), triangulated, posed with
    ±12° yaw/pitch at 0.45–0.75 m.
``flat_print``
    the whole photo printed near life size, held flat at 0.4–0.75 m, tilted ±20°.
``curved_print``
    the same print bent around a vertical cylinder (radius 7–20 cm, either way).
``folded_print``
    the same print folded down the face's midline (each half turned 10–40° away), so
    the crease stands out like a nose: the hardest of the flat attacks for depth relief.
``phone_screen`` / ``tablet_screen``
    the photo shown letterboxed on a 68x150 mm (phone) or 200x150 mm (tablet)
    display inside a black bezel, close enough for the face to be detected; glossy:
    a specular band on the colour image and 2–10 % extra depth dropouts.
``mask_3d``
    a rigid mask moulded to the face's shape (the same Face Mesh surface as the live
    face) with the photo printed on it, worn so it turns with the wearer's head; its
    printed eyes cannot close. Depth relief and a head turn cannot tell it from a face.
``replayed_video``
    a recording of the live face answering the challenge (the bona fide renders),
    replayed on the tablet: the still shows its first frame, the challenge frames its
    frames in turn, the tablet held about still.

``DEPTH_ATTACKS`` are the kinds depth relief alone is meant to refuse (every kind but the mask).

APCER is the fraction of attack presentations that pass the quality gate *and*
liveness (per attack kind, and the worst kind); BPCER the fraction of bona-fide
presentations that pass the quality gate but fail liveness. Captures the quality
gate refuses are counted separately.
"""
from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from payments.errors import FaceQualityError
from payments.face.capture import capture_face
from payments.face.liveness import (
    Challenge,
    DepthLivenessConfig,
    LivenessReason,
    LivenessResult,
    check_depth_liveness,
    face_mesh_landmarks,
)

if TYPE_CHECKING:
    from scanning.sources.frame import Intrinsics
    from scanning.sources.render import SceneMesh

_LOGGER = logging.getLogger(__name__)

NoiseFunction = Callable[..., NDArray[Any]]
MAX_TEXTURE_SIDE = 1024
EYE_OUTER_CORNERS = (33, 263)  # Face Mesh indices


class PresentationKind(str, enum.Enum):
    BONA_FIDE = "bona_fide"
    FLAT_PRINT = "flat_print"
    CURVED_PRINT = "curved_print"
    FOLDED_PRINT = "folded_print"
    PHONE_SCREEN = "phone_screen"
    TABLET_SCREEN = "tablet_screen"
    MASK_3D = "mask_3d"
    REPLAYED_VIDEO = "replayed_video"

    @property
    def is_attack(self) -> bool:
        return self is not PresentationKind.BONA_FIDE


@dataclasses.dataclass(frozen=True, eq=False)
class RgbdSample:
    """One rendered capture: colour (H, W, 3) uint8, depth (H, W) float32 metres (0 = no reading)."""

    kind: PresentationKind
    source: str
    colour: NDArray[Any]
    depth_m: NDArray[Any]
    intrinsics: Intrinsics


def kiosk_camera() -> Intrinsics:
    """The kiosk's face camera: 640x480, fx = fy = 600 px (a RealSense D4xx colour-aligned depth stream)."""
    from scanning.sources.frame import Intrinsics

    return Intrinsics(fx=600.0, fy=600.0, cx=319.5, cy=239.5, width=640, height=480)


def _rotation(yaw_deg: float, pitch_deg: float) -> NDArray[Any]:
    """(3, 3) rotation: yaw about the camera's y axis, then pitch about x."""
    yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    rotation: NDArray[Any] = rx @ ry
    return rotation


def _place(
    vertices: NDArray[Any], rng: np.random.Generator, distance: float, max_angle_deg: float, extra_yaw_deg: float = 0.0
) -> NDArray[Any]:
    """Rotate about the origin (the face centre) and move to ``distance`` metres in front of the camera."""
    yaw = rng.uniform(-max_angle_deg, max_angle_deg) + extra_yaw_deg
    rotation = _rotation(yaw, rng.uniform(-max_angle_deg, max_angle_deg))
    offset = np.array([rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02), distance])
    placed: NDArray[Any] = vertices @ rotation.T + offset
    return placed


@dataclasses.dataclass(frozen=True)
class SourcePhoto:
    """A photo with its Face Mesh landmarks; ``texture`` is the photo at most 1024 px on its long side."""

    name: str
    texture: NDArray[Any]
    landmarks: NDArray[Any]  # (468, 3) in texture pixels

    @property
    def eye_span_px(self) -> float:
        a, b = (self.landmarks[i, :2] for i in EYE_OUTER_CORNERS)
        return float(np.linalg.norm(a - b))

    @property
    def face_centre_px(self) -> NDArray[Any]:
        centre: NDArray[Any] = self.landmarks[:, :2].mean(axis=0)
        return centre


def prepare_photo(name: str, image: NDArray[Any]) -> SourcePhoto | None:
    """Downscale and find Face Mesh landmarks; None when Face Mesh finds no face."""
    import cv2

    scale = min(1.0, MAX_TEXTURE_SIDE / max(image.shape[:2]))
    if scale < 1.0:
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    landmarks = face_mesh_landmarks(image)
    return None if landmarks is None else SourcePhoto(name, np.ascontiguousarray(image), landmarks)


def _scene_mesh(vertices: NDArray[Any], faces: NDArray[Any], uv: NDArray[Any], texture: NDArray[Any], shaded: bool) -> SceneMesh:
    from scanning.sources.render import SceneMesh

    return SceneMesh(vertices, faces, np.ones_like(vertices), uv, texture, shaded)


# Face Mesh eyelid contours, upper and lower, paired point by point (subject's right eye, then left).
UPPER_LIDS = (246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398)
LOWER_LIDS = (7, 163, 144, 145, 153, 154, 155, 249, 390, 373, 374, 380, 381, 382)


def face_surface(
    photo: SourcePhoto, rng: np.random.Generator, *, extra_yaw_deg: float = 0.0, eyes_closed: bool = False
) -> SceneMesh:
    """The photo on a 3D face surface from Face Mesh landmarks, posed in front of the camera.

    ``extra_yaw_deg`` turns the head further (the head-turn challenge); ``eyes_closed``
    brings each upper eyelid point down onto its lower partner (a blink), stretching the
    lid skin over the eye as a real lid does.
    """
    from scipy.spatial import Delaunay

    metres_per_px = rng.uniform(0.085, 0.100) / photo.eye_span_px
    relief = rng.uniform(0.6, 0.9)
    centre = photo.face_centre_px
    local = np.column_stack([
        (photo.landmarks[:, :2] - centre) * metres_per_px,
        (photo.landmarks[:, 2] - photo.landmarks[:, 2].mean()) * metres_per_px * relief,
    ])
    faces = Delaunay(photo.landmarks[:, :2]).simplices
    height, width = photo.texture.shape[:2]
    uv = np.column_stack([photo.landmarks[:, 0] / width, 1.0 - photo.landmarks[:, 1] / height])
    if eyes_closed:
        local[list(UPPER_LIDS)] = local[list(LOWER_LIDS)] + np.array([0.0, -0.0005, -0.001])
    vertices = _place(local, rng, rng.uniform(0.45, 0.75), 12.0, extra_yaw_deg)
    return _scene_mesh(vertices, faces, uv, photo.texture, shaded=True)


def _grid(width_m: float, height_m: float, nx: int, ny: int) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """A (ny x nx) vertex grid centred on the origin: vertices (n, 3), faces (m, 3), uv (n, 2)."""
    u, v = np.meshgrid(np.linspace(0.0, 1.0, nx), np.linspace(0.0, 1.0, ny))
    vertices = np.column_stack([(u.ravel() - 0.5) * width_m, (v.ravel() - 0.5) * height_m, np.zeros(u.size)])
    index = np.arange(nx * ny).reshape(ny, nx)
    a, b, c, d = index[:-1, :-1].ravel(), index[:-1, 1:].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([b, d, c])])
    return vertices, faces, np.column_stack([u.ravel(), 1.0 - v.ravel()])


def print_surface(photo: SourcePhoto, rng: np.random.Generator, kind: PresentationKind, extra_yaw_deg: float = 0.0) -> SceneMesh:
    """The whole photo printed near life size, posed: flat, bent round a vertical cylinder, or
    folded down the face's midline so the crease stands out like a nose."""
    metres_per_px = rng.uniform(0.08, 0.11) / photo.eye_span_px
    height, width = photo.texture.shape[:2]
    vertices, faces, uv = _grid(width * metres_per_px, height * metres_per_px, 48, 48)
    vertices[:, :2] -= (photo.face_centre_px - np.array([width, height]) / 2.0) * metres_per_px
    x = vertices[:, 0].copy()
    if kind is PresentationKind.CURVED_PRINT:
        radius = rng.uniform(0.07, 0.20) * rng.choice([-1.0, 1.0])
        vertices[:, 0], vertices[:, 2] = radius * np.sin(x / radius), radius * (1.0 - np.cos(x / radius))
    elif kind is PresentationKind.FOLDED_PRINT:
        half_angle = np.radians(rng.uniform(10.0, 40.0))  # how far each half turns away from the camera
        vertices[:, 0], vertices[:, 2] = x * np.cos(half_angle), np.abs(x) * np.sin(half_angle)
    placed = _place(vertices, rng, rng.uniform(0.4, 0.75), 20.0, extra_yaw_deg)
    return _scene_mesh(placed, faces, uv, photo.texture, shaded=True)


DEPTH_ATTACKS = tuple(k for k in PresentationKind if k.is_attack and k is not PresentationKind.MASK_3D)
SCREENS = {
    PresentationKind.PHONE_SCREEN: (0.068, 0.150),
    PresentationKind.TABLET_SCREEN: (0.200, 0.150),
    PresentationKind.REPLAYED_VIDEO: (0.200, 0.150),
}
BEZEL_M = 0.006


def screen_surfaces(
    photo: SourcePhoto, rng: np.random.Generator, kind: PresentationKind, fx: float, extra_yaw_deg: float = 0.0
) -> list[SceneMesh]:
    """The photo zoomed onto the face on a glossy display in a black bezel, held so the face is detectable."""
    display_w, display_h = SCREENS[kind]
    texture, metres_per_px = _screen_image(photo, display_w, display_h, rng)
    eye_m = photo.eye_span_px * metres_per_px
    distance = max(0.18, fx * eye_m / rng.uniform(55.0, 100.0))
    vertices, faces, uv = _grid(display_w, display_h, 2, 2)
    bezel, bezel_faces, bezel_uv = _grid(display_w + 2 * BEZEL_M, display_h + 2 * BEZEL_M, 2, 2)
    bezel[:, 2] += 0.001
    pose_seed = int(rng.integers(2**31))
    screen = _place(vertices, np.random.default_rng(pose_seed), distance, 20.0, extra_yaw_deg)
    frame = _place(bezel, np.random.default_rng(pose_seed), distance, 20.0, extra_yaw_deg)
    black = np.zeros((2, 2, 3), np.uint8)
    return [_scene_mesh(screen, faces, uv, texture, shaded=False), _scene_mesh(frame, bezel_faces, bezel_uv, black, shaded=True)]


def _screen_image(photo: SourcePhoto, display_w: float, display_h: float, rng: np.random.Generator) -> tuple[NDArray[Any], float]:
    """What the display shows: the photo zoomed so the face spans most of the width (as an attacker
    would show it), centred, black outside the photo, with a specular band. Returns the
    (H, W, 3) uint8 image and the metres per photo pixel on the display."""
    import cv2

    crop_w = photo.eye_span_px * rng.uniform(2.0, 3.5)
    canvas_w = 512
    canvas_h = round(canvas_w * display_h / display_w)
    zoom = canvas_w / crop_w
    centre = photo.face_centre_px
    warp = np.array([[zoom, 0.0, canvas_w / 2 - zoom * centre[0]], [0.0, zoom, canvas_h / 2 - zoom * centre[1]]])
    canvas = cv2.warpAffine(photo.texture, warp, (canvas_w, canvas_h), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))
    yy, xx = np.mgrid[0:canvas_h, 0:canvas_w]
    angle = rng.uniform(0, np.pi)
    band = np.abs((xx - canvas_w * rng.uniform(0.2, 0.8)) * np.cos(angle) + (yy - canvas_h / 2) * np.sin(angle))
    glare = rng.uniform(40, 110) * np.exp(-((band / (0.08 * canvas_w)) ** 2))
    glossy = np.clip(canvas.astype(np.float32) + glare[..., None], 0, 255).astype(np.uint8)
    return glossy, display_w / crop_w


def _background(rng: np.random.Generator) -> SceneMesh:
    vertices, faces, uv = _grid(6.0, 4.5, 2, 2)
    vertices[:, 2] = rng.uniform(1.6, 2.6)
    shade = rng.integers(90, 170)
    return _scene_mesh(vertices, faces, uv, np.full((2, 2, 3), shade, np.uint8), shaded=True)


def render_presentation(
    photo: SourcePhoto, kind: PresentationKind, rng: np.random.Generator, noise: NoiseFunction | None = None
) -> RgbdSample:
    """Render one presentation of ``photo`` through the kiosk camera with sensor noise on depth and colour."""
    from scanning.sources.noise import add_depth_noise
    from scanning.sources.render import shared_renderer

    intrinsics = kiosk_camera()
    if kind is PresentationKind.REPLAYED_VIDEO:  # the recording's first frame: the live face, rendered
        live = render_presentation(photo, PresentationKind.BONA_FIDE, np.random.default_rng(int(rng.integers(2**31))))
        photo = _as_picture(photo, live.colour)
    scene = _presentation_scene(photo, kind, rng, intrinsics.fx)
    view = shared_renderer().render([*scene, _background(rng)], intrinsics, np.eye(4))
    dropout = rng.uniform(0.02, 0.10) if kind in SCREENS else 0.002
    depth = (noise or add_depth_noise)(
        view.depth, rng, normals_cam=view.normals, fx=intrinsics.fx,
        principal_point=(intrinsics.cx, intrinsics.cy), dropout_rate=dropout,
    )
    colour = np.clip(view.colour.astype(np.float32) + rng.normal(0, 2.0, view.colour.shape), 0, 255).astype(np.uint8)
    return RgbdSample(kind, photo.name, colour, depth, intrinsics)


def _presentation_scene(
    photo: SourcePhoto, kind: PresentationKind, rng: np.random.Generator, fx: float,
    extra_yaw_deg: float = 0.0, eyes_closed: bool = False,
) -> list[SceneMesh]:
    if kind is PresentationKind.BONA_FIDE:
        return [face_surface(photo, rng, extra_yaw_deg=extra_yaw_deg, eyes_closed=eyes_closed)]
    if kind is PresentationKind.MASK_3D:  # the face's shape, rigid: it turns with the head, its eyes never close
        return [face_surface(photo, rng, extra_yaw_deg=extra_yaw_deg)]
    if kind in SCREENS:
        return screen_surfaces(photo, rng, kind, fx, extra_yaw_deg)
    return [print_surface(photo, rng, kind, extra_yaw_deg)]


# What the shopper (or the attacker holding a picture) does over a challenge's frames.
TURN_YAWS_DEG = (0.0, 6.0, 14.0, 22.0, 28.0, 20.0)
BLINK_CLOSED = (False, False, True, True, False, False)


def render_challenge_frames(
    photo: SourcePhoto, kind: PresentationKind, challenge: Challenge, seed: int
) -> list[NDArray[Any]]:
    """Colour frames (H, W, 3) uint8 of one presentation answering ``challenge``.

    A real face turns its head (yaw sweep) or closes and reopens its eyes; an attacker
    turns the print or screen through the same sweep, and a picture cannot blink (it is
    only moved a little between frames).
    """
    return list(stream_challenge_frames(photo, kind, challenge, seed))


def stream_challenge_frames(
    photo: SourcePhoto, kind: PresentationKind, challenge: Challenge, seed: int
) -> Iterator[NDArray[Any]]:
    """:func:`render_challenge_frames` one frame at a time, each rendered when it is asked for (as a
    camera streams them: the kiosk stops taking frames once the challenge is answered)."""
    from scanning.sources.render import shared_renderer

    intrinsics = kiosk_camera()
    steps = TURN_YAWS_DEG if challenge is Challenge.TURN_HEAD else BLINK_CLOSED
    recording = None
    if kind is PresentationKind.REPLAYED_VIDEO:  # the live face answering this challenge, recorded earlier
        recording = [_as_picture(photo, frame)
                     for frame in render_challenge_frames(photo, PresentationKind.BONA_FIDE, challenge, seed + 1)]
    for index, step in enumerate(steps):
        rng = np.random.default_rng(seed)  # the same geometry in every frame ...
        if challenge is Challenge.TURN_HEAD and recording is None:
            yaw = float(step)  # a head, or a picture the attacker turns through the same sweep
        else:
            yaw = 1.5 * np.sin(index)  # ... moved a little per frame
        closed = bool(step) and challenge is Challenge.BLINK and kind is PresentationKind.BONA_FIDE
        shown = photo if recording is None else recording[index]
        scene = _presentation_scene(shown, kind, rng, intrinsics.fx, yaw, closed)
        view = shared_renderer().render([*scene, _background(rng)], intrinsics, np.eye(4))
        noise = np.random.default_rng(seed + index).normal(0, 2.0, view.colour.shape)
        yield np.clip(view.colour.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _as_picture(photo: SourcePhoto, frame: NDArray[Any]) -> SourcePhoto:
    """A rendered frame of ``photo``'s face as a picture to show on a screen (the photo itself if Face Mesh
    finds no face in the frame)."""
    return prepare_photo(photo.name, np.ascontiguousarray(frame)) or photo


def generate_attack_set(
    photos: Sequence[SourcePhoto],
    *,
    variants: int,
    seed: int,
    kinds: Sequence[PresentationKind] = tuple(PresentationKind),
    noise: NoiseFunction | None = None,
) -> Iterator[RgbdSample]:
    """``variants`` renders of every photo for every kind; the same seed gives the same set."""
    rng = np.random.default_rng(seed)
    for photo in photos:
        for kind in kinds:
            for _ in range(variants):
                yield render_presentation(photo, kind, np.random.default_rng(int(rng.integers(2**63))), noise)


@dataclasses.dataclass(frozen=True)
class PresentationOutcome:
    kind: PresentationKind
    source: str
    captured: bool  # passed the quality gate
    liveness: LivenessResult | None

    @property
    def accepted(self) -> bool:
        return self.captured and self.liveness is not None and self.liveness.live


def assess(samples: Iterable[RgbdSample], config: DepthLivenessConfig = DepthLivenessConfig()) -> list[PresentationOutcome]:
    """Run each sample through the real capture path: quality gate, then depth liveness."""
    outcomes = []
    for sample in samples:
        try:
            capture = capture_face(sample.colour)
        except FaceQualityError as exc:
            _LOGGER.debug("%s of %s refused by the quality gate: %s", sample.kind.value, sample.source, exc)
            outcomes.append(PresentationOutcome(sample.kind, sample.source, False, None))
            continue
        result = check_depth_liveness(sample.depth_m, sample.intrinsics, capture.keypoints, config)
        outcomes.append(PresentationOutcome(sample.kind, sample.source, True, result))
    return outcomes


def error_rates(outcomes: Sequence[PresentationOutcome] | Sequence[AttemptOutcome]) -> dict[str, object]:
    """APCER per attack kind and overall (worst kind), BPCER, and the counts behind them."""
    by_kind: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        counts = by_kind.setdefault(outcome.kind.value, {"presented": 0, "captured": 0, "accepted": 0})
        counts["presented"] += 1
        counts["captured"] += int(outcome.captured)
        counts["accepted"] += int(outcome.accepted)
    apcer = {
        kind: counts["accepted"] / counts["presented"]
        for kind, counts in by_kind.items() if kind != PresentationKind.BONA_FIDE.value and counts["presented"]
    }
    bona = by_kind.get(PresentationKind.BONA_FIDE.value, {"presented": 0, "captured": 0, "accepted": 0})
    bpcer = 1.0 - bona["accepted"] / bona["captured"] if bona["captured"] else None
    return {"apcer": max(apcer.values()) if apcer else None, "apcer_by_kind": apcer, "bpcer": bpcer, "counts": by_kind}


@dataclasses.dataclass(frozen=True)
class AttemptOutcome:
    """One presentation through the kiosk's whole face check (``payments.face.pipeline``): the quality
    gate, depth relief, the challenge. ``challenge_passed`` is judged even where depth refused, to show
    what the challenge alone would have let through."""

    kind: PresentationKind
    source: str
    captured: bool
    depth_live: bool
    challenge_passed: bool
    accepted: bool


def assess_attempts(
    photos: Sequence[SourcePhoto],
    *,
    variants: int,
    seed: int,
    kinds: Sequence[PresentationKind] = tuple(PresentationKind),
    challenge: Challenge = Challenge.TURN_HEAD,
) -> list[AttemptOutcome]:
    """``variants`` attempts (still and challenge frames) of every photo for every kind, through the pipeline."""
    from payments.face.pipeline import FacePipeline, render_frames

    pipeline = FacePipeline()
    rng = np.random.default_rng(seed)
    outcomes = []
    for photo in photos:
        for kind in kinds:
            for _ in range(variants):
                frames = render_frames(photo, kind, challenge, int(rng.integers(2**31)))
                try:
                    check = pipeline.check(frames)
                except FaceQualityError:
                    outcomes.append(AttemptOutcome(kind, photo.name, False, False, False, False))
                    continue
                challenge_reasons = {LivenessReason.NO_TURN, LivenessReason.NO_BLINK, LivenessReason.NO_FACE_IN_FRAME}
                depth_live = check.live or set(check.liveness.reasons) <= challenge_reasons
                passed = check.live or pipeline.judge_challenge(frames.challenge_frames, challenge)[0].live
                outcomes.append(AttemptOutcome(kind, photo.name, True, depth_live, passed, check.live))
    return outcomes
