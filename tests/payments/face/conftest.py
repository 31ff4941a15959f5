"""Fixtures for the face-pay tests: key rings, stores on both databases, real embeddings."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from payments.face.keys import KeyEncryptionKey, KeyRing
from payments.face.store import Channel, Consent, FaceTemplateStore
from tests.conftest import shared_path


class Clock:
    """A settable clock (timezone-aware UTC) so retention can be tested without waiting."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, days: float) -> None:
        self.now += dt.timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kek() -> KeyEncryptionKey:
    return KeyEncryptionKey.generate("kek-test-1")


@pytest.fixture
def ring(kek: KeyEncryptionKey) -> KeyRing:
    return KeyRing.single(kek)


@pytest.fixture
def store(db_url: str, ring: KeyRing, clock: Clock) -> Iterator[FaceTemplateStore]:
    face_store = FaceTemplateStore(db_url, ring, clock=clock)
    yield face_store
    face_store.close()


@pytest.fixture
def sqlite_store(sqlite_url: str, ring: KeyRing, clock: Clock) -> Iterator[FaceTemplateStore]:
    face_store = FaceTemplateStore(sqlite_url, ring, clock=clock)
    yield face_store
    face_store.close()


def make_consent(clock: Clock, retention_days: int = 365, channel: Channel = Channel.KIOSK) -> Consent:
    return Consent("face pay at Omnifit checkouts", channel, retention_days, clock())


@pytest.fixture
def consent(clock: Clock) -> Consent:
    return make_consent(clock)


def random_embedding(rng: np.random.Generator) -> np.ndarray:
    """A vector shaped like a dlib descriptor (128 values, norm about 1)."""
    return rng.normal(0.0, 0.09, 128)


def face_file(name: str) -> Path:
    return shared_path("data", "faces", name)


@functools.cache
def face_embedding(name: str) -> np.ndarray:
    """The real dlib embedding of one photo from ../shared/data/faces (computed once per run)."""
    from payments.face.capture import capture_face, compute_embedding, load_image

    return compute_embedding(capture_face(load_image(face_file(name))))
