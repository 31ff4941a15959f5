"""Loading and the quality gate on real photos (../shared/data/faces) and their degraded copies."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from payments.errors import FaceImageError, FaceQualityError, FaceQualityReason
from payments.face.capture import QualityConfig, capture_face, compute_embedding, detect_faces, load_image
from tests.payments.face.conftest import face_embedding, face_file

pytestmark = pytest.mark.shared_data


def test_rgba_png_loses_alpha_and_matches_the_same_photo_as_jpeg() -> None:
    image = load_image(face_file("32bit.png"))
    assert image.shape[2] == 3 and image.dtype == np.uint8
    distance = np.linalg.norm(face_embedding("32bit.png") - face_embedding("obama2.jpg"))
    assert distance < 0.1


def test_truncated_jpeg_is_reported_as_corrupt() -> None:
    data = face_file("obama.jpg").read_bytes()
    with pytest.raises(FaceImageError, match="corrupt or truncated"):
        load_image(data[: len(data) // 3])


@pytest.mark.parametrize("fmt", ["GIF", "BMP"])
def test_formats_other_than_jpeg_and_png_are_refused(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.fromarray(load_image(face_file("obama_small.jpg"))).save(buffer, format=fmt)
    with pytest.raises(FaceImageError, match=f"is {fmt}; expected one of JPEG, PNG"):
        load_image(buffer.getvalue())


def test_missing_and_non_image_files(tmp_path) -> None:
    with pytest.raises(FaceImageError, match="cannot open"):
        load_image(tmp_path / "absent.jpg")
    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(FaceImageError, match="not a readable image"):
        load_image(tmp_path / "notes.jpg")


def _reason(image: np.ndarray, config: QualityConfig = QualityConfig()) -> FaceQualityReason:
    with pytest.raises(FaceQualityError) as caught:
        capture_face(image, config)
    return caught.value.reason


def test_good_photo_passes_with_its_metrics() -> None:
    capture = capture_face(load_image(face_file("obama.jpg")))
    assert set(capture.metrics) >= {"yaw", "pitch", "roll_deg", "sharpness", "luminance"}
    top, right, bottom, left = capture.box
    assert left < capture.keypoints.nose_tip[0] < right and top < capture.keypoints.nose_tip[1] < bottom
    assert compute_embedding(capture).shape == (128,)


def test_group_photo_is_refused_as_multiple_faces() -> None:
    assert len(detect_faces(load_image(face_file("two_people.jpg")))) == 2
    assert _reason(load_image(face_file("two_people.jpg"))) is FaceQualityReason.MULTIPLE_FACES


def test_background_without_a_face() -> None:
    image = load_image(face_file("obama.jpg"))
    assert _reason(np.ascontiguousarray(image[-300:, :300])) is FaceQualityReason.NO_FACE


def test_small_face_and_cut_off_face() -> None:
    assert _reason(load_image(face_file("obama-240p.jpg"))) is FaceQualityReason.FACE_TOO_SMALL
    assert _reason(load_image(face_file("obama_partial_face.jpg"))) is FaceQualityReason.FACE_CUT_OFF


def test_blurred_dark_and_overexposed_copies_are_refused() -> None:
    image = load_image(face_file("obama.jpg"))
    assert _reason(cv2.GaussianBlur(image, (0, 0), 5)) is FaceQualityReason.BLUR
    assert _reason((image * 0.22).astype(np.uint8)) is FaceQualityReason.UNDEREXPOSED
    assert _reason(np.clip(image.astype(np.float32) * 2.2, 0, 255).astype(np.uint8)) is FaceQualityReason.OVEREXPOSED


def test_turned_head_is_refused_by_the_pose_limit() -> None:
    image = load_image(face_file("obama2.jpg"))  # yaw ratio about -0.46
    capture_face(image)
    assert _reason(image, QualityConfig(max_yaw=0.3)) is FaceQualityReason.POSE
