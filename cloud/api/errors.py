"""One decorator maps domain errors (``omnifit.errors.ErrorCode``) to gRPC status codes.

A stale expected version also carries the stored version in the trailing
metadata ``current-version``. A database that is unreachable or busy gives
``UNAVAILABLE`` (retry). Anything else that is not an ``OmnifitError`` is a bug:
it is logged with its traceback and the caller gets ``INTERNAL`` without details.
"""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import grpc

from cloud.storage import is_unavailable
from omnifit.errors import ErrorCode, OmnifitError

_LOGGER = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]
"""What every servicer method is handed (our requests and responses are typed by the methods)."""
CURRENT_VERSION_KEY = "current-version"
STATUS_FOR_CODE = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.CONFLICT: grpc.StatusCode.ABORTED,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}


async def _abort(context: Context, exc: BaseException, method: str) -> None:
    if isinstance(exc, grpc.aio.AbortError):
        raise exc
    if isinstance(exc, OmnifitError):
        trailing: tuple[tuple[str, str], ...] = ()
        if "current_version" in exc.details:
            trailing = ((CURRENT_VERSION_KEY, str(exc.details["current_version"])),)
        await context.abort(STATUS_FOR_CODE[exc.code], exc.message, trailing_metadata=trailing)
    if is_unavailable(exc):
        _LOGGER.warning("%s: database unavailable: %s", method, exc)
        await context.abort(grpc.StatusCode.UNAVAILABLE, f"{method}: the database is unavailable or busy; retry shortly")
    _LOGGER.exception("%s failed unexpectedly", method, exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"{method} failed on the server; the error is logged there")


def grpc_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a unary or server-streaming servicer method so domain errors become status codes."""
    name = method.__name__
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(self: object, request: object, context: Context) -> Any:
            try:
                async for item in method(self, request, context):
                    yield item
            except Exception as exc:  # noqa: BLE001 - mapped to a status, bugs logged in _abort
                await _abort(context, exc, name)

        return stream

    @functools.wraps(method)
    async def unary(self: object, request: object, context: Context) -> Any:
        try:
            return await method(self, request, context)
        except Exception as exc:  # noqa: BLE001 - mapped to a status, bugs logged in _abort
            await _abort(context, exc, name)

    return unary
