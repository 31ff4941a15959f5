"""Face capture: image loading, detection, the quality gate, and dlib embeddings.

Order of work at the kiosk and at enrollment: load (JPEG/PNG, alpha dropped) →
detect faces (dlib HOG through ``face_recognition``) → exactly one usable face →
size, framing, pose, sharpness and exposure checks → 68-point landmarks → the 128-d
embedding. Each refusal is a :class:`~payments.errors.FaceQualityError` whose
``reason`` says what was wrong with the face, so the kiosk can tell the shopper what
to change. Images are only ever held in memory.
"""
from __future__ import annotations

import dataclasses
import io
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from payments.errors import FaceImageError, FaceQualityError, FaceQualityReason
from payments.face import dlib_models
from payments.face.liveness import FaceKeypoints

_LOGGER = logging.getLogger(__name__)

SUPPORTED_FORMATS = ("JPEG", "PNG")
MAX_PIXELS = 40_000_000
DETECTION_LONG_SIDE = 640  # detect on a copy this size: HOG cost grows with pixels


@dataclasses.dataclass(frozen=True)
class QualityConfig:
    """Quality-gate limits. Sizes in pixels of the original image; luminance 0-255."""

    min_face_px: int = 80  # box side; dlib's embedding works on a 150 px chip
    second_face_ratio: float = 0.4  # another face at least this fraction of the main one's width -> refuse
    max_cut_off: float = 0.12  # fraction of the box allowed beyond the image edge
    max_yaw: float = 0.6  # nose offset from the jaw midline over half the jaw width (~30 degrees)
    pitch_range: tuple[float, float] = (0.12, 0.62)  # (nose - eyes) / (chin - eyes), vertical
    max_roll_deg: float = 25.0
    min_sharpness: float = 25.0  # variance of the Laplacian on the face resized to 128x128 grey
    luminance_range: tuple[float, float] = (45.0, 215.0)  # mean over the face
    max_clipped_fraction: float = 0.25  # face pixels at <= 5 or >= 250


@dataclasses.dataclass(frozen=True)
class FaceCapture:
    """One face that passed the gate. ``image`` (H, W, 3) uint8 RGB stays in memory only."""

    image: NDArray[Any]
    box: tuple[int, int, int, int]  # (top, right, bottom, left), pixels
    landmarks: dict[str, list[tuple[int, int]]]
    shape: Any  # dlib full_object_detection, the 68 points the descriptor aligns with
    keypoints: FaceKeypoints
    metrics: dict[str, float]


def load_image(source: str | Path | bytes) -> NDArray[Any]:
    """Read a JPEG or PNG (path or bytes) as (H, W, 3) uint8 RGB; alpha and palettes are dropped."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = "<bytes>" if isinstance(source, bytes) else str(source)
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")
    except OSError as exc:
        raise FaceImageError(f"cannot open image {name}: {exc.strerror or exc}", path=name) from exc
    try:
        with handle, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle) as image:
                if image.format not in SUPPORTED_FORMATS:
                    raise FaceImageError(
                        f"image {name} is {image.format}; expected one of {', '.join(SUPPORTED_FORMATS)}", path=name
                    )
                if image.width * image.height > MAX_PIXELS:
                    raise FaceImageError(f"image {name} is {image.width}x{image.height}; at most {MAX_PIXELS} pixels", path=name)
                image.load()
                rgb = ImageOps.exif_transpose(image).convert("RGB")
    except UnidentifiedImageError as exc:
        raise FaceImageError(f"{name} is not a readable image; expected JPEG or PNG", path=name) from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise FaceImageError(f"image {name} is corrupt or truncated: {exc}", path=name) from exc
    return np.asarray(rgb, dtype=np.uint8).copy()


def detect_faces(image: NDArray[Any]) -> list[tuple[int, int, int, int]]:
    """Face boxes (top, right, bottom, left) in ``image`` pixels, largest first; a box may overhang the image.

    HOG (``face_recognition.face_locations(model="hog")``) runs on a copy scaled so its
    long side is at most 640 px; when nothing is found it searches once more upsampled.
    """
    image = _check_rgb(image)
    scale = min(1.0, DETECTION_LONG_SIDE / max(image.shape[:2]))
    small = image if scale == 1.0 else _resize(image, scale)
    boxes = dlib_models.detect_rectangles(small, upsample=0) or dlib_models.detect_rectangles(small, upsample=1)
    scaled = [(round(top / scale), round(right / scale), round(bottom / scale), round(left / scale))
              for top, right, bottom, left in boxes]
    return sorted(scaled, key=lambda box: -(box[1] - box[3]) * (box[2] - box[0]))


def _resize(image: NDArray[Any], scale: float) -> NDArray[Any]:
    import cv2

    size = (max(1, int(round(image.shape[1] * scale))), max(1, int(round(image.shape[0] * scale))))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _check_rgb(image: NDArray[Any]) -> NDArray[Any]:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise FaceImageError(f"image must be (H, W, 3) uint8 RGB; got shape {array.shape} dtype {array.dtype}", field="image")
    return np.ascontiguousarray(array)


def _refuse(reason: FaceQualityReason, message: str, **details: Any) -> FaceQualityError:
    return FaceQualityError(message, reason=reason, **details)


def capture_face(image: NDArray[Any], config: QualityConfig = QualityConfig()) -> FaceCapture:
    """Run the quality gate on one image; returns the single usable face or raises FaceQualityError."""
    image = _check_rgb(image)
    boxes = detect_faces(image)
    if not boxes:
        raise _refuse(FaceQualityReason.NO_FACE, "no face found in the image; look at the camera with the face fully in view")
    box = boxes[0]
    _check_single(boxes, config)
    _check_size_and_framing(box, image.shape, config)
    shape = dlib_models.landmarks_68(image, box)
    landmarks = dlib_models.landmark_dict(shape)
    metrics = {**_pose_metrics(landmarks), **_photometric_metrics(image, box)}
    _check_pose(metrics, config)
    _check_photometry(metrics, config)
    return FaceCapture(image, box, landmarks, shape, keypoints_from_landmarks(box, landmarks), metrics)


def _check_single(boxes: list[tuple[int, int, int, int]], config: QualityConfig) -> None:
    main_width = boxes[0][1] - boxes[0][3]
    others = [box for box in boxes[1:] if (box[1] - box[3]) >= config.second_face_ratio * main_width]
    if others:
        raise _refuse(
            FaceQualityReason.MULTIPLE_FACES,
            f"{len(others) + 1} faces found in the image; exactly one person must be in front of the camera",
            faces=len(others) + 1,
        )


def _check_size_and_framing(box: tuple[int, int, int, int], shape: tuple[int, ...], config: QualityConfig) -> None:
    top, right, bottom, left = box
    side = min(right - left, bottom - top)
    if side < config.min_face_px:
        raise _refuse(
            FaceQualityReason.FACE_TOO_SMALL,
            f"the face is {side} px across; at least {config.min_face_px} px is needed (come closer)",
            face_px=side,
        )
    outside = max(0, -top) + max(0, -left) + max(0, bottom - shape[0]) + max(0, right - shape[1])
    if outside > config.max_cut_off * side:
        raise _refuse(FaceQualityReason.FACE_CUT_OFF, "the face is cut off at the image edge; centre it in the frame")


def _point(xy: tuple[int, int]) -> tuple[float, float]:
    return float(xy[0]), float(xy[1])


def keypoints_from_landmarks(box: tuple[int, int, int, int], landmarks: dict[str, list[tuple[int, int]]]) -> FaceKeypoints:
    """Nose tip (point 30 of the 68), nose bridge (27) and eye centres from face_recognition's landmark dict."""
    return FaceKeypoints(
        box=box,
        nose_tip=_point(landmarks["nose_bridge"][-1]),
        nose_bridge=_point(landmarks["nose_bridge"][0]),
        left_eye=tuple(np.mean(landmarks["left_eye"], axis=0).tolist()),
        right_eye=tuple(np.mean(landmarks["right_eye"], axis=0).tolist()),
    )


def _pose_metrics(landmarks: dict[str, list[tuple[int, int]]]) -> dict[str, float]:
    """Yaw, pitch and roll proxies from the 68 landmarks (unitless ratios, roll in degrees)."""
    chin = np.asarray(landmarks["chin"], dtype=np.float64)
    nose = np.asarray(landmarks["nose_bridge"][-1], dtype=np.float64)
    left_eye = np.mean(landmarks["left_eye"], axis=0)
    right_eye = np.mean(landmarks["right_eye"], axis=0)
    jaw_left, jaw_right, chin_tip = chin[0], chin[-1], chin[8]
    half_width = np.linalg.norm(jaw_right - jaw_left) / 2.0 + 1e-9
    axis = (jaw_right - jaw_left) / (2.0 * half_width)
    eyes_mid = (left_eye + right_eye) / 2.0
    yaw = float(np.dot(nose - (jaw_left + jaw_right) / 2.0, axis) / half_width)
    down = np.array([-axis[1], axis[0]])
    pitch = float(np.dot(nose - eyes_mid, down) / (np.dot(chin_tip - eyes_mid, down) + 1e-9))
    eye_vector = right_eye - left_eye if right_eye[0] > left_eye[0] else left_eye - right_eye
    roll = float(np.degrees(np.arctan2(eye_vector[1], eye_vector[0])))
    return {"yaw": yaw, "pitch": pitch, "roll_deg": roll}


def _photometric_metrics(image: NDArray[Any], box: tuple[int, int, int, int]) -> dict[str, float]:
    """Sharpness (variance of the Laplacian at 128x128) and exposure over the face box."""
    import cv2

    top, right, bottom, left = box
    crop = image[max(0, top):bottom, max(0, left):right]
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA)
    return {
        "sharpness": float(cv2.Laplacian(grey, cv2.CV_64F).var()),
        "luminance": float(grey.mean()),
        "clipped_fraction": float(np.mean((grey <= 5) | (grey >= 250))),
    }


def _check_pose(metrics: dict[str, float], config: QualityConfig) -> None:
    low, high = config.pitch_range
    if abs(metrics["yaw"]) > config.max_yaw:
        side = "right" if metrics["yaw"] > 0 else "left"
        raise _refuse(FaceQualityReason.POSE, f"the head is turned to the {side} (yaw ratio {metrics['yaw']:.2f}, "
                      f"at most {config.max_yaw}); face the camera", yaw=metrics["yaw"])
    if not low <= metrics["pitch"] <= high:
        raise _refuse(FaceQualityReason.POSE, f"the head is tilted up or down (pitch ratio {metrics['pitch']:.2f}, "
                      f"expected {low}..{high}); look straight at the camera", pitch=metrics["pitch"])
    if abs(metrics["roll_deg"]) > config.max_roll_deg:
        raise _refuse(FaceQualityReason.POSE, f"the head is tilted sideways by {metrics['roll_deg']:.0f} degrees "
                      f"(at most {config.max_roll_deg:.0f}); hold it upright", roll_deg=metrics["roll_deg"])


def _check_photometry(metrics: dict[str, float], config: QualityConfig) -> None:
    if metrics["sharpness"] < config.min_sharpness:
        raise _refuse(FaceQualityReason.BLUR, f"the face is blurred (sharpness {metrics['sharpness']:.0f}, at least "
                      f"{config.min_sharpness:.0f}); hold still", sharpness=metrics["sharpness"])
    low, high = config.luminance_range
    if metrics["luminance"] < low or (metrics["clipped_fraction"] > config.max_clipped_fraction and metrics["luminance"] < 128):
        raise _refuse(FaceQualityReason.UNDEREXPOSED, f"the face is too dark (mean level {metrics['luminance']:.0f}, "
                      f"expected {low:.0f}..{high:.0f}); more light is needed", luminance=metrics["luminance"])
    if metrics["luminance"] > high or metrics["clipped_fraction"] > config.max_clipped_fraction:
        raise _refuse(FaceQualityReason.OVEREXPOSED, f"the face is overexposed (mean level {metrics['luminance']:.0f}, "
                      f"expected {low:.0f}..{high:.0f}); avoid direct light", luminance=metrics["luminance"])


def compute_embedding(capture: FaceCapture) -> NDArray[Any]:
    """dlib's 128-d face descriptor of the captured face, (128,) float64 (face_encodings, model "large")."""
    return dlib_models.face_descriptor(capture.image, capture.shape)
