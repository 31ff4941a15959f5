"""The cloud service's error tree; the gRPC boundary maps each ``code`` to a status code."""
from __future__ import annotations

from omnifit.errors import ErrorCode, OmnifitError


class CloudError(OmnifitError):
    """Root of the cloud service's errors."""

    code = ErrorCode.INTERNAL


class InvalidArgument(CloudError):
    """A request field is malformed; ``field`` names it."""

    code = ErrorCode.INVALID_ARGUMENT


class NotFound(CloudError):
    """The named cart, product, SKU, store or code does not exist."""

    code = ErrorCode.NOT_FOUND


class VersionConflict(CloudError):
    """The caller's expected version is stale; ``current_version`` carries the stored one."""

    code = ErrorCode.CONFLICT


class FailedPrecondition(CloudError):
    """The target's state forbids the action (a merged cart, a used or expired code)."""

    code = ErrorCode.FAILED_PRECONDITION


class Unauthenticated(CloudError):
    """No token, or a forged, expired or revoked one."""

    code = ErrorCode.UNAUTHENTICATED


class PermissionDenied(CloudError):
    """The caller is known but the data belongs to another store or shopper."""

    code = ErrorCode.PERMISSION_DENIED


class RateLimited(CloudError):
    """Too many failed attempts in the window; ``retry_after_s`` says when to try again."""

    code = ErrorCode.RESOURCE_EXHAUSTED
