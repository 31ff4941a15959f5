"""Errors the sync client raises; each carries the stable ``ErrorCode`` the server sent."""
from __future__ import annotations

import grpc

from omnifit.errors import ErrorCode, OmnifitError

_FROM_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND: ErrorCode.NOT_FOUND,
    grpc.StatusCode.ABORTED: ErrorCode.CONFLICT,
    grpc.StatusCode.ALREADY_EXISTS: ErrorCode.CONFLICT,
    grpc.StatusCode.UNAUTHENTICATED: ErrorCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: ErrorCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ErrorCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION: ErrorCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAVAILABLE: ErrorCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ErrorCode.UNAVAILABLE,
}

# Worth another try on the same or another replica: the request may not have arrived.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# A load balancer resets the client's stream (RST_STREAM) when the replica behind it dies
# mid-call; gRPC reports that as UNKNOWN "Stream removed", which no server of ours sends.
_STREAM_RESET = (grpc.StatusCode.UNKNOWN, "Stream removed")


def is_retryable(exc: grpc.aio.AioRpcError) -> bool:
    """The call may not have been answered by a replica: retry it (under its idempotency key)."""
    return exc.code() in RETRYABLE or (exc.code(), exc.details()) == _STREAM_RESET


class ClientError(OmnifitError):
    """The cloud refused a call; ``status`` is the gRPC status name."""


class CloudUnavailable(ClientError):
    """No replica answered within the retry budget."""

    code = ErrorCode.UNAVAILABLE


class VersionConflict(ClientError):
    """The cart moved on; ``current_version`` says where it is now."""

    code = ErrorCode.CONFLICT


def from_rpc_error(exc: grpc.aio.AioRpcError) -> ClientError:
    status = exc.code()
    message = exc.details() or status.name
    if is_retryable(exc):
        return CloudUnavailable(message, status=status.name)
    if status is grpc.StatusCode.ABORTED:
        trailing = dict(exc.trailing_metadata() or ())
        current = trailing.get("current-version")
        return VersionConflict(message, status=status.name, current_version=int(current) if current else None)
    return ClientError(message, code=_FROM_STATUS.get(status, ErrorCode.INTERNAL), status=status.name)
