# ruff: noqa: F811 - pytest fixtures imported from _payments_fixtures are redefined as parameters
"""A kiosk keeps no power over a shopper once the shopper has left it: it cannot enroll their face
again after they deleted it, its access to a cart the shopper claimed ends with the kiosk session,
and it never sees lines merged in from the shopper's carts at other stores. Real server, both databases."""
from __future__ import annotations

import grpc
import numpy as np

from cloud.domain.carts import KIOSK_SESSION_MS
from cloud.domain.faces import ENROLL_PRESENCE_MS
from cloud.domain.types import now_ms
from cloud.storage import schema
from proto.omnifit.v1 import cart_pb2, face_pb2
from tests.cloud.conftest import OTHER_STORE, ServerThread, StockedSkus, Stubs, bearer
from tests.security._payments_fixtures import (  # noqa: F401 - fixtures
    APPROVE,
    cart,
    create,
    faces,
    failure,
    kiosk,
    pair,
    pay,
    server,
    shopper,
    skus,
    stubs,
)


def _face(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return vector / np.linalg.norm(vector) * 0.7


def _enroll(faces, token: str, cart_id: str, key: str, seed: int = 1):  # type: ignore[no-untyped-def]
    consent = face_pb2.FaceConsent(purpose="face pay at Omnifit checkouts", granted_at_ms=now_ms(), retention_days=365)
    request = face_pb2.EnrollFaceRequest(idempotency_key=key, cart_id=cart_id, embedding=_face(seed).tolist(),
                                         consent=consent, payment_token=APPROVE)
    return faces.EnrollFace(request, metadata=bearer(token))


def _claimed_ago(server: ServerThread, cart_id: str, ago_ms: int) -> None:
    """Move the shopper's claim of the cart ``ago_ms`` into the past (when they stood at the kiosk)."""
    changes = schema.cart_changes
    with server.services.database.write() as conn:
        conn.execute(changes.update().where(changes.c.cart_id == cart_id, changes.c.kind == "claimed")
                     .values(created_at_ms=now_ms() - ago_ms))


def _get_cart(stubs: Stubs, token: str, cart_id: str) -> cart_pb2.Cart:
    return stubs.carts.GetCart(cart_pb2.GetCartRequest(cart_id=cart_id), metadata=bearer(token))


def test_a_kiosk_cannot_enroll_a_face_again_after_the_shopper_deleted_it(
    server: ServerThread, stubs: Stubs, faces, kiosk: str, skus: StockedSkus
) -> None:
    phone, shopper_id = shopper(stubs, "deleted@example.com")
    paired = pair(stubs, kiosk, phone, cart(stubs, kiosk, skus.plenty).cart_id)
    assert _enroll(faces, kiosk, paired.cart_id, "first").shopper_id == shopper_id  # the shopper is at the kiosk
    faces.DeleteFaceData(face_pb2.DeleteFaceDataRequest(idempotency_key="gone"), metadata=bearer(phone))
    status, details = failure(_enroll, faces, kiosk, paired.cart_id, "again", seed=2)
    assert status in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION), details
    status_of = faces.GetFaceEnrollment(face_pb2.GetFaceEnrollmentRequest(), metadata=bearer(phone))
    assert not status_of.enrolled
    # Paired again on the kiosk (the shopper back in front of it, consenting), the kiosk may enroll.
    again = pair(stubs, kiosk, phone, cart(stubs, kiosk, skus.plenty, key="back").cart_id)
    assert _enroll(faces, kiosk, again.cart_id, "back", seed=3).shopper_id == shopper_id


def test_a_kiosk_enrolls_only_while_the_shopper_is_there(
    server: ServerThread, stubs: Stubs, faces, kiosk: str, skus: StockedSkus
) -> None:
    phone, _ = shopper(stubs, "away@example.com")
    paired = pair(stubs, kiosk, phone, cart(stubs, kiosk, skus.plenty).cart_id)
    _claimed_ago(server, paired.cart_id, ENROLL_PRESENCE_MS + 1000)
    status, details = failure(_enroll, faces, kiosk, paired.cart_id, "late")
    assert status in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.FAILED_PRECONDITION), details
    assert not faces.GetFaceEnrollment(face_pb2.GetFaceEnrollmentRequest(), metadata=bearer(phone)).enrolled


def test_a_kiosk_loses_a_claimed_cart_when_its_session_ends(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    phone, _ = shopper(stubs, "left@example.com")
    paired = pair(stubs, kiosk, phone, cart(stubs, kiosk, skus.plenty).cart_id)
    assert _get_cart(stubs, kiosk, paired.cart_id).cart_id == paired.cart_id  # during the session
    _claimed_ago(server, paired.cart_id, KIOSK_SESSION_MS + 1000)
    assert failure(_get_cart, stubs, kiosk, paired.cart_id)[0] == grpc.StatusCode.PERMISSION_DENIED
    add = cart_pb2.AddLineRequest(cart_id=paired.cart_id, idempotency_key="late-add", sku=skus.plenty, quantity=1)
    assert failure(stubs.carts.AddLine, add, metadata=bearer(kiosk))[0] == grpc.StatusCode.PERMISSION_DENIED
    assert failure(create, pay, kiosk, paired, key="late-pay")[0] == grpc.StatusCode.PERMISSION_DENIED
    assert _get_cart(stubs, phone, paired.cart_id).cart_id == paired.cart_id  # the shopper keeps it


def test_a_kiosk_never_sees_lines_from_the_shoppers_carts_at_other_stores(
    server: ServerThread, stubs: Stubs, kiosk: str, skus: StockedSkus
) -> None:
    phone, _ = shopper(stubs, "travels@example.com")
    elsewhere = cart(stubs, phone, skus.missing, key="far", store_id=OTHER_STORE)
    at_store = cart(stubs, phone, skus.plenty, key="near")
    paired = pair(stubs, kiosk, phone, cart(stubs, kiosk, skus.plenty, key="kiosk").cart_id)
    seen = _get_cart(stubs, kiosk, paired.cart_id)
    assert {line.sku for line in seen.lines} == {skus.plenty}
    assert sum(line.quantity for line in seen.lines) == 2  # the same store's open cart merged in
    assert _get_cart(stubs, phone, elsewhere.cart_id).status == cart_pb2.CART_STATUS_OPEN
    assert _get_cart(stubs, phone, at_store.cart_id).status == cart_pb2.CART_STATUS_MERGED
