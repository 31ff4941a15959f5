"""The D4xx noise model: σ grows with z², dropouts at grazing angles, flying pixels on edges."""
from __future__ import annotations

import numpy as np
import pytest

from scanning.errors import FrameError
from scanning.sources.noise import add_depth_noise


@pytest.mark.parametrize("z", [0.3, 0.6, 1.2])
def test_rms_error_follows_the_datasheet_formula(z: float, rng: np.random.Generator) -> None:
    depth = np.full((200, 200), z, dtype=np.float32)
    noisy = add_depth_noise(depth, rng, dropout_rate=0.0, depth_unit_m=1e-5)
    expected = z**2 * 0.08 / (600.0 * 0.05)
    measured = float(np.std(noisy[noisy > 0]))
    assert measured == pytest.approx(expected, rel=0.15)
    assert abs(float(np.mean(noisy[noisy > 0])) - z) < 3 * expected / 200


def test_zero_stays_zero_and_output_is_float32_metres(rng: np.random.Generator) -> None:
    depth = np.zeros((40, 50), dtype=np.float32)
    depth[10:30, 10:40] = 0.5
    noisy = add_depth_noise(depth, rng)
    assert noisy.dtype == np.float32 and noisy.shape == depth.shape
    assert np.all(noisy[depth == 0] == 0)
    assert np.all(np.abs(noisy[noisy > 0] - 0.5) < 0.01)


def test_same_seed_repeats_and_quantises_to_the_depth_unit() -> None:
    depth = np.full((30, 30), 0.4, dtype=np.float32)
    first = add_depth_noise(depth, np.random.default_rng(3), depth_unit_m=1e-3)
    second = add_depth_noise(depth, np.random.default_rng(3), depth_unit_m=1e-3)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first * 1000, np.round(first * 1000), atol=1e-4)


def test_grazing_surfaces_lose_pixels(rng: np.random.Generator) -> None:
    depth = np.full((100, 100), 0.5, dtype=np.float32)
    facing = np.zeros((100, 100, 3))
    facing[..., 2] = -1.0
    grazing = np.zeros((100, 100, 3))
    grazing[..., 0] = 1.0
    kept_facing = np.mean(add_depth_noise(depth, rng, normals_cam=facing, dropout_rate=0.0) > 0)
    kept_grazing = np.mean(add_depth_noise(depth, rng, normals_cam=grazing, dropout_rate=0.0) > 0)
    assert kept_facing == 1.0
    assert kept_grazing < 0.05


def test_flying_pixels_appear_between_foreground_and_background(rng: np.random.Generator) -> None:
    depth = np.full((60, 60), 1.0, dtype=np.float32)
    depth[:, :30] = 0.5
    noisy = add_depth_noise(depth, rng, dropout_rate=0.0, flying_pixel_rate=1.0, depth_unit_m=1e-5)
    between = (noisy > 0.52) & (noisy < 0.98)
    assert between[:, 29].mean() > 0.75
    assert not between[:, :28].any() and not between[:, 31:].any()


def test_wrong_shapes_are_rejected(rng: np.random.Generator) -> None:
    with pytest.raises(FrameError, match="depth must be"):
        add_depth_noise(np.zeros((4, 4, 1)), rng)
    with pytest.raises(FrameError, match="normals_cam"):
        add_depth_noise(np.zeros((4, 4)), rng, normals_cam=np.zeros((4, 4)))
