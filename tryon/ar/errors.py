"""Errors of the AR mirror, rooted in :class:`omnifit.errors.OmnifitError`."""
from __future__ import annotations

from omnifit.errors import ErrorCode, OmnifitError


class ArError(OmnifitError):
    """Base of every AR-mirror error."""

    code = ErrorCode.INTERNAL


class ArInputError(ArError):
    """A frame, image, video, camera or argument the mirror cannot use."""

    code = ErrorCode.INVALID_ARGUMENT


class ModelLoadError(ArError):
    """A shoe model (glTF/GLB) or garment image that cannot be read."""

    code = ErrorCode.INVALID_ARGUMENT


class RenderError(ArError):
    """The offscreen renderer could not start or draw."""

    code = ErrorCode.UNAVAILABLE
