"""dlib's face models (HOG detector, 68-point landmarks, ResNet descriptor), loaded once per process.

These are the models ``face_recognition`` wraps, from the ``face_recognition_models``
distribution. We load the files directly because that package's ``__init__`` needs
``pkg_resources``, which current setuptools no longer ships; the computations are the
same calls ``face_recognition`` makes (``face_locations``, ``face_landmarks``,
``face_encodings``).
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from payments.errors import FaceError

# face_recognition's names for the 68 landmark ranges (iBUG 300-W numbering).
LANDMARK_GROUPS = {
    "chin": range(0, 17),
    "left_eyebrow": range(17, 22),
    "right_eyebrow": range(22, 27),
    "nose_bridge": range(27, 31),
    "nose_tip": range(31, 36),
    "left_eye": range(36, 42),
    "right_eye": range(42, 48),
    "top_lip": range(48, 60),
    "bottom_lip": range(60, 68),
}


def _model_path(name: str) -> str:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceError("the face_recognition_models package is not installed (dlib's face models)", field="models")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise FaceError(f"dlib model file {path} is missing", path=str(path))
    return str(path)


@functools.lru_cache(maxsize=1)
def face_detector() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


@functools.lru_cache(maxsize=1)
def landmark_predictor() -> Any:
    import dlib

    return dlib.shape_predictor(_model_path("shape_predictor_68_face_landmarks.dat"))


@functools.lru_cache(maxsize=1)
def descriptor_model() -> Any:
    import dlib

    return dlib.face_recognition_model_v1(_model_path("dlib_face_recognition_resnet_model_v1.dat"))


def detect_rectangles(image: NDArray[Any], upsample: int) -> list[tuple[int, int, int, int]]:
    """HOG face boxes as (top, right, bottom, left), not clipped to the image (a box may overhang)."""
    return [(r.top(), r.right(), r.bottom(), r.left()) for r in face_detector()(image, upsample)]


def _rectangle(box: tuple[int, int, int, int]) -> Any:
    import dlib

    top, right, bottom, left = box
    return dlib.rectangle(int(left), int(top), int(right), int(bottom))


def landmarks_68(image: NDArray[Any], box: tuple[int, int, int, int]) -> Any:
    """dlib's full_object_detection (68 points) for the face in ``box``."""
    return landmark_predictor()(image, _rectangle(box))


def landmark_dict(shape: Any) -> dict[str, list[tuple[int, int]]]:
    """face_recognition's landmark dict (chin, eyebrows, nose, eyes, lips) from 68 points."""
    points = [(shape.part(i).x, shape.part(i).y) for i in range(68)]
    return {name: [points[i] for i in indices] for name, indices in LANDMARK_GROUPS.items()}


def face_descriptor(image: NDArray[Any], shape: Any, num_jitters: int = 1) -> NDArray[Any]:
    """The 128-d embedding of an aligned face, (128,) float64."""
    return np.asarray(descriptor_model().compute_face_descriptor(image, shape, num_jitters), dtype=np.float64)
