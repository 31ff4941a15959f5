"""The checkout decision end to end: rendered RGB-D capture → quality → liveness → embedding → match, audited."""
from __future__ import annotations

import numpy as np
import pytest

from payments.errors import ConsentError, FaceQualityError
from payments.face.attack_set import PresentationKind, generate_attack_set, prepare_photo, render_challenge_frames
from payments.face.capture import load_image
from payments.face.liveness import Challenge, LivenessReason
from payments.face.service import FacePayService, RgbdCapture
from payments.face.store import Consent, FaceTemplateStore, face_templates
from tests.payments.face.conftest import face_file, make_consent

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def _photo():
    return prepare_photo("obama.jpg", load_image(face_file("obama.jpg")))


def _capture(kind: PresentationKind, seed: int) -> RgbdCapture:
    photo = _photo()
    sample = next(generate_attack_set([photo], variants=1, seed=seed, kinds=[kind]))
    return RgbdCapture(sample.colour, sample.depth_m, sample.intrinsics)


@pytest.fixture
def service(sqlite_store: FaceTemplateStore, consent: Consent) -> FacePayService:
    face_service = FacePayService(sqlite_store)
    face_service.enroll(
        load_image(face_file("obama2.jpg")), shopper_id="obama", phone_number="+1 202 555 0143",
        consent=consent, payment_token="tok_visa_approve",
    )
    face_service.enroll(
        load_image(face_file("knn_examples/train/biden/biden2.jpg")), shopper_id="biden",
        phone_number="+1 302 555 0143", consent=consent,
    )
    return face_service


def test_live_enrolled_shopper_is_accepted_with_their_payment_token(service: FacePayService) -> None:
    decision = service.checkout(_capture(PresentationKind.BONA_FIDE, seed=1), "0143")
    assert decision.accepted and decision.liveness.live
    assert decision.match.shopper_id == "obama" and decision.match.payment_token == "tok_visa_approve"
    assert decision.match.candidates == 2
    assert set(decision.timings_ms) == {"quality_ms", "depth_ms", "embedding_ms", "match_ms", "total_ms"}
    [attempt] = service.store.audit.entries(event="face.match_attempt")
    assert attempt.subject == "obama" and attempt.details["liveness"]["live"] is True


def test_printed_photo_of_an_enrolled_shopper_is_refused_before_matching(service: FacePayService) -> None:
    decision = service.checkout(_capture(PresentationKind.FLAT_PRINT, seed=2), "0143")
    assert not decision.accepted and decision.match is None and "flat" in decision.liveness.as_dict()["reasons"]
    [rejected] = service.store.audit.entries(event="face.liveness_rejected")
    assert rejected.subject == "unmatched"
    assert list(service.store.audit.entries(event="face.match_attempt")) == []


def test_enrollment_without_consent_computes_nothing_and_stores_nothing(sqlite_store: FaceTemplateStore) -> None:
    face_service = FacePayService(sqlite_store)
    with pytest.raises(ConsentError):
        face_service.enroll(np.zeros((10, 10, 3), np.uint8), shopper_id="x", phone_number="0612345678", consent=None)
    with pytest.raises(FaceQualityError):
        face_service.enroll(load_image(face_file("two_people.jpg")), shopper_id="x", phone_number="0612345678",
                            consent=make_consent(sqlite_store.clock))
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(face_templates.select()).first() is None
    assert len(face_service.cache) == 0



def test_the_active_challenge_is_checked_after_depth(service: FacePayService) -> None:
    capture = _capture(PresentationKind.BONA_FIDE, seed=1)
    turned = render_challenge_frames(_photo(), PresentationKind.BONA_FIDE, Challenge.TURN_HEAD, seed=3)
    decision = service.checkout(capture, "0143", challenge_frames=turned, challenge=Challenge.TURN_HEAD)
    assert decision.accepted
    still = render_challenge_frames(_photo(), PresentationKind.FLAT_PRINT, Challenge.TURN_HEAD, seed=3)
    refused = service.checkout(capture, "0143", challenge_frames=still, challenge=Challenge.TURN_HEAD)
    assert not refused.accepted and refused.liveness.reasons == (LivenessReason.NO_TURN,)
