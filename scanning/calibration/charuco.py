"""Rig calibration from ChArUco board images.

The board lying on the platform defines the platform frame: its centre is the origin, z
points up out of the platform, x runs along the board's long side (its first row of
squares). Corners are found with ``cv2.aruco.CharucoDetector`` and each view's board pose
with ``cv2.solvePnP``; :func:`calibrate_rig` then solves every camera's camera → platform
pose from the platform capture and any further captures of the board held in other poses
(:mod:`scanning.calibration.bundle`), with the RMS reprojection error in pixels. Cameras
whose intrinsics are unknown can first be calibrated from several views of the board
(``cv2.calibrateCamera``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from scanning.calibration.rig import RigCalibration
from scanning.errors import CalibrationError
from scanning.sources.frame import Intrinsics, RGBDFrame

MIN_CORNERS = 6
REFINE_HALF_WINDOW_PX = 4
SMALL_SQUARE_PX = 24.0


@dataclass(frozen=True)
class CharucoBoardSpec:
    """A printed ChArUco board: squares, their size in metres, and the ArUco dictionary.

    double_sided : the back is printed too, with a second board of other marker ids (the
        front's n markers have ids 0..n-1, the back's n..2n-1), laid out so that seen from
        behind it reads as a normal board. A plantar camera under a glass platform sees the
        back of a board lying on the glass; its ids tell detection which side it sees.
    thickness_m : the board's thickness, front print to back print.
    """

    squares_x: int = 10
    squares_y: int = 7
    square_m: float = 0.04
    marker_m: float = 0.03
    dictionary: str = "DICT_5X5_100"
    double_sided: bool = False
    thickness_m: float = 0.003

    def __post_init__(self) -> None:
        if not isinstance(self.double_sided, bool):
            raise CalibrationError(f"board double_sided must be true or false; got {self.double_sided!r}",
                                   field="double_sided")
        if not (isinstance(self.thickness_m, (int, float)) and 0.0 < self.thickness_m < 0.05):
            raise CalibrationError(f"board thickness_m must be a thickness in metres (0 to 0.05); got "
                                   f"{self.thickness_m!r}", field="thickness_m")

    @property
    def size_m(self) -> tuple[float, float]:
        return self.squares_x * self.square_m, self.squares_y * self.square_m

    @property
    def markers(self) -> int:
        """How many markers one side of the board holds (a ChArUco board's white squares)."""
        return (self.squares_x * self.squares_y) // 2

    def cv_board(self, side: str = "front"):
        """The ``cv2.aruco.CharucoBoard`` of one side: ``front`` (marker ids 0..n-1) or, for a
        double-sided board, ``back`` (ids n..2n-1, in back-board coordinates: see
        :meth:`back_to_front`)."""
        import cv2

        if not hasattr(cv2.aruco, self.dictionary):
            raise CalibrationError(f"unknown ArUco dictionary {self.dictionary!r}", field="dictionary")
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        size = (self.squares_x, self.squares_y)
        if side == "front":
            return cv2.aruco.CharucoBoard(size, self.square_m, self.marker_m, dictionary)
        if side != "back" or not self.double_sided:
            raise CalibrationError(f"a {'double' if self.double_sided else 'single'}-sided board has no side {side!r}",
                                   field="side")
        available = int(dictionary.bytesList.shape[0])
        if 2 * self.markers > available:
            raise CalibrationError(
                f"a double-sided {self.squares_x} x {self.squares_y} board needs {2 * self.markers} distinct markers "
                f"(front and back) but {self.dictionary} has {available}; use a larger dictionary", field="dictionary")
        ids = np.arange(self.markers, 2 * self.markers, dtype=np.int32)
        return cv2.aruco.CharucoBoard(size, self.square_m, self.marker_m, dictionary, ids)

    def image(self, pixels_per_m: float = 4000.0, side: str = "front") -> np.ndarray:
        """(h, w, 3) uint8 RGB print of one side of the board, edge to edge (no margin). The
        back print is its own board as seen from behind: printed as it is and mounted face out
        on the back, its top-left corner behind the front's top-right (turned over about the
        board's short side); seen through the board from the front it is mirrored."""
        width_m, height_m = self.size_m
        size = (int(round(width_m * pixels_per_m)), int(round(height_m * pixels_per_m)))
        gray = self.cv_board(side).generateImage(size, marginSize=0, borderBits=1)
        return np.repeat(gray[..., None], 3, axis=2)

    def back_to_front(self) -> np.ndarray:
        """(4, 4) transform from back-board coordinates (OpenCV's, on the back print as seen
        from behind) to front-board coordinates: the back's x runs the other way, its y the
        same, its z into the board toward the front, its face ``thickness_m`` behind the front."""
        width_m, _ = self.size_m
        return np.array([[-1.0, 0.0, 0.0, width_m], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, -1.0, self.thickness_m],
                         [0.0, 0.0, 0.0, 1.0]])

    def board_to_platform(self) -> np.ndarray:
        """(4, 4) transform from OpenCV board coordinates (origin at the print's top-left
        corner, x along its columns, y down its rows, z into the board) to the platform, the
        board lying printed side up at the platform centre. A double-sided board's back print
        lies on the platform (z = 0, where a plantar camera sees it on the glass), so its front
        print is ``thickness_m`` above it; a single-sided print is taken as lying at z = 0."""
        width_m, height_m = self.size_m
        transform = np.diag([1.0, -1.0, -1.0, 1.0])
        transform[:3, 3] = [-width_m / 2.0, height_m / 2.0, self.thickness_m if self.double_sided else 0.0]
        return transform

    def to_dict(self) -> dict[str, object]:
        return {"squares_x": self.squares_x, "squares_y": self.squares_y, "square_m": self.square_m,
                "marker_m": self.marker_m, "dictionary": self.dictionary, "double_sided": self.double_sided,
                "thickness_m": self.thickness_m}


def try_detect_corners(spec: CharucoBoardSpec, colour: np.ndarray, camera_matrix: np.ndarray | None = None,
                       distortion: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Board corners seen in one image: (n, 3) object points in FRONT board coordinates
    (metres), their (n, 2) pixel positions (undistorted when ``distortion`` is given) and n;
    n may be 0.

    A double-sided board is looked for on both sides: its back print's marker ids differ
    from the front's, so the side seen is known without being told which camera looks from
    where; the side with more corners is taken (an opaque board shows one side to a camera)
    and back corners are given in front-board coordinates (:meth:`CharucoBoardSpec.back_to_front`,
    z = ``thickness_m``; :func:`seen_side` tells them apart), so the pose and the joint solve
    need not know which side a camera saw.
    camera_matrix : (3, 3) K when known; OpenCV then interpolates the chessboard
    corners through the markers' poses, which halves the pose error of low, oblique
    cameras (measured on the synthetic rig: 1.1 → 0.6 mm).
    """
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_RGB2GRAY)
    best = _detect_side(spec, "front", gray, camera_matrix, distortion)
    if spec.double_sided:
        back = _detect_side(spec, "back", gray, camera_matrix, distortion)
        if back[2] > best[2]:
            to_front = spec.back_to_front()
            best = (back[0] @ to_front[:3, :3].T + to_front[:3, 3], back[1], back[2])
    return best


def _detect_side(spec: CharucoBoardSpec, side: str, gray: np.ndarray, camera_matrix: np.ndarray | None,
                 distortion: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """One side's corners in ``gray``, in that side's own board coordinates."""
    import cv2

    board = spec.cv_board(side)
    parameters = cv2.aruco.CharucoParameters()
    dist = np.zeros(5) if distortion is None else np.asarray(distortion, dtype=np.float64)
    if camera_matrix is not None:
        parameters.cameraMatrix = np.asarray(camera_matrix, dtype=np.float64)
        parameters.distCoeffs = dist
    detector = cv2.aruco.CharucoDetector(board, parameters)
    corners, ids, _, _ = detector.detectBoard(gray)
    if ids is None or len(ids) == 0:
        return np.empty((0, 3)), np.empty((0, 2)), 0
    object_points, image_points = board.matchImagePoints(corners, ids)
    image_points = refine_corners(gray, image_points.reshape(-1, 2))
    if distortion is not None and camera_matrix is not None:
        image_points = cv2.undistortPoints(image_points[:, None], camera_matrix, dist, P=camera_matrix).reshape(-1, 2)
    return object_points.reshape(-1, 3).astype(np.float64), image_points, len(ids)


def seen_side(spec: CharucoBoardSpec, object_points: np.ndarray) -> str | None:
    """Which side of the board corners from :func:`try_detect_corners` are on: ``front``,
    ``back`` (front-board z = thickness), or None when there are none."""
    if len(object_points) == 0:
        return None
    return "back" if spec.double_sided and float(np.median(object_points[:, 2])) > spec.thickness_m / 2.0 else "front"


def refine_corners(gray: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """(n, 2) float64 chessboard corners as OpenCV's CharucoDetector found them, moved onto
    the saddle points of ``gray``.

    OpenCV 4.11's CharucoDetector reports its corners half a pixel right of and below the
    saddle (measured on rendered boards with known poses: +0.50, +0.49 px where the squares
    are large), which moves a camera 2 m away by millimetres: the half pixel is taken off.
    Where the squares are small in the image (corners under SMALL_SQUARE_PX apart: a body
    rig's far cameras) its corners are off by varying amounts instead (+0.16 to +0.44 px on
    the body rig's views), so they are refined here (cornerSubPix, 9x9 window: the least
    error over those views, tried 5x5 to 17x17; on the foot rig's large squares the same
    refinement is worse than the detector's own corners less the half pixel).
    """
    import cv2

    corners = np.asarray(corners, dtype=np.float32).reshape(-1, 2) - np.float32(0.5)
    if len(corners) < 2:
        return corners.astype(np.float64)
    gaps = np.linalg.norm(corners[:, None] - corners[None], axis=2)
    np.fill_diagonal(gaps, np.inf)
    spacing = float(np.median(gaps.min(axis=1)))
    if spacing >= SMALL_SQUARE_PX:
        return corners.astype(np.float64)
    half = int(np.clip(np.floor(0.25 * spacing), 2, REFINE_HALF_WINDOW_PX))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 100, 1e-4)
    refined = cv2.cornerSubPix(gray, corners[:, None].copy(), (half, half), (-1, -1), criteria)
    return refined.reshape(-1, 2).astype(np.float64)


def detect_corners(spec: CharucoBoardSpec, colour: np.ndarray, camera_id: str,
                   camera_matrix: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Board corners seen in one image, as :func:`try_detect_corners`; raises when fewer than 6."""
    object_points, image_points, found = try_detect_corners(spec, colour, camera_matrix)
    if found < MIN_CORNERS:
        raise CalibrationError(
            f"camera {camera_id}: found {found} ChArUco corners, need at least {MIN_CORNERS}; "
            f"is the board on the platform and in view?",
            camera=camera_id,
            corners=found,
        )
    return object_points, image_points


def pose_from_corners(object_points: np.ndarray, image_points: np.ndarray, camera_matrix: np.ndarray,
                      camera_id: str) -> np.ndarray:
    """(4, 4) board → camera pose from undistorted corners (IPPE, then Levenberg-Marquardt)."""
    import cv2

    dist = np.zeros(5)
    ok, rvec, tvec = cv2.solvePnP(object_points, image_points, camera_matrix, dist, flags=cv2.SOLVEPNP_IPPE)
    if not ok:
        raise CalibrationError(f"camera {camera_id}: solvePnP found no board pose", camera=camera_id)
    rvec, tvec = cv2.solvePnPRefineLM(object_points, image_points, camera_matrix, dist, rvec, tvec)
    board_to_camera = np.eye(4)
    board_to_camera[:3, :3] = cv2.Rodrigues(rvec)[0]
    board_to_camera[:3, 3] = tvec.ravel()
    return board_to_camera


def calibrate_rig(spec: CharucoBoardSpec, frames: list[RGBDFrame], held: Sequence[Sequence[RGBDFrame]] = (),
                  lying: Sequence[Sequence[RGBDFrame]] = (),
                  distortion: Mapping[str, np.ndarray] | None = None) -> RigCalibration:
    """Every camera's extrinsic from a capture of the board lying at the platform centre
    (``frames``, one per camera; it defines the platform frame), optionally more captures of
    the board lying flat elsewhere on the platform (``lying``) and of the board ``held`` in
    other poses.

    The centre board alone suits a foot rig, whose cameras see it large. A body rig's far
    cameras see it small and at a grazing angle (9 mm off on the synthetic rig): they need
    the board lying in front of each camera (:func:`lying_board_pose`) to pin the platform's
    tilt and the board standing between each pair of neighbouring cameras
    (:func:`standing_board_pose`) to tie the cameras to each other; all are solved jointly
    by :mod:`scanning.calibration.bundle`.
    distortion : per camera id, (5,) OpenCV distortion coefficients when not zero.
    """
    from scanning.calibration.bundle import solve_rig

    if not frames:
        raise CalibrationError("rig calibration needs at least one frame; got none")
    captures = [frames, *lying, *held]
    return solve_rig(spec, captures, distortion, lying=range(1, 1 + len(lying)))


def calibrate_intrinsics(spec: CharucoBoardSpec, frames: list[RGBDFrame]) -> tuple[Intrinsics, np.ndarray, float]:
    """A camera's intrinsics and distortion from several views of the board in varied poses.

    Returns (intrinsics, (5,) distortion coefficients, RMS reprojection error px).
    """
    import cv2

    if len(frames) < 3:
        raise CalibrationError(f"intrinsic calibration needs at least 3 board views; got {len(frames)}")
    camera_ids = {frame.camera_id for frame in frames}
    if len(camera_ids) != 1:
        raise CalibrationError(f"intrinsic calibration takes views of one camera; got {sorted(camera_ids)}")
    detections = [detect_corners(spec, frame.colour, frame.camera_id) for frame in frames]
    size = (frames[0].intrinsics.width, frames[0].intrinsics.height)
    rms, matrix, distortion, _, _ = cv2.calibrateCamera(
        [d[0].astype(np.float32) for d in detections],
        [d[1].astype(np.float32) for d in detections],
        size,
        frames[0].intrinsics.matrix(),
        np.zeros(5),
        # RealSense colour lenses are close to distortion-free: k3 and tangential terms
        # only soak up corner noise with few views, so they stay at zero.
        flags=cv2.CALIB_USE_INTRINSIC_GUESS | cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST,
    )
    intrinsics = Intrinsics(float(matrix[0, 0]), float(matrix[1, 1]), float(matrix[0, 2]), float(matrix[1, 2]), *size)
    return intrinsics, distortion.ravel(), float(rms)


def lying_board_pose(spec: CharucoBoardSpec, azimuth_deg: float, distance_m: float) -> np.ndarray:
    """(4, 4) board → platform pose of the board lying flat on the platform, its centre
    ``distance_m`` from the platform centre toward ``azimuth_deg`` and turned by that angle
    (so its long side runs across the line to the centre).

    The body rig's procedure lays it like this in front of each camera in turn: seen
    nearer and less obliquely than at the centre, the lying boards pin the platform's tilt.
    """
    azimuth = np.radians(azimuth_deg)
    turn = np.eye(4)
    turn[:2, :2] = [[np.cos(azimuth), -np.sin(azimuth)], [np.sin(azimuth), np.cos(azimuth)]]
    turn[:2, 3] = distance_m * np.cos(azimuth), distance_m * np.sin(azimuth)
    return turn @ spec.board_to_platform()


def standing_board_pose(spec: CharucoBoardSpec, azimuth_deg: float, centre_height_m: float,
                        tilt_deg: float = 0.0, centre_xy_m: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """(4, 4) board → platform pose of the board held upright, its print facing the horizontal
    direction ``azimuth_deg`` (0° = +x, counter-clockwise), its centre ``centre_height_m`` above
    the platform at ``centre_xy_m``, leaned back by ``tilt_deg`` (facing slightly up).

    The body rig's procedure stands the board at the platform centre facing between each
    pair of neighbouring cameras in turn, alternating waist and chest height, one capture
    per pose: each pose ties two neighbouring cameras together.
    """
    azimuth, tilt = np.radians(azimuth_deg), np.radians(tilt_deg)
    facing = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])
    across = np.array([-np.sin(azimuth), np.cos(azimuth), 0.0])  # board x, along its rows
    down = -np.cos(tilt) * np.array([0.0, 0.0, 1.0]) + np.sin(tilt) * facing  # board y, down its columns
    into = np.cross(across, down)  # board z, into the board (away from its print)
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([across, down, into])
    width_m, height_m = spec.size_m
    centre = np.array([*centre_xy_m, centre_height_m])
    pose[:3, 3] = centre - pose[:3, :3] @ np.array([width_m / 2.0, height_m / 2.0, 0.0])
    return pose


def board_scene_mesh(spec: CharucoBoardSpec, board_to_platform: np.ndarray | None = None,
                     lift_m: float = 0.00005) -> tuple:
    """The printed board as :class:`SceneMesh` objects for the synthetic rig: the print on
    the front and, ``spec.thickness_m`` behind it, a black back (a foam board: a camera behind
    a held board sees no mirror image of the markers) or, for a double-sided board, the back
    print, textured so that it reads as its own board from behind.

    board_to_platform : (4, 4) pose of the board; lying on the platform by default, the
        front lifted ``lift_m`` more so it does not fight with the platform surface in the
        depth test.
    """
    from scanning.sources.render import SceneMesh

    pose = spec.board_to_platform() if board_to_platform is None else np.asarray(board_to_platform)
    width_m, height_m = spec.size_m
    outline = np.array([[0.0, 0.0], [width_m, 0.0], [width_m, height_m], [0.0, height_m]])

    def face(z: float) -> np.ndarray:  # the outline's corners at board depth z, in the platform frame
        return np.column_stack([outline, np.full(4, z)]) @ pose[:3, :3].T + pose[:3, 3]

    # Texture v runs up the image: the print's top-left corner (board origin) has uv (0, 1).
    front_uv = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    front = SceneMesh(face(-lift_m), faces, np.ones((4, 3)), uv=front_uv, texture=spec.image(), shaded=False)
    if not spec.double_sided:
        back = SceneMesh(face(spec.thickness_m), faces[:, ::-1], np.zeros((4, 3)), shaded=False)
        return front, back
    # The back print's own x runs the other way (back_to_front): the front's corner (x, y)
    # is the back's (width - x, y), so its u is mirrored.
    back_uv = front_uv * [-1.0, 1.0] + [1.0, 0.0]
    back = SceneMesh(face(spec.thickness_m), faces[:, ::-1], np.ones((4, 3)), uv=back_uv,
                     texture=spec.image(side="back"), shaded=False)
    return front, back
