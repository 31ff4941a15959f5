"""Joint rig calibration from several board poses: chained initial poses, then bundle adjustment.

A body rig's cameras stand 1.5-2.5 m from the platform, where a board lying on the floor
fills a few per cent of each image, seen at a grazing angle: one camera's pose from it
alone is off by centimetres. Real body rigs are therefore calibrated from a series of
captures: first the board lying on the platform (that capture defines the platform
frame), then the operator holds or stands the board in several poses (upright, turned
toward different pairs of cameras, at different heights). Every camera that sees the
board in a capture observes that board pose; the poses link cameras to each other.

The solve:

1. Corners and a PnP pose (board → camera) for every (capture, camera) that sees the board.
2. Chaining: cameras that see the platform board get their pose from it; a held board seen
   by a posed camera gets its pose in the platform frame; cameras that see a posed board
   get theirs; and so on until nothing changes. A camera that no chain reaches is an error
   naming it.
3. Bundle adjustment: every camera pose and every held-board pose (the platform board is
   fixed: it is the frame) refined together by minimising the reprojection error of all
   corners in all views (``scipy.optimize.least_squares``, sparse Jacobian), once more
   without the few corners the first solve leaves far off.

Intrinsics are taken from the frames and held fixed (calibrate them first with
:func:`scanning.calibration.charuco.calibrate_intrinsics` when unknown); detected corners
are undistorted first when a camera's distortion is given.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scanning.calibration.rig import CameraCalibration, RigCalibration
from scanning.errors import CalibrationError
from scanning.sources.frame import Intrinsics, RGBDFrame

_LOGGER = logging.getLogger(__name__)

OUTLIER_FACTOR = 4.0  # a corner this many times the RMS off after the first solve is dropped
OUTLIER_FLOOR_PX = 0.5  # ... unless it is within this many pixels


@dataclass(frozen=True, eq=False)
class BoardView:
    """One camera's view of the board in one capture.

    object_points : (n, 3) board coordinates (metres); image_points : (n, 2) undistorted pixels;
    board_to_camera : (4, 4) its PnP pose, used to start the chain.
    """

    capture: int
    camera_id: str
    object_points: np.ndarray
    image_points: np.ndarray
    board_to_camera: np.ndarray


def rotation_matrices(rotation_vectors: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotation matrices of (n, 3) axis-angle vectors (Rodrigues' formula)."""
    theta = np.linalg.norm(rotation_vectors, axis=1)
    axis = rotation_vectors / np.maximum(theta, 1e-300)[:, None]
    skew = np.zeros((len(theta), 3, 3))
    skew[:, 0, 1], skew[:, 0, 2], skew[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    skew = skew - skew.transpose(0, 2, 1)
    sin, cos = np.sin(theta)[:, None, None], np.cos(theta)[:, None, None]
    return np.eye(3) + sin * skew + (1.0 - cos) * skew @ skew


def _rotation_vector(rotation: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.Rodrigues(np.asarray(rotation, dtype=np.float64))[0].ravel()


def _to_params(transform: np.ndarray) -> np.ndarray:
    return np.concatenate([_rotation_vector(transform[:3, :3]), transform[:3, 3]])


def _from_params(params: np.ndarray) -> np.ndarray:
    transform = np.eye(4)
    transform[:3, :3] = rotation_matrices(params[None, :3])[0]
    transform[:3, 3] = params[3:]
    return transform


def _chain_poses(views: list[BoardView], camera_ids: list[str], platform_board: np.ndarray
                 ) -> tuple[dict[str, np.ndarray], dict[int, np.ndarray]]:
    """Starting poses: camera → platform by camera id, board → platform by capture (capture 0
    is the platform board, fixed at ``platform_board``)."""
    cameras: dict[str, np.ndarray] = {}
    boards: dict[int, np.ndarray] = {0: platform_board}
    # Strongest views first, so each pose is chained through the best-seen board available.
    ordered = sorted(views, key=lambda view: -len(view.object_points))
    changed = True
    while changed:
        changed = False
        for view in ordered:
            if view.capture in boards and view.camera_id not in cameras:
                cameras[view.camera_id] = boards[view.capture] @ np.linalg.inv(view.board_to_camera)
                changed = True
            elif view.camera_id in cameras and view.capture not in boards:
                boards[view.capture] = cameras[view.camera_id] @ view.board_to_camera
                changed = True
    missing = [camera_id for camera_id in camera_ids if camera_id not in cameras]
    if missing:
        raise CalibrationError(
            f"camera {missing[0]}: never sees the board together with a calibrated camera "
            f"(unlinked: {missing}); hold the board where {missing[0]} and a neighbour both see it",
            camera=missing[0],
        )
    return cameras, boards


def _yaw_pose(params: np.ndarray, lying: np.ndarray) -> np.ndarray:
    """Board → platform pose of a board lying on the platform: ``lying`` (the reference board's
    pose) turned by ``params[0]`` radians about z and moved by ``params[1:3]`` in the plane, at
    the reference board's height (a double-sided board's front print is its thickness up)."""
    cos, sin = np.cos(params[0]), np.sin(params[0])
    pose = np.eye(4)
    pose[:3, :3] = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]]) @ lying[:3, :3]
    pose[:2, 3] = params[1:3]
    pose[2, 3] = lying[2, 3]
    return pose


class _Problem:
    """The stacked corners of every view and the parameter layout of the bundle adjustment:
    6 per camera (platform → camera axis-angle and translation), then per board capture 6
    (held: board → platform axis-angle and translation) or 3 (lying on the platform: turn
    about z and shift in the plane; the platform board of capture 0 has none, it is the frame)."""

    def __init__(self, views: list[BoardView], camera_ids: list[str], boards: Mapping[int, str],
                 intrinsics: Mapping[str, Intrinsics], platform_board: np.ndarray) -> None:
        self.camera_ids, self.platform_board = camera_ids, platform_board
        self.boards = sorted(k for k in boards if k != 0)
        self.kinds = [boards[k] for k in self.boards]
        widths = [6 if kind == "held" else 3 for kind in self.kinds]
        self.offsets = 6 * len(camera_ids) + np.concatenate([[0], np.cumsum(widths)]).astype(int)
        camera_index = {camera_id: i for i, camera_id in enumerate(camera_ids)}
        board_index = {capture: i + 1 for i, capture in enumerate(self.boards)}  # 0: the platform board
        counts = [len(view.object_points) for view in views]
        self.camera_of = np.repeat([camera_index[v.camera_id] for v in views], counts)
        self.board_of = np.repeat([board_index.get(v.capture, 0) for v in views], counts)
        self.object_points = np.concatenate([v.object_points for v in views])
        self.image_points = np.concatenate([v.image_points for v in views])
        matrices = np.array([intrinsics[camera_id].matrix() for camera_id in camera_ids])
        self.focal = matrices[self.camera_of][:, [0, 1], [0, 1]]
        self.centre = matrices[self.camera_of][:, [0, 1], [2, 2]]
        self.keep = np.ones(len(self.object_points), dtype=bool)

    @property
    def size(self) -> int:
        return int(self.offsets[-1])

    def pack(self, cameras: Mapping[str, np.ndarray], boards: Mapping[int, np.ndarray]) -> np.ndarray:
        blocks = [_to_params(np.linalg.inv(cameras[c])) for c in self.camera_ids]
        for capture, kind in zip(self.boards, self.kinds):
            pose = boards[capture]
            if kind == "held":
                blocks.append(_to_params(pose))
            else:
                turn = pose[:3, :3] @ self.platform_board[:3, :3].T
                blocks.append(np.array([np.arctan2(turn[1, 0], turn[0, 0]), pose[0, 3], pose[1, 3]]))
        return np.concatenate(blocks)

    def board_poses(self, params: np.ndarray) -> np.ndarray:
        """(boards + 1, 4, 4) board → platform poses, the platform board first."""
        poses = [self.platform_board]
        for index, kind in enumerate(self.kinds):
            block = params[self.offsets[index]:self.offsets[index + 1]]
            poses.append(_from_params(block) if kind == "held" else _yaw_pose(block, self.platform_board))
        return np.array(poses)

    def unpack(self, params: np.ndarray) -> tuple[dict[str, np.ndarray], dict[int, np.ndarray]]:
        blocks = params[: 6 * len(self.camera_ids)].reshape(-1, 6)
        cameras = {c: np.linalg.inv(_from_params(blocks[i])) for i, c in enumerate(self.camera_ids)}
        return cameras, dict(zip([0, *self.boards], self.board_poses(params)))

    def residuals(self, params: np.ndarray) -> np.ndarray:
        """(2n,) pixel residuals of every kept corner."""
        boards = self.board_poses(params)[self.board_of[self.keep]]
        points = np.einsum("nij,nj->ni", boards[:, :3, :3], self.object_points[self.keep]) + boards[:, :3, 3]
        blocks = params[: 6 * len(self.camera_ids)].reshape(-1, 6)
        camera_of = self.camera_of[self.keep]
        camera_rotations = rotation_matrices(blocks[:, :3])[camera_of]
        in_camera = np.einsum("nij,nj->ni", camera_rotations, points) + blocks[camera_of, 3:]
        projected = self.focal[self.keep] * in_camera[:, :2] / in_camera[:, 2:3] + self.centre[self.keep]
        return (projected - self.image_points[self.keep]).ravel()

    def sparsity(self):
        """Which parameters each residual depends on: its camera's six and its board's."""
        from scipy.sparse import lil_matrix

        camera_of, board_of = np.repeat(self.camera_of[self.keep], 2), np.repeat(self.board_of[self.keep], 2)
        pattern = lil_matrix((len(camera_of), self.size), dtype=np.int8)
        rows = np.arange(len(camera_of))
        for offset in range(6):
            pattern[rows, 6 * camera_of + offset] = 1
        for index in range(len(self.boards)):
            on_board = rows[board_of == index + 1]
            for column in range(self.offsets[index], self.offsets[index + 1]):
                pattern[on_board, column] = 1
        return pattern


def adjust_bundle(views: list[BoardView], intrinsics: Mapping[str, Intrinsics], platform_board: np.ndarray,
                  lying: Sequence[int] = ()) -> tuple[dict[str, np.ndarray], dict[int, np.ndarray], dict[str, float]]:
    """Camera → platform poses (by camera id), board → platform poses (by capture) and the
    per-camera RMS reprojection error (px) that fit all ``views`` jointly. Captures in
    ``lying`` show the board lying on the platform (z = 0) elsewhere than capture 0; the
    others are held freely.

    Two passes: corners the first solve leaves more than OUTLIER_FACTOR times the RMS
    (and OUTLIER_FLOOR_PX) off are dropped (a corner refined onto a neighbouring edge in a
    grazing view), then the rest is solved again.
    """
    from scipy.optimize import least_squares

    camera_ids = sorted(intrinsics)
    cameras, boards = _chain_poses(views, camera_ids, platform_board)
    problem = _Problem(views, camera_ids, {k: "lying" if k in lying else "held" for k in boards}, intrinsics,
                       platform_board)
    params = start = problem.pack(cameras, boards)
    for first_pass in (True, False):
        params = least_squares(problem.residuals, params, jac_sparsity=problem.sparsity(), method="trf",
                               x_scale="jac", xtol=1e-10, ftol=1e-10).x
        errors = np.sqrt(np.sum(problem.residuals(params).reshape(-1, 2) ** 2, axis=1))
        limit = max(OUTLIER_FACTOR * float(np.sqrt(np.mean(errors ** 2))), OUTLIER_FLOOR_PX)
        if not first_pass or np.all(errors <= limit):
            break
        problem.keep[np.flatnonzero(problem.keep)[errors > limit]] = False
    cameras, boards = problem.unpack(params)
    squared = np.sum(problem.residuals(params).reshape(-1, 2) ** 2, axis=1)
    camera_of = problem.camera_of[problem.keep]
    rms = {c: float(np.sqrt(np.mean(squared[camera_of == i]))) for i, c in enumerate(camera_ids)}
    problem.keep[:] = True
    _LOGGER.info("bundle adjustment: %d cameras, %d boards, %d corners (%d dropped), RMS %.3f px (started at %.3f px)",
                 len(camera_ids), len(boards), len(problem.keep), len(problem.keep) - len(squared),
                 float(np.sqrt(np.mean(squared))),
                 float(np.sqrt(np.mean(np.sum(problem.residuals(start).reshape(-1, 2) ** 2, axis=1)))))
    return cameras, boards, rms


def solve_rig(spec, captures: Sequence[Sequence[RGBDFrame]], distortion: Mapping[str, np.ndarray] | None = None,
              lying: Sequence[int] = ()) -> RigCalibration:
    """The rig calibration from ``captures``: ``captures[0]`` the board lying on the platform
    where it defines the platform frame, the captures listed in ``lying`` the board lying
    flat elsewhere on the platform, the rest the board held in other poses. ``spec`` is a
    :class:`~scanning.calibration.charuco.CharucoBoardSpec`."""
    from scanning.calibration.charuco import MIN_CORNERS, pose_from_corners, try_detect_corners

    if not captures or not captures[0]:
        raise CalibrationError("rig calibration needs a capture of the board lying on the platform; got none")
    intrinsics: dict[str, Intrinsics] = {}
    most_corners: dict[str, int] = {}
    views: list[BoardView] = []
    for index, frames in enumerate(captures):
        seen: set[str] = set()
        for frame in frames:
            _check_frame(frame, index, seen, intrinsics)
            camera_matrix = frame.intrinsics.matrix()
            dist = None if distortion is None else distortion.get(frame.camera_id)
            object_points, image_points, found = try_detect_corners(spec, frame.colour, camera_matrix, dist)
            most_corners[frame.camera_id] = max(found, most_corners.get(frame.camera_id, 0))
            if found < MIN_CORNERS:
                continue  # a held board faces away from some cameras
            board_to_camera = pose_from_corners(object_points, image_points, camera_matrix, frame.camera_id)
            views.append(BoardView(index, frame.camera_id, object_points, image_points, board_to_camera))
    for camera_id, found in most_corners.items():
        if found < MIN_CORNERS:
            hint = "" if spec.double_sided else ("; if it is a plantar camera under a glass platform, it sees only the "
                                                 "board's back and needs the double-sided board")
            raise CalibrationError(
                f"camera {camera_id}: found {found} ChArUco corners in its best view of {len(captures)} "
                f"capture(s), need at least {MIN_CORNERS}; is the board in its view{hint}?",
                camera=camera_id, corners=found)
    if not any(view.capture == 0 for view in views):
        raise CalibrationError("no camera sees the board lying on the platform (capture 0); lay it flat in the "
                               "middle of the platform, printed side up")
    cameras, _boards, rms = adjust_bundle(views, intrinsics, spec.board_to_platform(), lying)
    corners = {camera_id: sum(len(v.object_points) for v in views if v.camera_id == camera_id) for camera_id in cameras}
    return RigCalibration(
        {c: CameraCalibration(c, intrinsics[c], cameras[c], rms[c], corners[c]) for c in sorted(cameras)},
        board=spec.to_dict(),
    )


def _check_frame(frame: RGBDFrame, capture: int, seen: set[str], intrinsics: dict[str, Intrinsics]) -> None:
    """One frame per camera per capture, and the same intrinsics for a camera in every capture."""
    if frame.camera_id in seen:
        raise CalibrationError(f"camera {frame.camera_id}: two frames in calibration capture {capture}",
                               camera=frame.camera_id)
    seen.add(frame.camera_id)
    known = intrinsics.setdefault(frame.camera_id, frame.intrinsics)
    if known != frame.intrinsics:
        raise CalibrationError(f"camera {frame.camera_id}: intrinsics {frame.intrinsics} in capture {capture} differ "
                               f"from {known} in an earlier capture", camera=frame.camera_id)
