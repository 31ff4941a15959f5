"""FaceService and payment PINs over gRPC with a real server on both databases: consented enrollment
from a kiosk and the app, identification with the phone digits, the per-kiosk limit, deletion that
leaves no template, the audit log, face pay through a match token, PIN set / wrong / locked."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import grpc
import numpy as np
import pytest
import sqlalchemy as sa

from cloud.domain.types import now_ms
from cloud.server import ServerConfig
from cloud.storage import schema
from payments.audit import AuditLog
from payments.face.store import face_consents, face_templates
from proto.omnifit.v1 import cart_pb2, face_pb2, face_pb2_grpc, pairing_pb2, payment_pb2, payment_pb2_grpc, profile_pb2
from tests.cloud.conftest import OTHER_STORE, STORE, ServerThread, StockedSkus, Stubs, bearer, stubs_for

PASSWORD = "correct horse 1"
APPROVE = "tok_visa_approve"
S = payment_pb2.PaymentIntentStatus


def _code(call, *args, **kwargs) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as err:
        call(*args, **kwargs)
    return err.value.code(), err.value.details()


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ServerThread]:
    config = ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=4, face_key_file=tmp_path / "face-kek.json")
    running = ServerThread(config).start()
    yield running
    running.stop()


@pytest.fixture
def stubs(server: ServerThread) -> Iterator[Stubs]:
    with grpc.insecure_channel(server.address) as channel:
        yield stubs_for(channel)


@pytest.fixture
def faces(stubs: Stubs) -> face_pb2_grpc.FaceServiceStub:
    return face_pb2_grpc.FaceServiceStub(stubs.channel)


@pytest.fixture
def pay(stubs: Stubs) -> payment_pb2_grpc.PaymentServiceStub:
    return payment_pb2_grpc.PaymentServiceStub(stubs.channel)


@pytest.fixture
def kiosk(server: ServerThread) -> str:
    return server.services.accounts.issue_device_token(STORE).token


def _shopper(stubs: Stubs, email: str, phone: str = "+8613800138000") -> tuple[str, str]:
    request = profile_pb2.RegisterShopperRequest(email=email, password=PASSWORD, phone=phone, display_name="T")
    stubs.accounts.RegisterShopper(request)
    session = stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password=PASSWORD))
    return session.token, session.subject_id


def _staff(server: ServerThread, stubs: Stubs, staff_id: str = "ops-lin") -> str:
    server.services.accounts.create_staff(staff_id, PASSWORD)
    return stubs.accounts.StaffSignIn(profile_pb2.StaffSignInRequest(staff_id=staff_id, password=PASSWORD)).token


def _face(seed: int) -> np.ndarray:
    """A unit-scale 128-d vector (dlib embeddings of different people lie ~0.6-1.0 apart)."""
    vector = np.random.default_rng(seed).normal(size=128)
    return vector / np.linalg.norm(vector) * 0.7


def _near(face: np.ndarray, distance: float, seed: int = 99) -> np.ndarray:
    direction = np.random.default_rng(seed).normal(size=128)
    return face + direction / np.linalg.norm(direction) * distance


def _consent(**changes: object) -> face_pb2.FaceConsent:
    values = {"purpose": "face pay at Omnifit checkouts", "granted_at_ms": now_ms(), "retention_days": 365, **changes}
    return face_pb2.FaceConsent(**values)


def _enroll(faces, token: str, face: np.ndarray, key: str = "enroll-1", cart_id: str = "", **fields):  # type: ignore[no-untyped-def]
    values = {"consent": _consent(), "payment_token": APPROVE, **fields}
    request = face_pb2.EnrollFaceRequest(idempotency_key=key, cart_id=cart_id, embedding=face.tolist(), **values)
    return faces.EnrollFace(request, metadata=bearer(token))


def _identify(faces, token: str, face: np.ndarray, digits: str = "8000") -> face_pb2.FaceMatch:  # type: ignore[no-untyped-def]
    return faces.IdentifyFace(face_pb2.IdentifyFaceRequest(embedding=face.tolist(), phone_last4=digits),
                              metadata=bearer(token))


def _paired_cart(stubs: Stubs, kiosk: str, shopper: str, sku: str) -> cart_pb2.Cart:
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="new", store_id=STORE), metadata=bearer(kiosk))
    add = cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="add", sku=sku, quantity=1, pickup_only=True)
    stubs.carts.AddLine(add, metadata=bearer(kiosk))
    code = stubs.pairing.CreatePairingCode(pairing_pb2.CreatePairingCodeRequest(cart_id=cart.cart_id), metadata=bearer(kiosk))
    return stubs.pairing.ClaimPairingCode(pairing_pb2.ClaimPairingCodeRequest(code=code.code), metadata=bearer(shopper)).cart


def _templates(server: ServerThread, shopper_id: str) -> list:
    with server.running.payments.engine.connect() as conn:
        return conn.execute(sa.select(face_templates).where(face_templates.c.shopper_id == shopper_id)).all()


def _set_pin(stubs: Stubs, token: str, pin: str, password: str = PASSWORD) -> profile_pb2.PaymentPinStatus:
    return stubs.accounts.SetPaymentPin(profile_pb2.SetPaymentPinRequest(password=password, pin=pin), metadata=bearer(token))


# ---------------------------------------------------------------------- enrollment


def test_the_app_enrolls_its_shopper_and_a_kiosk_identifies_them_with_the_phone_digits(
    server: ServerThread, stubs: Stubs, faces, kiosk: str
) -> None:
    token, shopper_id = _shopper(stubs, "ann@example.com")
    enrolled = _enroll(faces, token, _face(1))
    assert (enrolled.shopper_id, enrolled.channel, enrolled.phone_hint) == (shopper_id, "app", "...8000")
    assert enrolled.payment_method == "Visa ending 4242" and enrolled.template_id.startswith("tpl_")
    assert enrolled.expires_at_ms > now_ms() + 364 * 86_400_000
    match = _identify(faces, kiosk, _near(_face(1), 0.1))
    assert match.matched and match.shopper_id == shopper_id and 0.09 < match.distance < 0.11
    assert match.threshold == pytest.approx(0.52) and not match.step_up_required and match.match_token
    assert match.match_expires_at_ms > now_ms()
    row = _templates(server, shopper_id)[0]
    assert _face(1).astype("<f8").tobytes() not in row.ciphertext  # sealed, not stored as is


def test_a_miss_names_nobody_and_the_wrong_digits_find_no_one(stubs: Stubs, faces, kiosk: str) -> None:
    token, _ = _shopper(stubs, "ben@example.com")
    _enroll(faces, token, _face(2))
    for probe, digits in ((_face(2), "1234"), (_face(3), "8000")):
        miss = _identify(faces, kiosk, probe, digits)
        assert not miss.matched
        assert (miss.shopper_id, miss.distance, miss.match_token, miss.payment_method, miss.step_up_required) == (
            "", 0.0, "", "", False)


def test_a_kiosk_enrolls_the_shopper_who_owns_its_paired_cart_only(
    stubs: Stubs, faces, kiosk: str, skus: StockedSkus, server: ServerThread
) -> None:
    token, shopper_id = _shopper(stubs, "cai@example.com")
    cart = _paired_cart(stubs, kiosk, token, skus.plenty)
    enrolled = _enroll(faces, kiosk, _face(4), cart_id=cart.cart_id)
    assert (enrolled.shopper_id, enrolled.channel) == (shopper_id, "kiosk")
    anonymous = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="anon", store_id=STORE), metadata=bearer(kiosk))
    status, details = _code(_enroll, faces, kiosk, _face(5), key="e2", cart_id=anonymous.cart_id)
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "pair" in details
    other_kiosk = server.services.accounts.issue_device_token(OTHER_STORE).token
    assert _code(_enroll, faces, other_kiosk, _face(5), key="e3", cart_id=cart.cart_id)[0] in (
        grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
    assert _code(_enroll, faces, kiosk, _face(5), key="e4")[0] == grpc.StatusCode.INVALID_ARGUMENT  # no cart named


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({"consent": None}, grpc.StatusCode.FAILED_PRECONDITION, "consent"),
    ({"consent": _consent(granted_at_ms=now_ms() - 3 * 86_400_000)}, grpc.StatusCode.FAILED_PRECONDITION, "granted_at"),
    ({"consent": _consent(retention_days=5000)}, grpc.StatusCode.FAILED_PRECONDITION, "retention"),
    ({"consent": _consent(purpose="  ")}, grpc.StatusCode.FAILED_PRECONDITION, "purpose"),
    ({"payment_token": "4111 1111 1111 1111"}, grpc.StatusCode.INVALID_ARGUMENT, "card number"),
    ({"payment_token": ""}, grpc.StatusCode.INVALID_ARGUMENT, "payment token"),
])
def test_enrollment_without_valid_consent_or_token_stores_nothing(
    server: ServerThread, stubs: Stubs, faces, fields: dict, status: grpc.StatusCode, words: str
) -> None:
    token, shopper_id = _shopper(stubs, "dee@example.com")
    request_fields = {key: value for key, value in fields.items() if value is not None}
    request = face_pb2.EnrollFaceRequest(idempotency_key="k", embedding=_face(6).tolist(),
                                         **{"consent": _consent(), "payment_token": APPROVE, **request_fields})
    if fields.get("consent", 1) is None:
        request.ClearField("consent")
    got, details = _code(faces.EnrollFace, request, metadata=bearer(token))
    assert got == status and words in details
    assert _templates(server, shopper_id) == []


@pytest.mark.parametrize("bad_token", ["12345678", "4111 1111 1111 1111", "tok_4111111111111111", "short"])
def test_a_token_create_intent_refuses_is_refused_at_enrollment_too(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus, bad_token: str
) -> None:
    """Enrollment must not store a token that face pay could never pay with (an all-digit token did)."""
    token, shopper_id = _shopper(stubs, "dan@example.com")
    cart = _paired_cart(stubs, kiosk, token, skus.plenty)
    create = payment_pb2.CreateIntentRequest(idempotency_key="i-bad", cart_id=cart.cart_id, amount=cart.subtotal,
                                             payment_token=bad_token)
    got, details = _code(pay.CreateIntent, create, metadata=bearer(kiosk))
    assert got == grpc.StatusCode.INVALID_ARGUMENT and "payment token" in details
    enroll = face_pb2.EnrollFaceRequest(idempotency_key="e-bad", embedding=_face(8).tolist(), consent=_consent(),
                                        payment_token=bad_token)
    refused, why = _code(faces.EnrollFace, enroll, metadata=bearer(token))
    assert refused == got and why.endswith(details.split(": ", 1)[-1])  # the same rule, word for word
    assert _templates(server, shopper_id) == []


def test_bad_embeddings_staff_and_forged_tokens_are_refused(server: ServerThread, stubs: Stubs, faces) -> None:
    token, _ = _shopper(stubs, "eve@example.com")
    for embedding in ([0.1] * 127, [float("nan")] * 128):
        request = face_pb2.EnrollFaceRequest(idempotency_key="k", embedding=embedding, consent=_consent(), payment_token=APPROVE)
        assert _code(faces.EnrollFace, request, metadata=bearer(token))[0] == grpc.StatusCode.INVALID_ARGUMENT
    staff = _staff(server, stubs)
    assert _code(_enroll, faces, staff, _face(7))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(_enroll, faces, token[:-4] + "AAAA", _face(7))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert _code(_identify, faces, "ofv1.forged.token", _face(7))[0] == grpc.StatusCode.UNAUTHENTICATED


def test_a_replayed_enrollment_returns_the_first_answer_and_stores_one_template(
    server: ServerThread, stubs: Stubs, faces
) -> None:
    token, shopper_id = _shopper(stubs, "fay@example.com")
    first = _enroll(faces, token, _face(8), key="same")
    assert _enroll(faces, token, _face(8), key="same") == first
    assert len(_templates(server, shopper_id)) == 1
    status, _ = _code(_enroll, faces, token, _face(9), key="same")
    assert status == grpc.StatusCode.INVALID_ARGUMENT  # the key with another request
    status, details = _code(_enroll, faces, token, _face(9), key="other")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "already enrolled" in details


# ---------------------------------------------------------------------- identification


def test_only_kiosks_identify_and_misses_are_limited_per_kiosk(server: ServerThread, stubs: Stubs, faces, kiosk: str) -> None:
    token, _ = _shopper(stubs, "gus@example.com")
    _enroll(faces, token, _face(10))
    assert _code(_identify, faces, token, _face(10))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(_identify, faces, kiosk, _face(10), "12a4")[0] == grpc.StatusCode.INVALID_ARGUMENT
    left = [_identify(faces, kiosk, _face(50 + n)).attempts_left for n in range(5)]
    assert left == [4, 3, 2, 1, 0]
    status, details = _code(_identify, faces, kiosk, _face(10))
    assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "card" in details
    other_kiosk = server.services.accounts.issue_device_token(STORE).token  # another kiosk is not paused
    assert _identify(faces, other_kiosk, _face(10)).matched



def test_misses_sent_at_once_get_no_more_tries_than_the_limit(server: ServerThread, stubs: Stubs, faces, kiosk: str) -> None:
    """A kiosk's identifications sent together must not all pass the pause check before any miss is counted."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from cloud.domain.faces import MAX_FAILED_IDENTIFICATIONS

    token, _ = _shopper(stubs, "hal@example.com")
    _enroll(faces, token, _face(11))
    tries = 3 * MAX_FAILED_IDENTIFICATIONS
    start = Barrier(tries)

    def miss(n: int) -> grpc.StatusCode:
        start.wait()
        try:
            assert not _identify(faces, kiosk, _face(70 + n)).matched
            return grpc.StatusCode.OK
        except grpc.RpcError as exc:
            return exc.code()

    with ThreadPoolExecutor(tries) as pool:
        codes = list(pool.map(miss, range(tries)))
    assert codes.count(grpc.StatusCode.OK) <= MAX_FAILED_IDENTIFICATIONS, codes
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == tries - codes.count(grpc.StatusCode.OK)


def test_every_enrollment_match_and_deletion_is_in_the_verified_audit_log(
    server: ServerThread, stubs: Stubs, faces, kiosk: str
) -> None:
    token, shopper_id = _shopper(stubs, "hal@example.com")
    _enroll(faces, token, _face(11))
    _identify(faces, kiosk, _face(11))
    _identify(faces, kiosk, _face(12))
    faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="d"), metadata=bearer(token))
    log = AuditLog(server.running.payments.engine)
    events = [(entry.event, entry.subject) for entry in log.entries()]
    assert events == [("face.enrolled", shopper_id), ("face.match_attempt", shopper_id),
                      ("face.match_attempt", "unmatched"), ("face.deleted", shopper_id)]
    attempt = next(log.entries(event="face.match_attempt"))
    assert attempt.details["device_id"].startswith("dev_") and attempt.details["store_id"] == STORE
    assert log.verify().ok


# ---------------------------------------------------------------------- deletion


def test_deletion_leaves_no_template_and_the_face_no_longer_matches(
    server: ServerThread, stubs: Stubs, faces, kiosk: str
) -> None:
    token, shopper_id = _shopper(stubs, "ida@example.com")
    _enroll(faces, token, _face(13))
    other_token, other_id = _shopper(stubs, "jon@example.com")
    request = face_pb2.DeleteFaceDataRequest(idempotency_key="d1", shopper_id=shopper_id)
    assert _code(faces.DeleteFaceData, request, metadata=bearer(other_token))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(faces.DeleteFaceData, request, metadata=bearer(kiosk))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _identify(faces, kiosk, _face(13)).matched
    done = faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="d1"), metadata=bearer(token))
    assert done.deleted and done.shopper_id == shopper_id and done.template_id.startswith("tpl_")
    assert faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="d1"), metadata=bearer(token)) == done
    again = faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="d2"), metadata=bearer(token))
    assert not again.deleted and again.template_id == ""
    assert _templates(server, shopper_id) == []
    with server.running.payments.engine.connect() as conn:
        consent = conn.execute(sa.select(face_consents).where(face_consents.c.shopper_id == shopper_id)).one()
    assert consent.ended_reason == "request" and consent.ended_at is not None
    assert not _identify(faces, kiosk, _face(13)).matched
    status = faces.GetFaceEnrollment(face_pb2.GetFaceEnrollmentRequest(), metadata=bearer(token))
    assert (status.shopper_id, status.enrolled) == (shopper_id, False)
    assert other_id != shopper_id


def test_staff_delete_and_look_up_anyone_and_the_deletion_is_audited(server: ServerThread, stubs: Stubs, faces) -> None:
    token, shopper_id = _shopper(stubs, "kim@example.com")
    _enroll(faces, token, _face(14))
    staff = _staff(server, stubs)
    status = faces.GetFaceEnrollment(face_pb2.GetFaceEnrollmentRequest(shopper_id=shopper_id), metadata=bearer(staff))
    assert status.enrolled and status.enrollment.phone_hint == "...8000"
    by_email = faces.GetFaceEnrollment(face_pb2.GetFaceEnrollmentRequest(email="Kim@Example.com"), metadata=bearer(staff))
    assert by_email == status
    by_shopper = face_pb2.GetFaceEnrollmentRequest(email="kim@example.com")
    assert _code(faces.GetFaceEnrollment, by_shopper, metadata=bearer(token))[0] == grpc.StatusCode.PERMISSION_DENIED
    unknown = face_pb2.GetFaceEnrollmentRequest(email="nobody@example.com")
    assert _code(faces.GetFaceEnrollment, unknown, metadata=bearer(staff))[0] == grpc.StatusCode.NOT_FOUND
    request = face_pb2.DeleteFaceDataRequest(idempotency_key="s1")
    assert _code(faces.DeleteFaceData, request, metadata=bearer(staff))[0] == grpc.StatusCode.INVALID_ARGUMENT
    done = faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="s1", shopper_id=shopper_id),
                                metadata=bearer(staff))
    assert done.deleted and _templates(server, shopper_id) == []
    with server.running.database.read() as conn:
        rows = conn.execute(sa.select(schema.staff_audit.c.staff_id, schema.staff_audit.c.action,
                                      schema.staff_audit.c.target)).all()
    assert [tuple(row) for row in rows] == [("ops-lin", "DeleteFaceData", shopper_id)]
    deleted = next(AuditLog(server.running.payments.engine).entries(event="face.deleted"))
    assert deleted.details["requested_by"] == "staff:ops-lin"


def test_the_server_deletes_templates_whose_retention_ended(db_url: str, tmp_path: Path) -> None:
    import datetime as dt
    import time

    config = ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=2, face_key_file=tmp_path / "kek.json",
                          retention_sweep_s=0.2)
    running = ServerThread(config).start()
    try:
        with grpc.insecure_channel(running.address) as channel:
            stubs = stubs_for(channel)
            token, shopper_id = _shopper(stubs, "uma@example.com")
            _enroll(face_pb2_grpc.FaceServiceStub(channel), token, _face(20))
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        with running.running.payments.engine.begin() as conn:
            conn.execute(face_templates.update().where(face_templates.c.shopper_id == shopper_id).values(expires_at=past))
        deadline = time.monotonic() + 10
        while _templates(running, shopper_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _templates(running, shopper_id) == []
        deleted = next(AuditLog(running.running.payments.engine).entries(event="face.deleted"))
        assert (deleted.subject, deleted.details["reason"]) == (shopper_id, "retention")
    finally:
        running.stop()


# ---------------------------------------------------------------------- paying by face


def _intent_by_face(pay, kiosk: str, cart: cart_pb2.Cart, match: face_pb2.FaceMatch, key: str = "i1",  # type: ignore[no-untyped-def]
                    **fields) -> payment_pb2.PaymentIntent:
    request = payment_pb2.CreateIntentRequest(idempotency_key=key, cart_id=cart.cart_id, amount=cart.subtotal,
                                              face_match_token=match.match_token, **fields)
    return pay.CreateIntent(request, metadata=bearer(kiosk))


def test_a_face_match_pays_with_the_enrolled_method_and_a_close_match_needs_the_pin(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus
) -> None:
    token, shopper_id = _shopper(stubs, "lou@example.com")
    _set_pin(stubs, token, "4821")
    cart = _paired_cart(stubs, kiosk, token, skus.plenty)
    _enroll(faces, kiosk, _face(15), cart_id=cart.cart_id)
    close = _identify(faces, kiosk, _near(_face(15), 0.5))
    assert close.matched and close.step_up_required
    intent = _intent_by_face(pay, kiosk, cart, close)
    assert (intent.shopper_id, intent.payment_method, intent.step_up_required) == (
        shopper_id, "Face pay (Visa ending 4242)", True)
    confirm = payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id, idempotency_key="c1")  # the kiosk "forgets"
    assert _code(pay.ConfirmIntent, confirm, metadata=bearer(kiosk))[0] == grpc.StatusCode.FAILED_PRECONDITION
    confirm = payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id, idempotency_key="c2", pin="4821")
    assert pay.ConfirmIntent(confirm, metadata=bearer(kiosk)).status == S.PAYMENT_INTENT_STATUS_AUTHORIZED
    captured = pay.CaptureIntent(payment_pb2.CaptureIntentRequest(intent_id=intent.intent_id, idempotency_key="cap"),
                                 metadata=bearer(kiosk))
    assert captured.status == S.PAYMENT_INTENT_STATUS_CAPTURED and captured.order_id


def _matched(stubs: Stubs, faces, kiosk: str, sku: str, email: str, seed: int):  # type: ignore[no-untyped-def]
    """A shopper enrolled from their app, their cart paired with the kiosk, and the kiosk's match of their face:
    (shopper token, shopper id, cart, match)."""
    token, shopper_id = _shopper(stubs, email)
    cart = _paired_cart(stubs, kiosk, token, sku)
    _enroll(faces, token, _face(seed))
    return token, shopper_id, cart, _identify(faces, kiosk, _face(seed))


def test_forged_foreign_and_stale_match_tokens_are_refused(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus
) -> None:
    token, shopper_id, cart, match = _matched(stubs, faces, kiosk, skus.plenty, "max@example.com", 16)
    forged = face_pb2.FaceMatch(match_token=match.match_token[:-3] + "xyz")
    assert _code(_intent_by_face, pay, kiosk, cart, forged, key="f1")[0] == grpc.StatusCode.INVALID_ARGUMENT
    other_kiosk = server.services.accounts.issue_device_token(STORE).token
    assert _code(_intent_by_face, pay, other_kiosk, cart, match, key="f2")[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(_intent_by_face, pay, token, cart, match, key="f3")[0] == grpc.StatusCode.PERMISSION_DENIED
    status, _ = _code(_intent_by_face, pay, kiosk, cart, match, key="f4", payment_token=APPROVE)
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    status, _ = _code(_intent_by_face, pay, kiosk, cart, match, key="f5", shopper_id="shp_someone_else")
    assert status == grpc.StatusCode.INVALID_ARGUMENT
    faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="gone"), metadata=bearer(token))
    status, details = _code(_intent_by_face, pay, kiosk, cart, match, key="f6")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "deleted" in details
    assert shopper_id


def test_a_match_token_pays_once_and_a_replay_is_refused_and_audited(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus
) -> None:
    _, shopper_id, cart, match = _matched(stubs, faces, kiosk, skus.plenty, "rae@example.com", 17)
    first = _intent_by_face(pay, kiosk, cart, match, key="once")
    assert _intent_by_face(pay, kiosk, cart, match, key="once").intent_id == first.intent_id  # a retry, not a replay
    status, details = _code(_intent_by_face, pay, kiosk, cart, match, key="again")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "already used" in details and first.intent_id in details
    garbled = face_pb2.FaceMatch(match_token=match.match_token + "\u00e9")
    assert _code(_intent_by_face, pay, kiosk, cart, garbled, key="garbled")[0] == grpc.StatusCode.INVALID_ARGUMENT
    with server.running.payments.engine.connect() as conn:
        intents = conn.execute(sa.select(sa.func.count()).select_from(sa.table("payment_intents"))).scalar_one()
    assert intents == 1
    reused = list(AuditLog(server.running.payments.engine).entries(event="face.match_token_reused"))
    assert [(entry.subject, entry.details["spent_by_intent"]) for entry in reused] == [(shopper_id, first.intent_id)]


def test_an_expired_match_token_is_refused_but_a_retry_still_gets_its_intent(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kiosk whose CreateIntent answer was lost retries under the same key after the
    token's two minutes: it gets the intent it made, not 'expired'; any other use is refused."""
    import cloud.domain.faces as face_api

    _, _, cart, match = _matched(stubs, faces, kiosk, skus.plenty, "lou@example.com", 18)
    first = _intent_by_face(pay, kiosk, cart, match, key="lost-answer")
    later = now_ms() + 3 * 60_000
    monkeypatch.setattr(face_api, "now_ms", lambda: later)
    assert _intent_by_face(pay, kiosk, cart, match, key="lost-answer").intent_id == first.intent_id
    status, details = _code(_intent_by_face, pay, kiosk, cart, match, key="too-late")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "already used" in details


def test_a_match_token_unused_for_two_minutes_has_expired(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cloud.domain.faces as face_api

    _, _, cart, match = _matched(stubs, faces, kiosk, skus.plenty, "kit@example.com", 19)
    later = now_ms() + 3 * 60_000
    monkeypatch.setattr(face_api, "now_ms", lambda: later)
    status, details = _code(_intent_by_face, pay, kiosk, cart, match, key="stale")
    assert status == grpc.StatusCode.FAILED_PRECONDITION and "expired" in details


def test_two_intents_racing_on_one_match_token_charge_once(
    server: ServerThread, stubs: Stubs, faces, pay, kiosk: str, skus: StockedSkus
) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    _, shopper_id, cart, match = _matched(stubs, faces, kiosk, skus.plenty, "sol@example.com", 18)
    start = Barrier(4)

    def create(n: int) -> payment_pb2.PaymentIntent | tuple[grpc.StatusCode, str]:
        start.wait()
        try:
            return _intent_by_face(pay, kiosk, cart, match, key=f"race-{n}")
        except grpc.RpcError as exc:
            return exc.code(), exc.details()

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(create, range(4)))
    made = [outcome for outcome in outcomes if isinstance(outcome, payment_pb2.PaymentIntent)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, payment_pb2.PaymentIntent)]
    assert len(made) == 1 and {code for code, _ in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert all("identify the shopper again" in details for _, details in refused)
    intent = made[0]
    pay.ConfirmIntent(payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id, idempotency_key="c"),
                      metadata=bearer(kiosk))
    pay.CaptureIntent(payment_pb2.CaptureIntentRequest(intent_id=intent.intent_id, idempotency_key="cap"),
                      metadata=bearer(kiosk))
    with server.running.payments.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT shopper_id FROM payment_intents")).scalars().all()
    assert rows == [shopper_id]
    sandbox = server.running.payments.gateways["sandbox"]
    assert sandbox.net_charged(APPROVE, cart.subtotal.currency).minor == cart.subtotal.minor_units



def test_two_replicas_racing_on_one_match_token_make_one_intent(
    server: ServerThread, stubs: Stubs, faces, skus: StockedSkus
) -> None:
    """The spend holds across processes' worth of separate servers on one database, not only within one."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    other = ServerThread(replace(server.config, listen="127.0.0.1:0")).start()
    try:
        with grpc.insecure_channel(other.address) as channel:
            pays = (payment_pb2_grpc.PaymentServiceStub(stubs.channel), payment_pb2_grpc.PaymentServiceStub(channel))
            for round_ in range(3):
                kiosk = server.services.accounts.issue_device_token(STORE).token  # its cart key starts afresh
                _, _, cart, match = _matched(stubs, faces, kiosk, skus.plenty, f"rep{round_}@example.com", 30 + round_)
                start = Barrier(4)

                # The pool is joined before the next round rebinds these, so the closure sees this round's values.
                def create(n: int) -> bool:
                    start.wait()  # noqa: B023 - see above
                    try:
                        _intent_by_face(pays[n % 2], kiosk, cart, match, key=f"rep-{round_}-{n}")  # noqa: B023 - see above
                        return True
                    except grpc.RpcError as exc:
                        assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc.details()
                        return False

                with ThreadPoolExecutor(4) as pool:
                    assert sum(pool.map(create, range(4))) == 1
    finally:
        other.stop()


def test_the_spend_commits_with_the_intent_so_the_loser_of_a_race_makes_no_intent(
    server: ServerThread, stubs: Stubs, faces, kiosk: str, skus: StockedSkus
) -> None:
    from cloud.domain.faces import MatchTokenSpent
    from payments.money import Money

    _, shopper_id, cart, match = _matched(stubs, faces, kiosk, skus.plenty, "tam@example.com", 19)
    device = server.services.authenticator.verify_header(f"Bearer {kiosk}")
    access, payments = server.running.faces, server.running.payments
    both = [access.resolve_match(device, match.match_token, key) for key in ("A", "B")]  # both before either pays

    def create(key: str, face) -> None:  # type: ignore[no-untyped-def]
        payments.create_intent(key=key, amount=Money(cart.subtotal.minor_units, cart.subtotal.currency),
                               payment_token=face.payment_token, cart_id=cart.cart_id, store_id=STORE,
                               shopper_id=shopper_id,
                               in_transaction=lambda conn, intent: access.spend_in(conn, face, key, intent.intent_id))

    create("A", both[0])
    with pytest.raises(MatchTokenSpent):
        create("B", both[1])
    with payments.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM payment_intents")).scalar_one() == 1


# ---------------------------------------------------------------------- PINs


def test_setting_a_pin_needs_the_shopper_and_their_password(server: ServerThread, stubs: Stubs, kiosk: str) -> None:
    token, shopper_id = _shopper(stubs, "ned@example.com")
    status = _set_pin(stubs, token, "4821")
    assert (status.shopper_id, status.pin_set) == (shopper_id, True) and status.updated_at_ms > 0
    assert _code(_set_pin, stubs, token, "4821", password="wrong password")[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(_set_pin, stubs, token, "12ab")[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(_set_pin, stubs, kiosk, "4821")[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _code(_set_pin, stubs, "", "4821")[0] == grpc.StatusCode.UNAUTHENTICATED
    with server.running.database.read() as conn:
        record = conn.execute(sa.select(schema.payment_pins.c.pin_record)).scalar_one()
    assert record.startswith("scrypt$") and "4821" not in record


def _step_up_intent(pay, token: str, cart: cart_pb2.Cart, key: str) -> payment_pb2.PaymentIntent:  # type: ignore[no-untyped-def]
    request = payment_pb2.CreateIntentRequest(idempotency_key=key, cart_id=cart.cart_id, amount=cart.subtotal,
                                              payment_token=APPROVE)
    return pay.CreateIntent(request, metadata=bearer(token))


def _confirm(pay, token: str, intent_id: str, key: str, pin: str) -> payment_pb2.PaymentIntent:  # type: ignore[no-untyped-def]
    request = payment_pb2.ConfirmIntentRequest(intent_id=intent_id, idempotency_key=key, pin=pin, face_match_close=True)
    return pay.ConfirmIntent(request, metadata=bearer(token))


def test_a_wrong_pin_is_refused_counted_and_locks_after_too_many(
    server: ServerThread, stubs: Stubs, pay, skus: StockedSkus
) -> None:
    token, _ = _shopper(stubs, "ola@example.com")
    _set_pin(stubs, token, "4821")
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="n", store_id=STORE), metadata=bearer(token))
    cart = stubs.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="a", sku=skus.plenty,
                                                       quantity=1, pickup_only=True), metadata=bearer(token))
    first = _step_up_intent(pay, token, cart, "i1")
    for attempt, left in enumerate((2, 1)):
        status, details = _code(_confirm, pay, token, first.intent_id, f"w{attempt}", "1111")
        assert status == grpc.StatusCode.PERMISSION_DENIED and f"{left} attempt" in details
    status, details = _code(_confirm, pay, token, first.intent_id, "w2", "1111")
    assert status == grpc.StatusCode.PERMISSION_DENIED and "payment has failed" in details
    get = payment_pb2.GetIntentRequest(intent_id=first.intent_id)
    assert pay.GetIntent(get, metadata=bearer(token)).status == S.PAYMENT_INTENT_STATUS_FAILED
    second = _step_up_intent(pay, token, cart, "i2")  # a new intent buys no new guesses past the lock
    assert _code(_confirm, pay, token, second.intent_id, "w3", "2222")[0] == grpc.StatusCode.PERMISSION_DENIED
    status, details = _code(_confirm, pay, token, second.intent_id, "w4", "3333")
    assert status == grpc.StatusCode.PERMISSION_DENIED and "locked" in details
    status, details = _code(_confirm, pay, token, second.intent_id, "r1", "4821")  # even the right PIN
    assert status == grpc.StatusCode.PERMISSION_DENIED and "locked" in details
    _set_pin(stubs, token, "4821")  # the shopper sets it again with their password
    assert _confirm(pay, token, second.intent_id, "r2", "4821").status == S.PAYMENT_INTENT_STATUS_AUTHORIZED
    assert _confirm(pay, token, second.intent_id, "r2", "4821").status == S.PAYMENT_INTENT_STATUS_AUTHORIZED  # replay


def test_a_shopper_without_a_pin_cannot_pass_step_up(stubs: Stubs, pay, skus: StockedSkus) -> None:
    token, _ = _shopper(stubs, "pia@example.com")
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="n", store_id=STORE), metadata=bearer(token))
    cart = stubs.carts.AddLine(cart_pb2.AddLineRequest(cart_id=cart.cart_id, idempotency_key="a", sku=skus.plenty,
                                                       quantity=1, pickup_only=True), metadata=bearer(token))
    intent = _step_up_intent(pay, token, cart, "i1")
    assert _code(_confirm, pay, token, intent.intent_id, "c1", "4821")[0] == grpc.StatusCode.PERMISSION_DENIED


# ---------------------------------------------------------------------- receipts and configuration


def test_the_receipt_is_for_the_payer_only_and_its_printed_code_scans(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    import cv2

    token, _ = _shopper(stubs, "quy@example.com")
    cart = _paired_cart(stubs, kiosk, token, skus.plenty)
    intent = _step_up_intent(pay, kiosk, cart, "i1") if cart.subtotal.minor_units < 100_000 else None
    if intent is None:
        pytest.skip("the stocked SKU costs more than the PIN limit")
    request = payment_pb2.GetReceiptRequest(intent_id=intent.intent_id)
    assert _code(pay.GetReceipt, request, metadata=bearer(kiosk))[0] == grpc.StatusCode.NOT_FOUND
    pay.ConfirmIntent(payment_pb2.ConfirmIntentRequest(intent_id=intent.intent_id, idempotency_key="c"), metadata=bearer(kiosk))
    pay.CaptureIntent(payment_pb2.CaptureIntentRequest(intent_id=intent.intent_id, idempotency_key="p"), metadata=bearer(kiosk))
    receipt = pay.GetReceipt(payment_pb2.GetReceiptRequest(intent_id=intent.intent_id, paper_mm=58), metadata=bearer(token))
    assert receipt.url.startswith("https://") and receipt.total == cart.subtotal
    assert [line.sku for line in receipt.lines] == [skus.plenty] and receipt.lines[0].fulfilment == "store_stock"
    image = cv2.imdecode(np.frombuffer(receipt.printable_png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image.shape[1] == 384 and cv2.QRCodeDetector().detectAndDecode(image)[0] == receipt.url
    other, _ = _shopper(stubs, "rae@example.com")
    assert _code(pay.GetReceipt, request, metadata=bearer(other))[0] == grpc.StatusCode.PERMISSION_DENIED
    bad = payment_pb2.GetReceiptRequest(intent_id=intent.intent_id, paper_mm=70)
    assert _code(pay.GetReceipt, bad, metadata=bearer(token))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_without_a_key_on_postgresql_face_pay_is_off_and_says_why(pg_schema_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OMNIFIT_FACE_KEK", raising=False)
    monkeypatch.delenv("OMNIFIT_FACE_KEY_FILE", raising=False)
    running = ServerThread(ServerConfig(listen="127.0.0.1:0", db_url=pg_schema_url, pool_size=2)).start()
    try:
        kiosk = running.services.accounts.issue_device_token(STORE).token
        with grpc.insecure_channel(running.address) as channel:
            faces = face_pb2_grpc.FaceServiceStub(channel)
            status, details = _code(_identify, faces, kiosk, _face(1))
        assert status == grpc.StatusCode.FAILED_PRECONDITION and "OMNIFIT_FACE_KEK" in details
    finally:
        running.stop()
