"""Alpha compositing of a layer onto a frame."""
from __future__ import annotations

import numpy as np
import pytest

from tryon.ar import ArInputError
from tryon.ar.composite import composite_patch


def test_straight_alpha_blend_and_clipping_at_the_frame_edge():
    frame = np.full((10, 10, 3), 100, np.uint8)
    patch = np.zeros((4, 4, 4), np.uint8)
    patch[..., :3] = 200
    patch[..., 3] = [[0, 128, 255, 255]] * 4
    composite_patch(frame, patch, 8, -2)  # only a 2 x 2 corner lands in the frame
    np.testing.assert_array_equal(frame[0:2, 8], [[100] * 3] * 2)
    assert np.abs(frame[0:2, 9].astype(int) - 150).max() <= 1
    assert (frame[2:, :] == 100).all() and (frame[:, :8] == 100).all()


def test_replacement_alpha_and_shape_check():
    frame = np.zeros((4, 4, 3), np.uint8)
    patch = np.full((4, 4, 4), 255, np.uint8)
    composite_patch(frame, patch, 0, 0, alpha=np.zeros((4, 4), np.uint8))
    assert (frame == 0).all()
    with pytest.raises(ArInputError, match="patch"):
        composite_patch(frame, patch[..., :3], 0, 0)
