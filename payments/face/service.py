"""The face-pay flows: consented enrollment, the checkout decision, deletion and retention, audited.

:class:`FacePayService` wires the kiosk's face check (``payments.face.pipeline``:
quality gate, liveness, embedding), the encrypted store and the in-memory candidate
cache. The checkout decision runs that check, then the match, and records the attempt
(its result, never the face) in the audit log. The money side takes the matched
shopper's payment token from :class:`CheckoutDecision` and asks for a PIN when
``needs_step_up`` is set.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from payments.errors import ConsentError
from payments.face.capture import QualityConfig, capture_face, compute_embedding
from payments.face.identifiers import bucket_digits, phone_last4
from payments.face.liveness import Challenge, ChallengeConfig, DepthLivenessConfig, LivenessResult
from payments.face.matching import CandidateCache, MatchMode, MatchPolicy, MatchResult, decide
from payments.face.pipeline import FaceFrames, FacePipeline
from payments.face.store import Consent, DeletionReason, FaceTemplateStore, StoredTemplate

if TYPE_CHECKING:
    from scanning.sources.frame import Intrinsics

_LOGGER = logging.getLogger(__name__)

UNMATCHED_SUBJECT = "unmatched"


@dataclasses.dataclass(frozen=True)
class EnrollmentResult:
    shopper_id: str
    template_id: str
    quality: dict[str, float]


@dataclasses.dataclass(frozen=True)
class CheckoutDecision:
    """Whether face pay may proceed for this capture, and why.

    ``accepted`` needs a live presentation and a match; ``match.needs_step_up`` asks for
    a PIN before authorising. ``timings_ms`` holds each stage's wall time.
    """

    accepted: bool
    liveness: LivenessResult
    match: MatchResult | None
    timings_ms: dict[str, float]


@dataclasses.dataclass(frozen=True)
class RgbdCapture:
    """One kiosk capture: colour (H, W, 3) uint8 RGB and depth (H, W) float32 metres, registered."""

    colour: NDArray[Any]
    depth_m: NDArray[Any]
    intrinsics: Intrinsics


class FacePayService:
    """Enrollment, matching and deletion over one :class:`FaceTemplateStore`.

    The cache is filled from the store on construction and kept in step with every
    enrollment and deletion this service makes; a match is re-checked against the
    database before it is returned, so a template deleted by another process never matches.
    """

    def __init__(
        self,
        store: FaceTemplateStore,
        *,
        policy: MatchPolicy = MatchPolicy(),
        quality: QualityConfig = QualityConfig(),
        depth: DepthLivenessConfig = DepthLivenessConfig(),
        challenge: ChallengeConfig = ChallengeConfig(),
    ) -> None:
        self.store = store
        self.policy = policy
        self.quality = quality
        self.depth = depth
        self.challenge = challenge
        self.pipeline = FacePipeline(quality, depth, challenge)
        self.cache = CandidateCache(store.load_templates())

    # ------------------------------------------------------------ enrollment

    def enroll(
        self,
        image: NDArray[Any],
        *,
        shopper_id: str,
        phone_number: str,
        consent: Consent | None,
        payment_token: str | None = None,
    ) -> EnrollmentResult:
        """Quality-gate the image, embed it and store the sealed template; the image is then dropped.

        Without consent nothing is computed from the face at all.
        """
        if consent is None:
            raise ConsentError("face enrollment needs the shopper's explicit consent; none was given", field="consent")
        last4 = phone_last4(phone_number)
        capture = capture_face(image, self.quality)
        embedding = compute_embedding(capture)
        template_id = self.store.enroll(
            shopper_id, embedding, consent=consent, phone_last4=last4, payment_token=payment_token
        )
        self.cache.add(StoredTemplate(
            template_id, shopper_id, self.store.phone_bucket(last4), payment_token, embedding, consent.expires_at
        ))
        return EnrollmentResult(shopper_id, template_id, capture.metrics)

    # --------------------------------------------------------------- deletion

    def delete(self, shopper_id: str) -> str:
        """Delete on request: the stored template and the cached embedding. Returns the template id."""
        template_id = self.store.delete(shopper_id, reason=DeletionReason.REQUEST)
        self.cache.evict(shopper_id)
        return template_id

    def sweep(self, now: dt.datetime | None = None) -> list[str]:
        """Delete every template past its retention; returns the shopper ids removed."""
        removed = self.store.sweep_expired(now)
        for shopper_id in removed:
            self.cache.evict(shopper_id)
        return removed

    # --------------------------------------------------------------- matching

    def match(
        self, embedding: NDArray[Any], phone_last4_digits: str | None, *, audit_extra: dict[str, object] | None = None
    ) -> MatchResult:
        """1:few within the typed digits' bucket, or 1:N when ``phone_last4_digits`` is None. Audited."""
        bucket = None if phone_last4_digits is None else self.store.phone_bucket(bucket_digits(phone_last4_digits))
        mode = MatchMode.ONE_TO_N if bucket is None else MatchMode.ONE_TO_FEW
        nearest, distance, count = self.cache.nearest(embedding, bucket)
        # Another process may have deleted (or retention expired) what this cache still holds.
        while (nearest is not None and distance is not None and distance <= self.policy.threshold
               and not self.store.is_live(nearest.template_id)):
            _LOGGER.info("cached template %s is gone from the store; evicting it", nearest.template_id)
            self.cache.evict(nearest.shopper_id)
            nearest, distance, count = self.cache.nearest(embedding, bucket)
        result = decide(nearest, distance, count, mode, self.policy)
        self.store.audit.append(
            "face.match_attempt", result.shopper_id or UNMATCHED_SUBJECT, {**result.audit_details(), **(audit_extra or {})}
        )
        return result

    def checkout(
        self,
        rgbd: RgbdCapture,
        phone_last4_digits: str | None,
        *,
        challenge_frames: Sequence[NDArray[Any]] | None = None,
        challenge: Challenge | None = None,
    ) -> CheckoutDecision:
        """The kiosk's face check (quality gate → depth liveness → the challenge when given → embedding),
        then the match, audited. Raises FaceQualityError on a bad capture."""
        frames = FaceFrames(rgbd.colour, rgbd.depth_m, rgbd.intrinsics, challenge, tuple(challenge_frames or ()))
        check = self.pipeline.check(frames)
        timings = dict(check.timings_ms)
        if not check.live or check.embedding is None:
            self.store.audit.append("face.liveness_rejected", UNMATCHED_SUBJECT, check.liveness.as_dict())
            return CheckoutDecision(False, check.liveness, None, timings)
        start = time.perf_counter()
        match = self.match(check.embedding, phone_last4_digits, audit_extra={"liveness": check.liveness.as_dict()})
        timings["match_ms"] = _lap(start)
        timings["total_ms"] += timings["match_ms"]
        return CheckoutDecision(match.matched, check.liveness, match, timings)


def _lap(start: float) -> float:
    return 1000.0 * (time.perf_counter() - start)
