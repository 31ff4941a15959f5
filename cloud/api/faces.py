"""``FaceService`` over gRPC: request conversion and the servicer over :class:`cloud.domain.faces.FaceAccess`,
where the use cases and their access rules live (enrollment, identification at a kiosk, deletion, look-up).
Only the embedding travels; every call blocks on the database and runs on its worker pool."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from cloud.api.errors import Context, grpc_errors
from cloud.api.servicers import Services
from cloud.domain.faces import (
    CLOCK_SKEW_MS,
    CONSENT_MAX_AGE_MS,
    DEFAULT_CONSENT_TEXT,
    Deleted,
    Enrolled,
    FaceAccess,
    FacePayment,
    Identified,
    MatchTokenSpent,
    NewEnrollment,
)
from cloud.domain.types import PrincipalKind, now_ms
from cloud.domain.validate import require_idempotency_key
from cloud.errors import InvalidArgument
from payments.errors import ConsentError
from payments.face.store import EMBEDDING_DIM, Channel, Consent
from payments.tokens import check_payment_token
from proto.omnifit.v1 import face_pb2, face_pb2_grpc

T = TypeVar("T")
if TYPE_CHECKING:
    Context = Context

__all__ = ["FaceAccess", "FacePayment", "FaceServicer", "MatchTokenSpent", "consent_from", "embedding_from",
           "enrollment_message"]


# ---------------------------------------------------------------------- request values


def embedding_from(values: Sequence[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The request's embedding as (128,) float64, refusing a wrong length or non-finite values."""
    if len(values) != EMBEDDING_DIM:
        raise InvalidArgument(f"embedding must have {EMBEDDING_DIM} values; got {len(values)}", field="embedding")
    vector = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(vector)):
        raise InvalidArgument("embedding values must be finite numbers", field="embedding")
    return vector


def consent_from(message: face_pb2.FaceConsent, present: bool, channel: Channel) -> Consent:
    """The consent record; absent, future or stale consent is refused (``FAILED_PRECONDITION``)."""
    if not present:
        raise ConsentError("face enrollment needs the shopper's explicit consent (purpose, time, retention)",
                           field="consent")
    stamp = now_ms()
    if message.granted_at_ms > stamp + CLOCK_SKEW_MS or message.granted_at_ms < stamp - CONSENT_MAX_AGE_MS:
        raise ConsentError("consent.granted_at_ms must be when the shopper agreed, within the last day",
                           field="consent.granted_at_ms")
    if len(message.purpose) > 200 or len(message.text_version) > 40:
        raise InvalidArgument("consent.purpose is at most 200 characters, text_version 40", field="consent")
    granted = dt.datetime.fromtimestamp(message.granted_at_ms / 1000, tz=dt.UTC)
    return Consent(message.purpose, channel, message.retention_days, granted, message.text_version or DEFAULT_CONSENT_TEXT)


# ---------------------------------------------------------------------- protobuf


def enrollment_message(enrolled: Enrolled) -> face_pb2.FaceEnrollment:
    return face_pb2.FaceEnrollment(
        shopper_id=enrolled.shopper_id, template_id=enrolled.template_id, consent_id=enrolled.consent_id,
        expires_at_ms=enrolled.expires_at_ms, channel=enrolled.channel,
        payment_method=enrolled.payment_method,
        phone_hint=f"...{enrolled.phone_last4}",
    )


class FaceServicer(face_pb2_grpc.FaceServiceServicer):
    def __init__(self, services: Services, access: FaceAccess) -> None:
        self.s = services
        self.access = access

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await self.s.database.run(fn, *args)

    @grpc_errors
    async def EnrollFace(self, request: face_pb2.EnrollFaceRequest, context: Context) -> face_pb2.FaceEnrollment:
        principal = await self.s.principal(context)
        channel = Channel.KIOSK if principal.kind is PrincipalKind.DEVICE else Channel.APP
        new = NewEnrollment(
            key=require_idempotency_key(request.idempotency_key),
            cart_id=request.cart_id,
            embedding=embedding_from(request.embedding),
            consent=consent_from(request.consent, request.HasField("consent"), channel),
            payment_token=check_payment_token(request.payment_token),
        )
        return enrollment_message(await self._run(self.access.enroll, principal, new))

    @grpc_errors
    async def IdentifyFace(self, request: face_pb2.IdentifyFaceRequest, context: Context) -> face_pb2.FaceMatch:
        principal = await self.s.principal(context)
        found: Identified = await self._run(self.access.identify, principal, embedding_from(request.embedding),
                                            request.phone_last4)
        return face_pb2.FaceMatch(
            matched=found.matched, shopper_id=found.shopper_id, distance=found.distance if math.isfinite(found.distance) else 0.0,
            threshold=found.threshold, step_up_required=found.step_up, match_token=found.match_token,
            match_expires_at_ms=found.match_expires_at_ms,
            payment_method=found.payment_method,
            attempts_left=found.attempts_left,
        )

    @grpc_errors
    async def DeleteFaceData(self, request: face_pb2.DeleteFaceDataRequest, context: Context) -> face_pb2.FaceDataDeletion:
        principal = await self.s.principal(context)
        key = require_idempotency_key(request.idempotency_key)
        done: Deleted = await self._run(self.access.delete, principal, key, request.shopper_id)
        return face_pb2.FaceDataDeletion(shopper_id=done.shopper_id, template_id=done.template_id, deleted=done.deleted)

    @grpc_errors
    async def GetFaceEnrollment(self, request: face_pb2.GetFaceEnrollmentRequest,
        context: Context) -> face_pb2.FaceEnrollmentStatus:
        principal = await self.s.principal(context)
        shopper_id, enrolled = await self._run(self.access.status, principal, request.shopper_id, request.email)
        if enrolled is None:
            return face_pb2.FaceEnrollmentStatus(shopper_id=shopper_id, enrolled=False)
        return face_pb2.FaceEnrollmentStatus(shopper_id=shopper_id, enrolled=True, enrollment=enrollment_message(enrolled))
