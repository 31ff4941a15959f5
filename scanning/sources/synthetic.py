"""The synthetic kiosk rig: any mesh on the platform, seen by calibrated virtual depth cameras.

``kiosk_rig`` places N cameras the way the kiosk hardware does: around and above the
platform, all looking at it (close range for feet, far for a standing body).
``SyntheticRig`` renders the scene (the mesh, the platform and the shop floor) through
each camera with :mod:`scanning.sources.render` and passes the depth through the
D4xx noise model, so the output has the same form and the same faults as frames from
the real cameras. Every run with the same seed yields the same frames.

Camera choices, from Intel's D400 datasheet: a D415 (55 mm baseline, 65° HFOV); at
640×480 feet are seen with fx = 600 px from about 0.5 m, alternately 0.20 m and
0.34 m high (the low ones see the sides of the sole and into the arch, the high ones
the instep), bodies with fx = 500 px in portrait orientation from about 1.6 m,
alternately from 2.1 m and 0.8 m high.

A foot rig can also have a glass platform with a plantar camera under it (``plantar=True``),
the one view of the sole and the arch above it, which no camera beside the feet can see
into. It is a D435-class wide camera (87° × 58°, fx = 337 px at 640×480) that looks up
through the glass by way of a 45° mirror in the platform's housing: the source un-mirrors
its images, so it acts as a camera 0.30 m under the glass looking straight up, its image's
long side across the two feet. To it the platform is glass (it sees the feet and, beyond
them, the shop's ceiling); to the cameras above, the glass window shows the housing's dark
floor below the platform.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import trimesh

from scanning.errors import FrameError
from scanning.sources.frame import Intrinsics, RGBDFrame, is_plantar
from scanning.sources.noise import add_depth_noise
from scanning.sources.render import SceneMesh, shared_renderer

_LOGGER = logging.getLogger(__name__)

SKIN_RGB = (0.82, 0.64, 0.52)
PLATFORM_RGB = (0.45, 0.47, 0.50)
FLOOR_RGB = (0.30, 0.28, 0.26)
WALL_RGB = (0.85, 0.85, 0.82)
D415_BASELINE_M = 0.055
BOOTH_HALF_M = 2.2
BOOTH_HEIGHT_M = 2.6
CEILING_HEIGHT_M = 2.6


@dataclass(frozen=True, eq=False)
class VirtualCamera:
    """A calibrated camera: intrinsics and its camera → platform (4, 4) pose."""

    camera_id: str
    intrinsics: Intrinsics
    extrinsic: np.ndarray


@dataclass(frozen=True)
class RigLayout:
    """Where a kind of kiosk puts its cameras (metres, platform frame, z up): on a circle
    of ``radius_m``, camera i at height ``heights_m[i % len(heights_m)]``."""

    radius_m: float
    heights_m: tuple[float, ...]
    target: tuple[float, float, float]
    intrinsics: Intrinsics


DEFAULT_VIEWS = {"foot": 4, "body": 6}
PLANTAR_CAMERA_ID = "plantar"
PLANTAR_DEPTH_M = 0.30  # the (virtual, mirrored) plantar camera's distance under the glass
PLANTAR_INTRINSICS = Intrinsics(337.0, 337.0, 319.5, 239.5, 640, 480)
GLASS_HALF_M = (0.21, 0.25)  # the glass window's half extents along x (heel-toe) and y
HOUSING_DEPTH_M = 0.07  # the housing's floor under the glass, seen through it from above
HOUSING_RGB = (0.08, 0.08, 0.09)
RIG_LAYOUTS = {
    "foot": RigLayout(radius_m=0.45, heights_m=(0.20, 0.34), target=(0.0, 0.0, 0.03),
                      intrinsics=Intrinsics(600.0, 600.0, 319.5, 239.5, 640, 480)),
    "body": RigLayout(radius_m=1.6, heights_m=(2.1, 0.8), target=(0.0, 0.0, 0.9),
                      intrinsics=Intrinsics(500.0, 500.0, 239.5, 319.5, 480, 640)),
}


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray | tuple[float, float, float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """(4, 4) camera → world pose of an OpenCV camera at ``eye`` looking at ``target``."""
    eye, target = np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64)
    up = np.asarray(up)
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([right, down, forward], axis=1)
    pose[:3, 3] = eye
    return pose


def kiosk_rig(kind: str, views: int | None = None, *, intrinsics: Intrinsics | None = None,
              plantar: bool = False) -> list[VirtualCamera]:
    """``views`` cameras evenly around the platform (the first at 45°), alternating high
    cameras (instep; crown and shoulders) with low ones (sides of the sole; between the
    legs and under the arms); with ``plantar`` (feet only) the camera under the glass
    platform comes last (see the module notes)."""
    if kind not in RIG_LAYOUTS:
        raise FrameError(f"unknown rig kind {kind!r}; expected one of {sorted(RIG_LAYOUTS)}", field="kind")
    if views is not None and not 2 <= views <= 12:
        raise FrameError(f"a kiosk rig has 2 to 12 cameras; got {views}", field="views")
    if plantar and kind != "foot":
        raise FrameError("only the foot rig has a glass platform with a plantar camera", field="plantar")
    layout = RIG_LAYOUTS[kind]
    views = DEFAULT_VIEWS[kind] if views is None else views
    cameras = []
    for index in range(views):
        azimuth = np.radians(45.0 + 360.0 * index / views)
        height = layout.heights_m[index % len(layout.heights_m)]
        eye = np.array([layout.radius_m * np.cos(azimuth), layout.radius_m * np.sin(azimuth), height])
        cameras.append(VirtualCamera(f"cam{index}", intrinsics or layout.intrinsics, look_at(eye, layout.target)))
    if plantar:
        below = np.array([0.0, 0.0, -PLANTAR_DEPTH_M])
        cameras.append(VirtualCamera(PLANTAR_CAMERA_ID, PLANTAR_INTRINSICS,
                                     look_at(below, np.zeros(3), up=np.array([1.0, 0.0, 0.0]))))
    return cameras


def platform_scene(kind: str, *, glass: bool = False) -> list[SceneMesh]:
    """The kiosk's platform (a grey plate at z = 0) and the shop floor 8 cm below it; a
    body kiosk stands in a fitting booth, whose walls the cameras see behind the shopper.
    A ``glass`` platform has a window (``GLASS_HALF_M``) where the feet stand, through
    which the housing's dark floor shows."""
    half = 0.45 if kind == "foot" else 0.8
    plate = _framed_plate(half, GLASS_HALF_M, PLATFORM_RGB) if glass else _quad(half, 0.0, PLATFORM_RGB)
    scene = [plate, _quad(4.0, -0.08, FLOOR_RGB)]
    if glass:
        scene.append(_quad(half, -HOUSING_DEPTH_M, HOUSING_RGB))
    if kind == "body":
        scene.append(_booth_walls(BOOTH_HALF_M, BOOTH_HEIGHT_M))
    return scene


def shop_ceiling() -> SceneMesh:
    """The shop's ceiling, ``CEILING_HEIGHT_M`` up: a plantar camera looking up through the
    glass sees it wherever no foot (or board) covers the glass; the cameras around the
    platform look down and never see it."""
    return _quad(3.0, CEILING_HEIGHT_M, WALL_RGB)


def _quad(half: float, z: float, rgb: tuple[float, float, float]) -> SceneMesh:
    vertices = np.array([[-half, -half, z], [half, -half, z], [half, half, z], [-half, half, z]])
    return SceneMesh(vertices, np.array([[0, 1, 2], [0, 2, 3]]), np.tile(rgb, (4, 1)))


def _framed_plate(half: float, window: tuple[float, float], rgb: tuple[float, float, float]) -> SceneMesh:
    """A square plate at z = 0 of half side ``half`` with a rectangular hole of half extents
    ``window`` (x, y) in its middle: four quads around the hole."""
    wx, wy = window
    xs, ys = (-half, -wx, wx, half), (-half, -wy, wy, half)
    vertices = np.array([[x, y, 0.0] for y in ys for x in xs])
    faces = []
    for row in range(3):
        for column in range(3):
            if row == 1 and column == 1:
                continue  # the window
            a = row * 4 + column
            faces += [[a, a + 1, a + 5], [a, a + 5, a + 4]]
    return SceneMesh(vertices, np.array(faces), np.tile(rgb, (len(vertices), 1)))


def _booth_walls(half: float, height: float) -> SceneMesh:
    """Four walls and a ceiling around the platform (faces unculled, so winding is free)."""
    booth = trimesh.creation.box(extents=[2 * half, 2 * half, height + 0.08])
    booth.apply_translation([0.0, 0.0, height / 2.0 - 0.04])
    walls = booth.faces[booth.face_normals[:, 2] > -0.5]  # no bottom: the floor is there
    return SceneMesh(np.asarray(booth.vertices), walls, np.tile(WALL_RGB, (len(booth.vertices), 1)))


def mesh_to_scene(mesh: trimesh.Trimesh, rgb: tuple[float, float, float] = SKIN_RGB) -> SceneMesh:
    """A trimesh (metres, platform frame) as a uniformly coloured scene object."""
    return SceneMesh(np.asarray(mesh.vertices), np.asarray(mesh.faces), np.tile(rgb, (len(mesh.vertices), 1)))


class SyntheticRig:
    """A :class:`~scanning.sources.frame.DepthSource` that renders ``mesh`` on the platform.

    mesh : the shopper (feet or body), metres, platform frame, standing on z = 0;
        None for an empty platform.
    cameras : the rig (see :func:`kiosk_rig`).
    seed : seeds the noise; the same seed gives the same frames.
    noise : apply the D4xx noise model (off gives the ideal depth).
    extras : more objects on the platform (a calibration board).
    supersample : colour anti-aliasing factor (see :meth:`MeshRenderer.render`).
    """

    def __init__(
        self,
        mesh: trimesh.Trimesh | None,
        cameras: list[VirtualCamera],
        *,
        kind: str = "foot",
        seed: int = 0,
        noise: bool = True,
        baseline_m: float = D415_BASELINE_M,
        extras: tuple[SceneMesh, ...] = (),
        supersample: int = 1,
    ) -> None:
        if mesh is not None and len(mesh.faces) == 0:
            raise FrameError("the synthetic rig needs a mesh with faces; got an empty mesh", field="mesh")
        if not cameras:
            raise FrameError("the synthetic rig needs at least one camera", field="cameras")
        self.cameras = cameras
        glass = any(is_plantar(camera.extrinsic) for camera in cameras)
        shopper = ([mesh_to_scene(mesh)] if mesh is not None else []) + list(extras)
        # what the plantar camera sees through the glass: the shopper, what lies on the glass
        # and, beyond them, the shop's ceiling
        self.through_glass = shopper + [shop_ceiling()]
        self.scene = shopper + platform_scene(kind, glass=glass)
        self.seed = seed
        self.noise = noise
        self.baseline_m = baseline_m
        self.supersample = supersample

    def frames(self) -> Iterator[RGBDFrame]:
        """One frame per camera, depth in metres with the camera's noise, extrinsic attached."""
        rng = np.random.default_rng(self.seed)
        renderer = shared_renderer()
        for index, camera in enumerate(self.cameras):
            scene = self.through_glass if is_plantar(camera.extrinsic) else self.scene
            view = renderer.render(scene, camera.intrinsics, camera.extrinsic, supersample=self.supersample)
            depth = view.depth
            if self.noise:
                k = camera.intrinsics
                depth = add_depth_noise(depth, rng, normals_cam=view.normals, fx=k.fx,
                                        baseline_m=self.baseline_m, principal_point=(k.cx, k.cy))
            yield RGBDFrame(view.colour, depth, camera.intrinsics, camera.camera_id,
                            timestamp=index / 90.0, extrinsic=camera.extrinsic)


def foot_pair_scene(right_foot: trimesh.Trimesh, separation_m: float = 0.24) -> trimesh.Trimesh:
    """Both feet standing on the platform, facing +x, centred on the platform.

    right_foot : a right foot in its canonical frame (heel at the origin, +x toward
        the toes, z up, sole on z = 0), metres. The left foot is its mirror image.
    separation_m : distance between the two feet's centre lines.
    """
    length = float(right_foot.bounds[1, 0] - right_foot.bounds[0, 0])
    centre_y = float(right_foot.bounds[:, 1].mean())
    right = right_foot.copy()
    right.apply_translation([-right_foot.bounds[0, 0] - length / 2.0, -separation_m / 2.0 - centre_y, 0.0])
    left = right.copy()
    left.apply_transform(np.diag([1.0, -1.0, 1.0, 1.0]))
    return trimesh.util.concatenate([right, left])


def body_scene(body: trimesh.Trimesh) -> trimesh.Trimesh:
    """A standing body centred on the platform, feet on z = 0, facing +y (metres)."""
    placed = body.copy()
    centre = placed.bounds.mean(axis=0)
    placed.apply_translation([-centre[0], -centre[1], -placed.bounds[0, 2]])
    return placed
