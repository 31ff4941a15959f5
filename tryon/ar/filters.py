"""Temporal smoothing of landmark tracks with the One-Euro filter.

Casiez, Roussel and Vogel, "1€ Filter: A Simple Speed-based Low-pass Filter for
Noisy Input in Interactive Systems", CHI 2012. Slow motion gets a low cut-off (no
jitter while the shopper stands still); fast motion raises it (little lag when
they step). Works element-wise on arrays of any shape.
"""
from __future__ import annotations

import math

import numpy as np

from tryon.ar.errors import ArInputError


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """One-Euro low-pass filter over arrays (e.g. landmarks : (33, 3)).

    ``min_cutoff_hz`` sets the smoothing at rest, ``beta`` how fast the cut-off
    rises with speed (units of the signal per second), ``derivative_cutoff_hz``
    smooths the speed estimate itself.
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.05, derivative_cutoff_hz: float = 1.0) -> None:
        if min_cutoff_hz <= 0 or derivative_cutoff_hz <= 0 or beta < 0:
            raise ArInputError(
                "One-Euro filter needs min_cutoff_hz > 0, derivative_cutoff_hz > 0 and beta >= 0; "
                f"got {min_cutoff_hz}, {derivative_cutoff_hz}, {beta}"
            )
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.derivative_cutoff_hz = derivative_cutoff_hz
        self._value: np.ndarray | None = None
        self._derivative: np.ndarray | None = None
        self._time_s: float | None = None

    def reset(self) -> None:
        """Forget the track (call when the person leaves the view)."""
        self._value = self._derivative = self._time_s = None

    def __call__(self, value: np.ndarray, time_s: float) -> np.ndarray:
        """Filter one sample taken at ``time_s`` seconds; returns the smoothed sample."""
        value = np.asarray(value, dtype=np.float64)
        if self._value is None or self._time_s is None or value.shape != self._value.shape:
            self._value, self._derivative, self._time_s = value.copy(), np.zeros_like(value), time_s
            return value.copy()
        dt_s = time_s - self._time_s
        if dt_s <= 0:
            return self._value.copy()
        derivative = (value - self._value) / dt_s
        self._derivative = self._derivative + _alpha(self.derivative_cutoff_hz, dt_s) * (derivative - self._derivative)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(self._derivative)
        self._value = self._value + _alpha(cutoff, dt_s) * (value - self._value)
        self._time_s = time_s
        return self._value.copy()
