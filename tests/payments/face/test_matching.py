"""Matching: 1:few in the phone bucket, 1:N, step-up near the threshold, cache invalidation on deletion."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from payments.face.matching import CandidateCache, MatchMode, MatchPolicy, embedding_distances
from payments.face.service import FacePayService
from payments.face.store import Consent, FaceTemplateStore, StoredTemplate, face_templates
from tests.payments.face.conftest import Clock, face_embedding, make_consent, random_embedding

FAR_FUTURE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def test_vectorised_distances_equal_the_direct_norm(rng: np.random.Generator) -> None:
    matrix = rng.normal(0, 0.1, (50, 128)).astype(np.float32)
    probe = rng.normal(0, 0.1, 128)
    expected = np.linalg.norm(matrix - probe.astype(np.float32), axis=1)
    np.testing.assert_allclose(embedding_distances(matrix, probe), expected, atol=1e-5)


def test_cache_reuses_rows_and_never_returns_an_evicted_template(rng: np.random.Generator) -> None:
    vectors = [random_embedding(rng) for _ in range(100)]
    cache = CandidateCache(
        StoredTemplate(f"t{i}", f"s{i}", "bucket-a" if i % 2 else "bucket-b", None, vector, FAR_FUTURE)
        for i, vector in enumerate(vectors)
    )
    nearest, distance, count = cache.nearest(vectors[7], None)
    assert nearest.shopper_id == "s7" and distance < 1e-3 and count == 100
    assert cache.evict("s7") and "s7" not in cache and not cache.evict("s7")
    nearest, distance, count = cache.nearest(vectors[7], None)
    assert nearest.shopper_id != "s7" and distance > 0.5 and count == 99
    nearest, _, count = cache.nearest(vectors[8], "bucket-b")
    assert nearest.shopper_id == "s8" and count == 50
    assert cache.nearest(vectors[8], "bucket-absent") == (None, None, 0)


@pytest.fixture
def service(sqlite_store: FaceTemplateStore) -> FacePayService:
    return FacePayService(sqlite_store)


def _enroll(store: FaceTemplateStore, consent: Consent, people: dict[str, tuple[str, str]]) -> None:
    for shopper_id, (photo, digits) in people.items():
        store.enroll(shopper_id, face_embedding(photo), consent=consent, phone_last4=digits)


PEOPLE = {
    "obama": ("obama.jpg", "1234"),
    "biden": ("knn_examples/train/biden/biden2.jpg", "1234"),
    "rose": ("knn_examples/train/rose_leslie/img1.jpg", "9876"),
    "kit": ("knn_examples/train/kit_harington/john1.jpeg", "5555"),
}


@pytest.mark.shared_data
def test_one_to_few_finds_the_shopper_only_with_their_digits(sqlite_store: FaceTemplateStore, consent: Consent) -> None:
    _enroll(sqlite_store, consent, PEOPLE)
    service = FacePayService(sqlite_store)  # the cache is filled from the encrypted store
    probe = face_embedding("obama3.jpg")
    result = service.match(probe, "1234")
    assert result.matched and result.shopper_id == "obama" and result.mode is MatchMode.ONE_TO_FEW
    assert result.candidates == 2 and result.distance < service.policy.threshold
    wrong_digits = service.match(probe, "9876")
    assert not wrong_digits.matched and wrong_digits.shopper_id is None and wrong_digits.candidates == 1
    one_to_n = service.match(face_embedding("knn_examples/train/rose_leslie/img2.jpg"), None)
    assert one_to_n.matched and one_to_n.shopper_id == "rose" and one_to_n.candidates == 4
    impostor = service.match(face_embedding("biden.jpg"), "9876")
    assert not impostor.matched
    events = [(entry.subject, entry.details["matched"]) for entry in sqlite_store.audit.entries(event="face.match_attempt")]
    assert events == [("obama", True), ("unmatched", False), ("rose", True), ("unmatched", False)]
    assert all("embedding" not in entry.details for entry in sqlite_store.audit.entries())


@pytest.mark.shared_data
def test_step_up_is_asked_near_the_threshold(sqlite_store: FaceTemplateStore, consent: Consent) -> None:
    _enroll(sqlite_store, consent, {"alex": ("alex-lacamoire.png", "4321")})
    probe = face_embedding("knn_examples/test/alex_lacamoire1.jpg")
    distance = float(np.linalg.norm(probe - face_embedding("alex-lacamoire.png")))
    wide = FacePayService(sqlite_store, policy=MatchPolicy(threshold=0.6, step_up_margin=0.6 - distance + 0.01))
    narrow = FacePayService(sqlite_store, policy=MatchPolicy(threshold=0.6, step_up_margin=0.6 - distance - 0.01))
    assert wide.match(probe, "4321").needs_step_up and wide.match(probe, "4321").matched
    assert not narrow.match(probe, "4321").needs_step_up


@pytest.mark.shared_data
def test_deletion_clears_the_cache_and_a_stale_cache_elsewhere_never_matches(
    sqlite_store: FaceTemplateStore, consent: Consent
) -> None:
    _enroll(sqlite_store, consent, PEOPLE)
    kiosk = FacePayService(sqlite_store)
    admin = FacePayService(sqlite_store)
    probe = face_embedding("obama3.jpg")
    assert kiosk.match(probe, "1234").shopper_id == "obama"
    admin.delete("obama")
    assert "obama" not in admin.cache and "obama" in kiosk.cache  # another process's cache is stale ...
    result = kiosk.match(probe, "1234")
    assert not result.matched and "obama" not in kiosk.cache  # ... but the store check evicts it
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(face_templates.select().where(face_templates.c.shopper_id == "obama")).first() is None


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="threshold"):
        MatchPolicy(threshold=0)
    with pytest.raises(ValueError, match="step_up_margin"):
        MatchPolicy(threshold=0.5, step_up_margin=0.6)


@pytest.mark.shared_data
def test_retention_sweep_through_the_service_empties_the_cache(sqlite_store: FaceTemplateStore, clock: Clock) -> None:
    _enroll(sqlite_store, make_consent(clock, retention_days=7), {"kit": PEOPLE["kit"]})
    service = FacePayService(sqlite_store)
    assert "kit" in service.cache
    clock.advance(8)
    assert service.sweep() == ["kit"]
    assert "kit" not in service.cache and len(service.cache) == 0
    assert not service.match(face_embedding("knn_examples/train/kit_harington/john2.jpeg"), "5555").matched
