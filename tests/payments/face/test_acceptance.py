"""Acceptance: never a false match on ../shared/acceptance/faces (other people, group photos, no face).

The threshold is NOT tuned here (it comes from ../shared/data/faces, see
payments/face/matching.py); this only checks that it holds on people we never saw.
"""
from __future__ import annotations

import csv
import functools
import itertools

import numpy as np
import pytest

from payments.errors import FaceQualityError, FaceQualityReason
from payments.face.capture import capture_face, compute_embedding, load_image
from payments.face.matching import DEFAULT_THRESHOLD
from payments.face.service import FacePayService
from payments.face.store import FaceTemplateStore
from tests.conftest import shared_path
from tests.payments.face.conftest import face_embedding, make_consent

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

GALLERY = {  # one enrolled photo per person in ../shared/data/faces, all behind the same phone digits
    "obama": "obama.jpg",
    "biden": "knn_examples/train/biden/biden2.jpg",
    "alex": "alex-lacamoire.png",
    "lin": "lin-manuel-miranda.png",
    "kit": "knn_examples/train/kit_harington/john1.jpeg",
    "rose": "knn_examples/train/rose_leslie/img1.jpg",
}
DIGITS = "0000"


@functools.lru_cache(maxsize=1)
def _identities() -> dict[str, str]:
    with (shared_path("acceptance", "faces") / "identities.csv").open(newline="") as handle:
        return {row["file"]: row["identity"] for row in csv.DictReader(handle)}


@functools.cache
def _probe(name: str) -> np.ndarray | FaceQualityReason:
    """The embedding of an acceptance photo, or why the quality gate refused it."""
    try:
        return compute_embedding(capture_face(load_image(shared_path("acceptance", "faces", name))))
    except FaceQualityError as exc:
        return exc.reason


@pytest.fixture
def gallery_service(sqlite_store: FaceTemplateStore, clock) -> FacePayService:
    for shopper_id, photo in GALLERY.items():
        sqlite_store.enroll(shopper_id, face_embedding(photo), consent=make_consent(clock), phone_last4=DIGITS)
    return FacePayService(sqlite_store)


def test_no_acceptance_photo_matches_an_enrolled_shopper(gallery_service: FacePayService) -> None:
    identities = _identities()
    for name, identity in identities.items():
        probe = _probe(name)
        if identity == "multiple":
            assert probe is FaceQualityReason.MULTIPLE_FACES, name
        elif identity == "no_face":
            assert probe is FaceQualityReason.NO_FACE, name
        if isinstance(probe, FaceQualityReason):
            continue
        for digits in (DIGITS, None):
            result = gallery_service.match(probe, digits)
            assert not result.matched, f"{name} falsely matched {result.shopper_id} at {result.distance:.3f}"


def test_different_acceptance_people_never_match_each_other() -> None:
    identities = _identities()
    probes = {name: _probe(name) for name in identities}
    embedded = {name: vector for name, vector in probes.items() if isinstance(vector, np.ndarray)}
    assert len(embedded) >= 20
    for a, b in itertools.combinations(embedded, 2):
        if identities[a] != identities[b]:
            distance = float(np.linalg.norm(embedded[a] - embedded[b]))
            assert distance > DEFAULT_THRESHOLD, f"{a} and {b} are different people but {distance:.3f} apart"
