"""The fit engine's errors, rooted in :class:`omnifit.errors.OmnifitError`."""
from __future__ import annotations

from omnifit.errors import ErrorCode, OmnifitError


class FitError(OmnifitError):
    """Root of the fit engine's errors."""

    code = ErrorCode.INVALID_ARGUMENT


class SizeSystemError(FitError):
    """A size label that is not a number, or not a size in the named system."""


class GradingError(FitError):
    """The brand gradings (``assets/lasts/``) are missing, malformed, or do not cover a product."""


class MeasurementError(FitError):
    """Measurements that are missing, not numbers, or not plausible for a foot or body."""


class UnknownProductError(FitError):
    """A SKU or product id that the catalog does not hold."""

    code = ErrorCode.NOT_FOUND
