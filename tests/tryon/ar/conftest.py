"""Fixtures of the AR-mirror tests: the people photos and clip, tracked once per session,
one shared renderer, and a helper that says which pixels an overlay changed."""
from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import REPO_ROOT, shared_path

PEOPLE = ("acceptance", "people")
SHOE_GLB = REPO_ROOT / "assets" / "shoes" / "ka-swift-m.glb"
TOP_PNG = REPO_ROOT / "assets" / "garments" / "hp-crew-m.png"


@functools.cache
def _observe(path: str, segmenter: str):
    from tryon.ar import BodyTracker

    image = cv2.imread(path)
    with BodyTracker(static_image_mode=True, segmenter=segmenter) as tracker:
        observation = tracker.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0.0)
    return image, observation


@pytest.fixture(scope="session")
def observe():
    """observe(file, segmenter="pose") -> (BGR image, BodyObservation) of a people photo, tracked once."""

    def run(name: str, segmenter: str = "pose"):
        return _observe(str(shared_path(*PEOPLE, name)), segmenter)

    return run


@pytest.fixture(scope="session")
def clip_path() -> Path:
    return shared_path(*PEOPLE, "intel_walk_to_table_10s.mp4")


@pytest.fixture(scope="session")
def renderer():
    from tryon.ar import ShoeRenderer

    shoe_renderer = ShoeRenderer()
    yield shoe_renderer
    shoe_renderer.close()


@pytest.fixture(scope="session")
def shoe_model():
    from tryon.ar import load_shoe_model

    return load_shoe_model(SHOE_GLB)


def changed_pixels(before: np.ndarray, after: np.ndarray, threshold: int = 12) -> np.ndarray:
    """(n, 2) pixel coordinates (x, y) where two BGR images differ by more than ``threshold``."""
    diff = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2)
    ys, xs = np.nonzero(diff > threshold)
    return np.stack([xs, ys], axis=1)


@pytest.fixture(autouse=True)
def _asset_cache(tmp_path_factory, monkeypatch):
    """Generated shoe and garment variants go to a per-session folder, not the user's cache."""
    monkeypatch.setenv("OMNIFIT_CACHE", str(tmp_path_factory.getbasetemp() / "omnifit-cache"))
