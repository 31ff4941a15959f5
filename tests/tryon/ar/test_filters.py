"""One-Euro smoothing: quiet when still, quick when moving."""
from __future__ import annotations

import numpy as np
import pytest

from tryon.ar import ArInputError
from tryon.ar.filters import OneEuroFilter


def test_jitter_is_smoothed_when_still(rng):
    noisy = 100.0 + rng.normal(0.0, 2.0, (300, 33, 2))
    smoother = OneEuroFilter(min_cutoff_hz=1.0, beta=0.01)
    out = np.array([smoother(sample, i / 30.0) for i, sample in enumerate(noisy)])
    assert out[30:].std() < 0.35 * noisy[30:].std()
    assert abs(out[30:].mean() - 100.0) < 0.5


def test_fast_motion_is_followed_with_little_lag():
    smoother = OneEuroFilter(min_cutoff_hz=1.0, beta=0.05)
    times = np.arange(60) / 30.0
    track = 400.0 * times  # 400 px/s
    out = np.array([smoother(np.array([x]), t)[0] for x, t in zip(track, times)])
    lazy = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0)
    slow = np.array([lazy(np.array([x]), t)[0] for x, t in zip(track, times)])
    assert abs(track[-1] - out[-1]) < 0.25 * abs(track[-1] - slow[-1])


def test_reset_forgets_the_track():
    smoother = OneEuroFilter()
    smoother(np.zeros(3), 0.0)
    smoother.reset()
    np.testing.assert_array_equal(smoother(np.full(3, 50.0), 0.1), np.full(3, 50.0))


def test_bad_settings_are_refused():
    with pytest.raises(ArInputError, match="min_cutoff_hz"):
        OneEuroFilter(min_cutoff_hz=0.0)
