"""Face pay's use cases behind ``FaceService``: enrollment, identification at a kiosk, deletion, look-up.

The kiosk (or the app) captures: quality gate, liveness and the 128-d embedding run on the
device and only the embedding travels. The server keeps it sealed (:class:`FaceTemplateStore`,
AES-GCM under the configured key-encryption key) and matches it; every enrollment, match
attempt and deletion is an entry of the hash-chained payments audit log.

Who may do what:

* ``EnrollFace``: a kiosk for the shopper who owns the cart it names while that shopper is at the
  kiosk — they claimed this kiosk's pairing code for the cart within :data:`ENROLL_PRESENCE_MS`, and
  did not delete their face data since (a kiosk never re-enrolls a face the shopper took back) — or
  a shopper's app for themselves; staff do not enroll other people. Consent
  (purpose, time, retention) is required; the phone digits are the account's, the payment
  method the gateway token given.
* ``IdentifyFace``: kiosks only, 1:few within the 4 phone digits typed. A miss names nobody
  and says nothing of the candidates; misses are limited per kiosk (``RESOURCE_EXHAUSTED``
  while it is paused). A match carries a short-lived token, bound to the kiosk, that
  ``CreateIntent`` takes instead of a payment token (see :meth:`FaceAccess.resolve_match`).
  The token pays once: the intent it authorises spends it in the transaction that creates
  the intent (``face_match_tokens_spent``), so a replay — also two ``CreateIntent`` calls at
  once — gets ``FAILED_PRECONDITION`` and no second intent; only a retry under the same
  idempotency key gets the intent back.
* ``DeleteFaceData``: a shopper for themselves, staff for anyone (also in ``staff_audit``).
* ``GetFaceEnrollment``: a shopper for themselves, staff for anyone (by shopper id or email).

Matching reads the typed digits' bucket from the database on every attempt (a handful of
templates), so every replica sees enrollments and deletions at once and nothing
decrypted outlives the call. When no key-encryption key is configured (PostgreSQL without
``OMNIFIT_FACE_KEK`` or a key file) the service answers ``FAILED_PRECONDITION``.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain import idempotency
from cloud.domain.accounts import AccountService
from cloud.domain.carts import CartService, claimed_at_ms
from cloud.domain.lockout import FailureCounter, Limit
from cloud.domain.types import Principal, PrincipalKind, now_ms
from cloud.domain.validate import require_id
from cloud.errors import CloudError, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, RateLimited
from cloud.storage import Database, schema
from omnifit.errors import ErrorCode
from payments.errors import EnrollmentError, TemplateNotFoundError
from payments.face.identifiers import bucket_digits, phone_last4
from payments.face.matching import CandidateCache, MatchMode, MatchPolicy, decide
from payments.face.service import UNMATCHED_SUBJECT
from payments.face.store import Consent, Enrollment, FaceTemplateStore, face_consents

_LOGGER = logging.getLogger(__name__)
MATCH_TOKEN_TTL_MS = 2 * 60 * 1000          # long enough to show the cart and tap "pay"
MAX_FAILED_IDENTIFICATIONS = 5              # misses per kiosk within the window
FAILURE_WINDOW_MS = 10 * 60 * 1000
CONSENT_MAX_AGE_MS = 24 * 3600 * 1000       # consent is sent when it is given, not replayed days later
CLOCK_SKEW_MS = 5 * 60 * 1000
DEFAULT_CONSENT_TEXT = "face-pay-consent-v1"
ENROLL_PRESENCE_MS = 10 * 60 * 1000         # a kiosk enrolls within this long of the shopper pairing on it
_MATCH_TOKEN_PREFIX = "fm1"
REUSED_EVENT = "face.match_token_reused"
_ADVISORY_SPACE = 0x4649  # pg_advisory_xact_lock key space of the kiosk miss limit
_spent = schema.face_match_tokens_spent
DEFAULT_POLICY = MatchPolicy()


class CloudServices(Protocol):
    """What face pay uses of the cloud's services (``cloud.api.servicers.Services`` has it)."""

    @property
    def database(self) -> Database: ...
    @property
    def carts(self) -> CartService: ...
    @property
    def accounts(self) -> AccountService: ...


# ---------------------------------------------------------------------- match tokens


@dataclass(frozen=True)
class MatchClaim:
    """What a face match proves, for ``CreateIntent``: who, on which kiosk, whether the PIN is needed, until when."""

    shopper_id: str
    template_id: str
    device_id: str
    step_up: bool
    expires_at_ms: int


@dataclass(frozen=True)
class FacePayment:
    """What a verified, unspent match token pays with, and what spending it records."""

    shopper_id: str
    payment_token: str
    step_up: bool
    token_hash: str
    device_id: str


class MatchTokenSpent(FailedPrecondition):
    """The match token already paid for an intent; the shopper identifies again."""


class MatchTokens:
    """HMAC-signed match claims under a key derived from the deployment's token secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"omnifit/face-match-token/v1", hashlib.sha256).digest()

    def _sign(self, payload: str) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, claim: MatchClaim) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(asdict(claim), separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{_MATCH_TOKEN_PREFIX}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, device_id: str, *, allow_expired: bool = False) -> MatchClaim:
        """The claim of a genuine, unexpired token issued to ``device_id``; ``InvalidArgument``/``FailedPrecondition`` otherwise.
        ``allow_expired`` skips only the expiry check (for a retry of the intent it already made)."""
        parts = token.split(".")
        genuine = token.isascii() and len(parts) == 3 and parts[0] == _MATCH_TOKEN_PREFIX
        if not genuine or not hmac.compare_digest(self._sign(parts[1]), parts[2]):
            raise InvalidArgument("face_match_token is not a match token this service issued", field="face_match_token")
        try:
            claim = MatchClaim(**json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise InvalidArgument("face_match_token payload is malformed", field="face_match_token") from exc
        if claim.device_id != device_id:
            raise PermissionDenied("face_match_token was issued to another kiosk", field="face_match_token")
        if not allow_expired and claim.expires_at_ms <= now_ms():
            raise _expired()
        return claim


def _expired() -> FailedPrecondition:
    return FailedPrecondition("face_match_token has expired; identify the shopper again", field="face_match_token")


# ---------------------------------------------------------------------- values


@dataclass(frozen=True)
class NewEnrollment:
    key: str
    cart_id: str
    embedding: np.ndarray[Any, np.dtype[np.float64]]
    consent: Consent
    payment_token: str


@dataclass(frozen=True)
class Enrolled:
    """An enrollment as the wire shows it."""

    shopper_id: str
    template_id: str
    consent_id: str
    expires_at_ms: int
    channel: str
    payment_method: str  # the enrolled card as the shopper knows it, never the token
    phone_last4: str

    @classmethod
    def stored(cls, response: dict[str, Any]) -> Enrolled:
        """An enrollment as first answered, from the idempotency table (answers stored before the card was
        described carried the token's last four characters instead)."""
        legacy_tail = response.pop("token_last4", None)
        if legacy_tail is not None:
            response["payment_method"] = f"token ...{legacy_tail}" if legacy_tail else ""
        return cls(**response)


@dataclass(frozen=True)
class Identified:
    matched: bool
    shopper_id: str
    distance: float
    threshold: float
    step_up: bool
    match_token: str
    match_expires_at_ms: int
    payment_method: str
    attempts_left: int


@dataclass(frozen=True)
class Deleted:
    shopper_id: str
    template_id: str
    deleted: bool


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------------- blocking use cases


class FaceAccess:
    """The face-pay use cases with the cloud's access rules; every method blocks (worker pool)."""

    def __init__(self, services: CloudServices, store: FaceTemplateStore | None, *, describe_card: Callable[[str], str],
                 unavailable: str = "", policy: MatchPolicy = DEFAULT_POLICY,
                 max_failures: int = MAX_FAILED_IDENTIFICATIONS, failure_window_ms: int = FAILURE_WINDOW_MS) -> None:
        self.s = services
        self._store = store
        self.describe_card = describe_card  # the enrolled token's card as its gateway says: "Visa ending 4242"
        self._unavailable = unavailable or "face pay is not configured on this server"
        self.policy = policy
        self.max_failures = max_failures
        self.failure_window_ms = failure_window_ms
        self.tokens = MatchTokens(services.accounts.signer.derive("face-match-token"))
        self.misses = FailureCounter(services.database, schema.face_match_failures,
                                     (Limit("principal", max_failures, "kiosk"),), failure_window_ms, _ADVISORY_SPACE,
                                     self._paused)

    @property
    def store(self) -> FaceTemplateStore:
        if self._store is None:
            raise FailedPrecondition(self._unavailable)
        return self._store

    # -- enrollment

    def enroll(self, principal: Principal, new: NewEnrollment) -> Enrolled:
        shopper_id = self._enrollee(principal, new.cart_id)
        digest = idempotency.request_hash({
            "cart_id": new.cart_id, "token": new.payment_token, "purpose": new.consent.purpose,
            "retention": new.consent.retention_days, "embedding": hashlib.sha256(new.embedding.tobytes()).hexdigest(),
        })
        replay = self._replay(principal, "EnrollFace", new.key, digest)
        if replay is not None:
            return Enrolled.stored(replay)
        if self.store.enrollment(shopper_id) is not None:
            raise FailedPrecondition(f"shopper {shopper_id} is already enrolled; delete the face data first to enroll again",
                                     field="shopper_id")
        last4 = self._phone_last4(shopper_id)
        try:
            self.store.enroll(shopper_id, new.embedding, consent=new.consent, phone_last4=last4,
                              payment_token=new.payment_token)
        except EnrollmentError as exc:
            if exc.code is not ErrorCode.CONFLICT:
                raise
            raise FailedPrecondition(f"shopper {shopper_id} is already enrolled (a concurrent enrollment won)",
                                     field="shopper_id") from exc
        enrolled = self._enrolled(self.store.enrollment(shopper_id), last4)
        self._remember(principal, "EnrollFace", new.key, digest, asdict(enrolled))
        _LOGGER.info("%s enrolled shopper %s for face pay (%s)", principal.key, shopper_id, enrolled.template_id)
        return enrolled

    def _enrollee(self, principal: Principal, cart_id: str) -> str:
        """Whose face this is: a kiosk's paired shopper (the cart's owner), or the app's own shopper."""
        if principal.kind is PrincipalKind.SHOPPER:
            if cart_id:
                raise InvalidArgument("cart_id: a shopper's app enrolls its own shopper; leave it empty", field="cart_id")
            return principal.subject_id
        if principal.kind is PrincipalKind.DEVICE:
            cart = self.s.carts.get_cart(principal, require_id(cart_id, "cart_id", max_length=64))
            if not cart.owner_shopper_id:
                raise FailedPrecondition(f"cart {cart.cart_id} has no signed-in shopper; pair the shopper's phone first",
                                         field="cart_id")
            self._require_present(principal, cart.cart_id, cart.owner_shopper_id)
            return cart.owner_shopper_id
        raise PermissionDenied("EnrollFace: a kiosk or the shopper's app enrolls a face, not staff")

    def _require_present(self, principal: Principal, cart_id: str, shopper_id: str) -> None:
        """Refuse a kiosk enrollment unless the shopper claimed the cart from this kiosk (a pairing code)
        within :data:`ENROLL_PRESENCE_MS` and has not deleted face data since (a deletion takes back
        what the kiosk was shown; the shopper pairs again to enroll again)."""
        with self.s.database.read() as conn:
            claimed = claimed_at_ms(conn, cart_id)  # the cart is this kiosk's (get_cart checked): so was the code
            ended = conn.execute(sa.select(sa.func.max(face_consents.c.ended_at))
                                 .where(face_consents.c.shopper_id == shopper_id)).scalar()
        if claimed is None or claimed <= now_ms() - ENROLL_PRESENCE_MS:
            raise PermissionDenied(f"EnrollFace: shopper {shopper_id} has not paired on this kiosk in the last "
                                   f"{ENROLL_PRESENCE_MS // 60000} min; pair the phone again to enroll here",
                                   field="cart_id")
        if ended is not None and _ms(ended if ended.tzinfo else ended.replace(tzinfo=dt.UTC)) >= claimed:
            raise PermissionDenied(f"EnrollFace: shopper {shopper_id} deleted their face data after pairing on this "
                                   "kiosk; pair the phone again to enroll here", field="cart_id")

    def _phone_last4(self, shopper_id: str) -> str:
        with self.s.database.read() as conn:
            phone = conn.execute(sa.select(schema.shoppers.c.phone)
                                 .where(schema.shoppers.c.shopper_id == shopper_id)).scalar()
        if phone is None:
            raise NotFound(f"shopper {shopper_id} does not exist", field="shopper_id")
        return phone_last4(phone)

    def _enrolled(self, enrollment: Enrollment | None, last4: str) -> Enrolled:
        if enrollment is None:
            raise FailedPrecondition("the enrollment was deleted while it was being made; enroll again")
        return Enrolled(enrollment.shopper_id, enrollment.template_id, enrollment.consent_id, _ms(enrollment.expires_at),
                        enrollment.channel.value, self._card(enrollment.payment_token), last4)

    def _card(self, payment_token: str | None) -> str:
        return self.describe_card(payment_token) if payment_token else ""

    # -- identification

    def identify(self, principal: Principal, embedding: np.ndarray[Any, np.dtype[np.float64]], digits: str) -> Identified:
        """1:few match among the shoppers whose phone ends in ``digits``; audited, misses counted."""
        if principal.kind is not PrincipalKind.DEVICE:
            raise PermissionDenied(f"IdentifyFace is for kiosks; the caller is a {principal.kind.value}")
        digits = bucket_digits(digits)
        store = self.store
        counted = self.misses.count_try({"principal": principal.key})  # a match takes the try back
        failures, ticket = counted.failures["principal"], counted.ticket
        try:
            bucket = store.phone_bucket(digits)
            nearest, distance, count = CandidateCache(store.load_templates(phone_last4=digits)).nearest(embedding, bucket)
            result = decide(nearest, distance, count, MatchMode.ONE_TO_FEW, self.policy)
            store.audit.append("face.match_attempt", result.shopper_id or UNMATCHED_SUBJECT, {
                **result.audit_details(), "device_id": principal.subject_id, "store_id": principal.store_id,
            })
        except BaseException:
            self.misses.take_back(ticket)  # a failure of ours is no miss
            raise
        if not result.matched:
            return Identified(False, "", 0.0, self.policy.threshold, False, "", 0, "",
                              max(self.max_failures - failures, 0))
        self.misses.take_back(ticket)
        failures -= 1
        assert result.shopper_id is not None and result.template_id is not None and result.distance is not None
        expires = now_ms() + MATCH_TOKEN_TTL_MS
        token = self.tokens.issue(MatchClaim(result.shopper_id, result.template_id, principal.subject_id,
                                             result.needs_step_up, expires))
        return Identified(True, result.shopper_id, float(result.distance), self.policy.threshold, result.needs_step_up,
                          token, expires, self._card(result.payment_token), self.max_failures - failures)

    def _paused(self, _limit: Limit, failures: int, _wait_s: int) -> CloudError:
        return RateLimited(f"{failures} faces matched nobody on this kiosk in the last "
                           f"{self.failure_window_ms // 60000} min; wait, or pay by card",
                           retry_after_s=self.failure_window_ms // 1000)

    def resolve_match(self, principal: Principal, token: str, key: str) -> FacePayment:
        """The payer, their enrolled payment token and whether the PIN is needed, from a match token.

        Refused when the token is forged, expired, from another kiosk, already spent by an intent
        made under another idempotency key than ``key``, or the face data was deleted (or enrolled
        again) since the match. The intent spends it with :meth:`spend_in`. A retry under the key
        that spent it gets its intent back even after the token's two minutes: the kiosk whose
        answer was lost must learn what it paid, not be told to identify the shopper again.
        """
        if principal.kind is not PrincipalKind.DEVICE:
            raise PermissionDenied("face_match_token: only the kiosk that identified the shopper pays by face",
                                   field="face_match_token")
        claim = self.tokens.verify(token, principal.subject_id, allow_expired=True)
        payment = FacePayment(claim.shopper_id, "", claim.step_up, hashlib.sha256(token.encode("ascii")).hexdigest(),
                              claim.device_id)
        with self.s.database.read() as conn:
            spent = conn.execute(sa.select(_spent.c.idempotency_key, _spent.c.intent_id)
                                 .where(_spent.c.token_hash == payment.token_hash)).first()
        if spent is not None and spent.idempotency_key != key:
            raise self.refuse_reuse(payment, spent.intent_id)
        if spent is None and claim.expires_at_ms <= now_ms():
            raise _expired()
        enrollment = self.store.enrollment(claim.shopper_id)
        if enrollment is None or enrollment.template_id != claim.template_id:
            raise FailedPrecondition(f"the face data of shopper {claim.shopper_id} was deleted after the match",
                                     field="face_match_token")
        if not enrollment.payment_token:
            raise FailedPrecondition(f"shopper {claim.shopper_id} has no payment method enrolled for face pay",
                                     field="face_match_token")
        return replace(payment, payment_token=enrollment.payment_token)

    @staticmethod
    def spend_in(conn: Connection, payment: FacePayment, key: str, intent_id: str) -> None:
        """Record the token as spent by ``intent_id``, inside the transaction that creates the intent.

        The token hash is the primary key: of two intents racing on one token, the second insert
        fails (on PostgreSQL after waiting for the first to commit) and its intent rolls back.
        """
        try:
            conn.execute(_spent.insert().values(token_hash=payment.token_hash, intent_id=intent_id,
                                                shopper_id=payment.shopper_id, device_id=payment.device_id,
                                                idempotency_key=key, spent_at_ms=now_ms()))
        except sa.exc.IntegrityError as exc:
            raise MatchTokenSpent("face_match_token was spent by another payment made at the same moment; "
                                  "identify the shopper again", field="face_match_token") from exc

    def paid_by_face(self, intent_id: str) -> bool:
        """Whether a face match paid for ``intent_id`` (a spent match token names it)."""
        with self.s.database.read() as conn:
            return conn.execute(sa.select(_spent.c.token_hash).where(_spent.c.intent_id == intent_id)).first() is not None

    def refuse_reuse(self, payment: FacePayment, intent_id: str) -> MatchTokenSpent:
        """The error for a replayed match token, after writing the attempt to the audit log."""
        _LOGGER.warning("kiosk %s replayed a spent face match token of shopper %s (intent %s)",
                        payment.device_id, payment.shopper_id, intent_id or "racing")
        self.store.audit.append(REUSED_EVENT, payment.shopper_id, {
            "device_id": payment.device_id, "spent_by_intent": intent_id, "token_hash": payment.token_hash[:16],
        })
        already = f" for intent {intent_id}" if intent_id else ""
        return MatchTokenSpent(f"face_match_token was already used{already}; a match pays once — identify the "
                               "shopper again", field="face_match_token")

    # -- deletion and look-up

    def delete(self, principal: Principal, key: str, shopper_id: str) -> Deleted:
        target = self._subject(principal, shopper_id, "DeleteFaceData")
        digest = idempotency.request_hash({"shopper_id": target})
        replay = self._replay(principal, "DeleteFaceData", key, digest)
        if replay is not None:
            return Deleted(**replay)
        try:
            template_id = self.store.delete(target, requested_by=principal.key)
        except TemplateNotFoundError:
            template_id = ""
        deleted = Deleted(target, template_id, bool(template_id))
        with self.s.database.write() as conn:
            if principal.kind is PrincipalKind.STAFF:
                conn.execute(schema.staff_audit.insert().values(
                    staff_id=principal.subject_id, action="DeleteFaceData", target=target, at_ms=now_ms()))
            idempotency.remember(conn, principal, "DeleteFaceData", key, digest, json.dumps(asdict(deleted)))
        _LOGGER.info("%s deleted the face data of %s (%s)", principal.key, target, template_id or "none stored")
        return deleted

    def status(self, principal: Principal, shopper_id: str, email: str = "") -> tuple[str, Enrolled | None]:
        if email:
            shopper_id = self._shopper_by_email(principal, shopper_id, email)
        target = self._subject(principal, shopper_id, "GetFaceEnrollment")
        enrollment = self.store.enrollment(target)
        return target, None if enrollment is None else self._enrolled(enrollment, self._phone_last4(target))

    def _shopper_by_email(self, principal: Principal, shopper_id: str, email: str) -> str:
        """Staff find a shopper by account email (what a shopper at the counter can tell them)."""
        if principal.kind is not PrincipalKind.STAFF:
            raise PermissionDenied("email: only staff look shoppers up by email", field="email")
        if shopper_id:
            raise InvalidArgument("give shopper_id or email, not both", field="email")
        with self.s.database.read() as conn:
            found = conn.execute(sa.select(schema.shoppers.c.shopper_id)
                                 .where(schema.shoppers.c.email == email.strip().lower())).scalar()
        if found is None:
            raise NotFound("no shopper has that email", field="email")
        return str(found)

    def sweep_expired(self) -> list[str]:
        """Delete every template past its consent's retention (audited); the shopper ids. Nothing when face pay is off."""
        return [] if self._store is None else self._store.sweep_expired()

    @staticmethod
    def _subject(principal: Principal, shopper_id: str, method: str) -> str:
        """Whose face data: a shopper's own, or anyone's for staff (who must name them)."""
        if principal.kind is PrincipalKind.SHOPPER:
            if shopper_id and shopper_id != principal.subject_id:
                raise PermissionDenied(f"{method}: a shopper acts only on their own face data", field="shopper_id")
            return principal.subject_id
        if principal.kind is PrincipalKind.STAFF:
            return require_id(shopper_id, "shopper_id", max_length=64)
        raise PermissionDenied(f"{method}: the shopper's app, or staff in admin mode, not a kiosk session")

    # -- idempotency (the cloud's key table; the face store writes on its own engine)

    def _replay(self, principal: Principal, method: str, key: str, digest: str) -> dict[str, Any] | None:
        with self.s.database.read() as conn:
            stored = idempotency.find_replay(conn, principal, method, key, digest)
        return None if stored is None else json.loads(stored)

    def _remember(self, principal: Principal, method: str, key: str, digest: str, response: dict[str, Any]) -> None:
        with self.s.database.write() as conn:
            idempotency.remember(conn, principal, method, key, digest, json.dumps(response))
