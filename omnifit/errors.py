"""The root of every Omnifit error, and the stable error codes the wire and the apps share.

Each domain package roots its own exception tree in :class:`OmnifitError`; the cloud
service maps :class:`ErrorCode` to gRPC status codes at its boundary.
"""
from __future__ import annotations

import enum


class ErrorCode(str, enum.Enum):
    """Stable snake_case codes; the apps and the gRPC mapping rely on these values."""

    INVALID_ARGUMENT = "invalid_argument"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # a stale expected version, a state that forbids the action
    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission_denied"
    RESOURCE_EXHAUSTED = "resource_exhausted"  # rate limits
    FAILED_PRECONDITION = "failed_precondition"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class OmnifitError(Exception):
    """Base of all Omnifit errors. ``code`` says what kind; details are keyword-only attributes."""

    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: ErrorCode | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        for key, value in details.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message
