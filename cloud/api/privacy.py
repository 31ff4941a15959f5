"""PrivacyService: a shopper deleting their fit profile (see ``cloud.domain.privacy`` for the rules)."""
from __future__ import annotations

import grpc

from cloud.api.errors import grpc_errors
from cloud.api.servicers import Services
from cloud.domain.privacy import PrivacyService
from proto.omnifit.v1 import privacy_pb2, privacy_pb2_grpc


class PrivacyServicer(privacy_pb2_grpc.PrivacyServiceServicer):
    def __init__(self, services: Services) -> None:
        self.s = services
        self.privacy = PrivacyService(services.database)

    @grpc_errors
    async def DeleteFitProfile(
        self, request: privacy_pb2.DeleteFitProfileRequest,
        context: grpc.aio.ServicerContext[privacy_pb2.DeleteFitProfileRequest, privacy_pb2.FitProfileDeletion],
    ) -> privacy_pb2.FitProfileDeletion:
        principal = await self.s.principal(context)
        deleted = await self.s.database.run(self.privacy.delete_fit_profile, principal, request.idempotency_key)
        return privacy_pb2.FitProfileDeletion(shopper_id=principal.subject_id, deleted=deleted)
