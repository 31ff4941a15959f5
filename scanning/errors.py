"""The scanning package's exception tree, rooted in :class:`omnifit.errors.OmnifitError`.

Every stage (sources, calibration, reconstruction, measurement) raises a subclass of
:class:`ScanningError`; details are keyword-only attributes (``path=``, ``camera=``, ...)
so callers can report them without parsing the message.
"""
from __future__ import annotations

from omnifit.errors import ErrorCode, OmnifitError


class ScanningError(OmnifitError):
    """Root of every error raised by ``scanning``."""

    code = ErrorCode.INVALID_ARGUMENT


class MeshError(ScanningError):
    """A mesh that cannot be measured: empty, not a closed surface, or the wrong size."""


class MeshFileError(MeshError):
    """A mesh file that is missing, unreadable, or of a format we do not read."""


class ShapeKindError(MeshError):
    """A mesh whose shape does not match the kind asked for (a body measured as a foot)."""


class MeasurementError(ScanningError):
    """A landmark or cross-section that could not be found on an otherwise valid mesh."""


class FrameError(ScanningError):
    """An RGB-D frame of the wrong shape or dtype, or with no usable depth; names the camera."""


class CalibrationError(ScanningError):
    """A rig calibration that is missing, unreadable, or does not match the cameras it is used with."""


class ReconstructionError(ScanningError):
    """Fusion that produced nothing usable: nothing on the platform, a foot missing or cut off."""


class PoseError(ReconstructionError):
    """A body scanned in a pose its measurements cannot be taken from (arms against the body,
    held out sideways, feet together), found before fusing. ``flags``: the quality flags
    (``code``, ``message``) naming what the shopper should change; ``pose``: what was read."""

    code = ErrorCode.FAILED_PRECONDITION


class ExportError(ScanningError):
    """A mesh that could not be written as PLY or GLB."""
