"""Frame sources for the mirror (a still image, a video file, a camera) and the sink
that writes composited frames; bad files fail early with the file's name."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tryon.ar.errors import ArInputError

_LOGGER = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm")
_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG", ".webm": "MJPG"}


@dataclass(frozen=True)
class Frame:
    """One camera frame: ``image`` (H, W, 3) uint8 BGR taken at ``time_s`` seconds."""

    index: int
    time_s: float
    image: np.ndarray


def _fit(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Centre-crop to the aspect of ``size`` = (width, height), then resize; unchanged when None."""
    import cv2

    if size is None or (image.shape[1], image.shape[0]) == size:
        return image
    width, height = size
    h, w = image.shape[:2]
    if w * height > h * width:
        crop = int(round(h * width / height))
        image = image[:, (w - crop) // 2:(w - crop) // 2 + crop]
    else:
        crop = int(round(w * height / width))
        image = image[(h - crop) // 2:(h - crop) // 2 + crop]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


class FrameSource:
    """Frames from ``spec``: an image file, a video file, or ``camera:N``.

    Opening checks that a first frame can be read, so a corrupt or missing file
    fails here with :class:`ArInputError` naming it. ``size`` = (width, height)
    crops and resizes every frame; ``max_frames`` stops early.
    """

    def __init__(self, spec: str, *, size: tuple[int, int] | None = None, max_frames: int | None = None) -> None:
        import cv2

        self.spec, self.size, self.max_frames = spec, size, max_frames
        self.is_image = spec.lower().endswith(IMAGE_SUFFIXES)
        self._capture = None
        self._still: np.ndarray | None = None
        if self.is_image:
            if not Path(spec).is_file():
                raise ArInputError(f"input image not found: {spec}", path=spec)
            self._still = cv2.imread(spec, cv2.IMREAD_COLOR)
            if self._still is None:
                raise ArInputError(f"input image {spec} is corrupt or not an image", path=spec)
            self.fps = 0.0
            return
        if spec.startswith("camera:"):
            index = spec.split(":", 1)[1]
            if not index.isdigit():
                raise ArInputError(f"camera input must be camera:N with a device number; got {spec!r}")
            self._capture = cv2.VideoCapture(int(index))
        else:
            if not Path(spec).is_file():
                raise ArInputError(f"input video not found: {spec}", path=spec)
            self._capture = cv2.VideoCapture(spec)
        self._first = self._read_first()
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps < 1000.0 else 30.0

    def _read_first(self) -> np.ndarray:
        ok, image = (False, None) if not self._capture.isOpened() else self._capture.read()
        if not ok or image is None:
            self._capture.release()
            what = "camera is not available" if self.spec.startswith("camera:") else "video is corrupt or unreadable"
            raise ArInputError(f"input {self.spec}: {what} (no first frame)", path=self.spec)
        return image

    def __iter__(self) -> Iterator[Frame]:
        if self._still is not None:
            yield Frame(0, 0.0, _fit(self._still, self.size))
            return
        index, image = 0, self._first
        live = self.spec.startswith("camera:")
        started = time.monotonic()
        try:
            while image is not None and (self.max_frames is None or index < self.max_frames):
                # A live camera's frames are stamped when read; a file's by its frame rate.
                stamp = time.monotonic() - started if live else index / self.fps
                yield Frame(index, stamp, _fit(image, self.size))
                index += 1
                ok, image = self._capture.read()
                image = image if ok else None
        finally:
            self._capture.release()


class FrameSink:
    """Writes composited frames to an image (one frame) or a video file, atomically:
    the output appears only when :meth:`close` succeeds."""

    def __init__(self, path: str | Path, *, fps: float, still: bool) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        allowed = IMAGE_SUFFIXES if still else VIDEO_SUFFIXES
        if suffix not in allowed:
            kind = "an image" if still else "a video"
            raise ArInputError(f"--out {self.path}: for {kind} input the output must end in one of {allowed}")
        if not self.path.parent.is_dir():
            raise ArInputError(f"--out {self.path}: folder {self.path.parent} does not exist")
        self.fps, self.still = fps, still
        self._tmp = self.path.with_name(f".{self.path.stem}.partial{suffix}")
        self._writer = None
        self._last: np.ndarray | None = None

    def write(self, image: np.ndarray) -> None:
        import cv2

        if self.still:
            self._last = image
            return
        if self._writer is None:
            fourcc = cv2.VideoWriter_fourcc(*_FOURCC[self.path.suffix.lower()])
            self._writer = cv2.VideoWriter(str(self._tmp), fourcc, self.fps, (image.shape[1], image.shape[0]))
            if not self._writer.isOpened():
                raise ArInputError(f"cannot write video {self.path}")
        self._writer.write(image)

    def close(self) -> None:
        import cv2

        if self.still and self._last is not None and not cv2.imwrite(str(self._tmp), self._last):
            raise ArInputError(f"cannot write image {self.path}")
        if self._writer is not None:
            self._writer.release()
        if self._tmp.exists():
            self._tmp.replace(self.path)

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.release()
        self._tmp.unlink(missing_ok=True)
