"""A shopper deleting what the store holds about them, at their request: the fit profile.

Who: shoppers, for themselves only; a kiosk or staff token is refused (staff delete face
data through the admin tools, FaceService). On whose data: the profile kept under the
caller's shopper id, taken from the token. How often: each request carries an idempotency
key, so a retried request deletes once and answers the same; deleting nothing is not an
error. Every deletion is an entry of the hash-chained audit log (``payments.audit``),
written in the same transaction as the deletion.
"""
from __future__ import annotations

import json

from sqlalchemy.engine import Connection

from cloud.domain import idempotency
from cloud.domain.profiles import shopper_key
from cloud.domain.types import Principal, PrincipalKind
from cloud.domain.validate import require_idempotency_key
from cloud.errors import PermissionDenied
from cloud.storage import Database, schema
from payments.audit import AuditLog

DELETED_EVENT = "fit_profile.deleted"
_METHOD = "DeleteFitProfile"


class PrivacyService:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.audit = AuditLog(database.write_engine())

    def delete_fit_profile(self, principal: Principal, idempotency_key: str) -> bool:
        """Delete the caller's fit profile; True when there was one."""
        if principal.kind is not PrincipalKind.SHOPPER:
            raise PermissionDenied(f"{principal.kind.value} tokens cannot delete fit profiles; shoppers delete their own",
                                   kind=principal.kind.value)
        key = require_idempotency_key(idempotency_key)
        digest = idempotency.request_hash({"shopper_id": principal.subject_id})

        def work(conn: Connection) -> bool:
            replay = idempotency.find_replay(conn, principal, _METHOD, key, digest)
            if replay is not None:
                return bool(json.loads(replay)["deleted"])
            table = schema.fit_profiles
            deleted = conn.execute(table.delete().where(table.c.owner_key == shopper_key(principal.subject_id))).rowcount > 0
            self.audit.append_in(conn, DELETED_EVENT, principal.subject_id, {"deleted": deleted, "by": principal.key})
            idempotency.remember(conn, principal, _METHOD, key, digest, json.dumps({"deleted": deleted}))
            return deleted

        return self.audit.transaction(work)
