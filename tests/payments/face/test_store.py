"""Encrypted template storage: consent, sealing, deletion, retention, key rotation (SQLite and PostgreSQL)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from omnifit.errors import ErrorCode
from payments.errors import ConsentError, EnrollmentError, KeyManagementError, TemplateNotFoundError
from payments.face.keys import KeyEncryptionKey, KeyRing
from payments.face.store import (
    Channel,
    Consent,
    DeletionReason,
    FaceTemplateStore,
    face_consents,
    face_keys,
    face_templates,
)
from tests.payments.face.conftest import Clock, make_consent, random_embedding


def _rows(store: FaceTemplateStore, table: sa.Table) -> list[sa.Row]:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(table)).all()


def test_enrolled_template_round_trips_and_is_sealed(store: FaceTemplateStore, consent: Consent, rng: np.random.Generator) -> None:
    embedding = random_embedding(rng)
    template_id = store.enroll("shopper-1", embedding, consent=consent, phone_last4="1234", payment_token="tok_visa_approve")
    [loaded] = store.load_templates()
    assert loaded.template_id == template_id and loaded.shopper_id == "shopper-1"
    np.testing.assert_array_equal(loaded.embedding, embedding)
    [row] = _rows(store, face_templates)
    raw = embedding.astype("<f8").tobytes()
    assert raw[:16] not in row.ciphertext and raw[:16] not in row.wrapped_key
    assert len(row.ciphertext) == 12 + len(raw) + 16
    # Keyed, not the digits nor their plain hash (a hex digest may contain "1234" by chance: 1 in ~1000).
    assert row.phone_bucket not in {"1234", hashlib.sha256(b"1234").hexdigest()}
    assert row.phone_bucket == store.phone_bucket("1234")
    assert row.payment_token == "tok_visa_approve"


def test_consent_is_recorded_with_purpose_channel_and_retention(store: FaceTemplateStore, clock: Clock, rng: np.random.Generator) -> None:
    store.enroll("shopper-1", random_embedding(rng), consent=make_consent(clock, 30, Channel.APP), phone_last4="0042")
    [row] = _rows(store, face_consents)
    assert (row.purpose, row.channel, row.retention_days) == ("face pay at Omnifit checkouts", "app", 30)
    assert row.granted_at == clock.now and (row.expires_at - row.granted_at).days == 30
    assert [entry.event for entry in store.audit.entries(subject="shopper-1")] == ["face.enrolled"]


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"consent": None}, ConsentError, "consent"),
        ({"payment_token": "4111 1111 1111 1111"}, EnrollmentError, "payment_token"),
        ({"payment_token": "tok_4111111111111111"}, EnrollmentError, "payment_token"),
        ({"phone_last4": "12a4"}, EnrollmentError, "phone_last4"),
        ({"shopper_id": "bad id with spaces"}, EnrollmentError, "shopper_id"),
    ],
)
def test_bad_enrollment_is_refused_and_stores_nothing(
    store: FaceTemplateStore, consent: Consent, rng: np.random.Generator, kwargs: dict, error: type, field: str
) -> None:
    arguments = {"shopper_id": "shopper-1", "consent": consent, "phone_last4": "1234", "payment_token": "tok_ok_12345"}
    arguments.update(kwargs)
    shopper_id = arguments.pop("shopper_id")
    with pytest.raises(error) as caught:
        store.enroll(shopper_id, random_embedding(rng), **arguments)
    assert caught.value.field == field
    assert _rows(store, face_templates) == [] and _rows(store, face_consents) == []
    assert list(store.audit.entries()) == []


@pytest.mark.parametrize("retention", [0, 10_000])
def test_consent_needs_a_bounded_retention(clock: Clock, retention: int) -> None:
    with pytest.raises(ConsentError, match="retention"):
        Consent("face pay", Channel.KIOSK, retention, clock())


def test_second_enrollment_of_a_shopper_is_a_conflict(store: FaceTemplateStore, consent: Consent, rng: np.random.Generator) -> None:
    store.enroll("shopper-1", random_embedding(rng), consent=consent, phone_last4="1234")
    with pytest.raises(EnrollmentError) as caught:
        store.enroll("shopper-1", random_embedding(rng), consent=consent, phone_last4="1234")
    assert caught.value.code is ErrorCode.CONFLICT
    assert len(_rows(store, face_templates)) == 1 and len(_rows(store, face_consents)) == 1


def test_ciphertext_moved_to_another_shopper_does_not_open(store: FaceTemplateStore, consent: Consent, rng: np.random.Generator) -> None:
    store.enroll("alice", random_embedding(rng), consent=consent, phone_last4="1111")
    store.enroll("bob", random_embedding(rng), consent=consent, phone_last4="2222")
    rows = {row.shopper_id: row for row in _rows(store, face_templates)}
    with store.engine.begin() as conn:
        conn.execute(face_templates.update().where(face_templates.c.shopper_id == "bob").values(
            ciphertext=rows["alice"].ciphertext, wrapped_key=rows["alice"].wrapped_key))
    with pytest.raises(KeyManagementError, match="does not open"):
        store.load_templates(phone_last4="2222")


def test_delete_on_request_leaves_no_template_and_ends_consent(
    store: FaceTemplateStore, consent: Consent, rng: np.random.Generator
) -> None:
    store.enroll("shopper-1", random_embedding(rng), consent=consent, phone_last4="1234", payment_token="tok_visa_approve")
    [sealed] = _rows(store, face_templates)
    template_id = store.delete("shopper-1")
    if store.engine.dialect.name == "sqlite":  # no copy of the sealed template left in the file's free pages
        data = Path(store.engine.url.database).read_bytes()
        assert sealed.ciphertext not in data and sealed.wrapped_key not in data
    assert _rows(store, face_templates) == [] and store.load_templates() == []
    assert not store.is_live(template_id)
    [consent_row] = _rows(store, face_consents)
    assert consent_row.ended_reason == DeletionReason.REQUEST.value
    assert [entry.event for entry in store.audit.entries(subject="shopper-1")] == ["face.enrolled", "face.deleted"]
    with pytest.raises(TemplateNotFoundError):
        store.delete("shopper-1")


def test_retention_sweep_deletes_only_expired_templates(store: FaceTemplateStore, clock: Clock, rng: np.random.Generator) -> None:
    store.enroll("short", random_embedding(rng), consent=make_consent(clock, 30), phone_last4="1234")
    store.enroll("long", random_embedding(rng), consent=make_consent(clock, 365), phone_last4="1234")
    clock.advance(29)
    assert store.sweep_expired() == []
    clock.advance(2)
    assert [t.shopper_id for t in store.load_templates()] == ["long"]  # expired ones never load
    assert store.sweep_expired() == ["short"]
    assert [row.shopper_id for row in _rows(store, face_templates)] == ["long"]
    assert store.audit.verify().ok


def test_kek_rotation_rewraps_every_data_key_and_retires_the_old_key(
    store: FaceTemplateStore, consent: Consent, kek: KeyEncryptionKey, clock: Clock, rng: np.random.Generator
) -> None:
    embeddings = {f"shopper-{i}": random_embedding(rng) for i in range(3)}
    for shopper_id, embedding in embeddings.items():
        store.enroll(shopper_id, embedding, consent=consent, phone_last4="5678")
    before = {row.shopper_id: row for row in _rows(store, face_templates)}
    new_kek = KeyEncryptionKey.generate("kek-test-2")
    assert store.rotate_kek(new_kek) == 3
    after = {row.shopper_id: row for row in _rows(store, face_templates)}
    assert all(row.kek_id == "kek-test-2" for row in after.values())
    assert all(after[s].wrapped_key != before[s].wrapped_key and after[s].ciphertext == before[s].ciphertext for s in after)
    statuses = {row.key_id: row.status for row in _rows(store, face_keys) if row.purpose == "kek"}
    assert statuses == {"kek-test-1": "retired", "kek-test-2": "active"}
    reopened = FaceTemplateStore(store.engine, KeyRing.single(new_kek), clock=clock)
    loaded = {t.shopper_id: t.embedding for t in reopened.load_templates(phone_last4="5678")}
    assert all(np.array_equal(loaded[s], embeddings[s]) for s in embeddings)
    with pytest.raises(KeyManagementError, match="retired"):
        FaceTemplateStore(store.engine, KeyRing.single(kek), clock=clock)
    [rotation] = store.audit.entries(event="face.key_rotated")
    assert rotation.details == {"retired_kek": "kek-test-1", "rewrapped_data_keys": 3}


def test_a_different_key_under_a_known_id_or_an_unknown_key_is_refused(store: FaceTemplateStore, clock: Clock) -> None:
    with pytest.raises(KeyManagementError, match="does not match"):
        FaceTemplateStore(store.engine, KeyRing.single(KeyEncryptionKey.generate("kek-test-1")), clock=clock)
    with pytest.raises(KeyManagementError, match="rotate"):
        FaceTemplateStore(store.engine, KeyRing.single(KeyEncryptionKey.generate("kek-other")), clock=clock)


def test_concurrent_enrollments_keep_the_audit_chain_and_refuse_a_double_enrollment(
    db_url: str, ring: KeyRing, clock: Clock, consent: Consent, rng: np.random.Generator
) -> None:
    import threading

    stores = [FaceTemplateStore(db_url, ring, clock=clock) for _ in range(3)]
    outcomes: list[object] = []

    def enroll(store: FaceTemplateStore, worker: int) -> None:
        for index in range(4):
            shopper_id = "same-shopper" if index == 0 else f"shopper-{worker}-{index}"
            try:
                outcomes.append(store.enroll(shopper_id, random_embedding(np.random.default_rng(worker * 10 + index)),
                                             consent=consent, phone_last4="1234"))
            except EnrollmentError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=enroll, args=(store, worker)) for worker, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(ErrorCode.CONFLICT) == 2 and len(outcomes) == 12
    assert len(_rows(stores[0], face_templates)) == 10
    assert stores[0].audit.verify().ok and stores[0].audit.verify().entries == 10
    for store in stores:
        store.engine.dispose()
