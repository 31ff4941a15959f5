"""Errors as the person at the kiosk reads them: what went wrong, in words, and what still works."""
from __future__ import annotations

import logging
from concurrent.futures.process import BrokenProcessPool

from cloud.client import ClientError, CloudUnavailable, VersionConflict
from omnifit.errors import ErrorCode, OmnifitError

_LOGGER = logging.getLogger(__name__)

_BY_CODE = {
    ErrorCode.UNAUTHENTICATED: "the sign-in was refused",
    ErrorCode.PERMISSION_DENIED: "this needs a staff member's permission",
    ErrorCode.RESOURCE_EXHAUSTED: "too many tries; please wait before trying again",
}


def is_offline(error: BaseException | None) -> bool:
    """Whether ``error`` means no replica of the cloud answered."""
    return isinstance(error, CloudUnavailable)


def describe_error(error: BaseException) -> str:
    """One sentence for the screen. Our own errors carry clear messages; anything else is logged."""
    if isinstance(error, CloudUnavailable):
        return "the store's system cannot be reached right now; please try again in a moment."
    if isinstance(error, VersionConflict):
        return "the cart was changed on another device a moment ago; it has been reloaded."
    if isinstance(error, ClientError):
        reason = _BY_CODE.get(error.code)
        return f"{reason} ({error})" if reason else str(error)
    if isinstance(error, OmnifitError):
        return str(error)
    if isinstance(error, PermissionError):
        return str(error)
    if isinstance(error, BrokenProcessPool):
        return "the scanner stopped unexpectedly (it has been restarted); please try again."
    _LOGGER.error("unexpected error shown to the kiosk user", exc_info=error)
    return f"an unexpected problem ({type(error).__name__}); please ask a member of staff."
