"""The sync client's face-pay and payment methods against a real server: the kiosk's checkout as it
calls it, idempotent retries, and payments that are never queued in the outbox."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cloud.client import (
    ClientError,
    CloudUnavailable,
    FaceConsent,
    IntentState,
    Money,
    RetryPolicy,
    SyncClient,
)
from cloud.server import ServerConfig
from cloud.testing import free_port
from omnifit.errors import ErrorCode
from tests.cloud.conftest import STORE, ServerThread, StockedSkus

PASSWORD = "correct horse battery"
APPROVE = "tok_visa_approve"


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ServerThread]:
    config = ServerConfig(listen="127.0.0.1:0", db_url=db_url, pool_size=4, face_key_file=tmp_path / "kek.json")
    running = ServerThread(config).start()
    yield running
    running.stop()


def _face(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=128)
    return vector / np.linalg.norm(vector) * 0.7


def test_the_kiosk_checkout_by_face_through_the_typed_client(server: ServerThread, skus: StockedSkus) -> None:
    kiosk_token = server.services.accounts.issue_device_token(STORE).token

    async def scenario() -> None:
        async with SyncClient(server.address, token=kiosk_token) as kiosk, SyncClient(server.address) as phone:
            session = await phone.register("sue@example.com", PASSWORD, "+8613800138000")
            assert (await phone.set_payment_pin("4821", password=PASSWORD)).pin_set
            cart = await kiosk.create_cart(STORE)
            code = await kiosk.create_pairing_code(cart.cart_id)
            await phone.claim_pairing_code(code.qr_payload)
            cart = await kiosk.add_line(cart.cart_id, skus.plenty)
            enrolled = await kiosk.enroll_face(_face(1), consent=FaceConsent("face pay at Omnifit checkouts", 30),
                                               payment_token=APPROVE, cart_id=cart.cart_id)
            assert (enrolled.shopper_id, enrolled.channel, enrolled.phone_hint) == (session.subject_id, "kiosk", "...8000")
            match = await kiosk.identify_face(_face(1), "8000")
            assert match.matched and match.shopper_id == session.subject_id
            intent = await kiosk.create_payment_intent(cart.cart_id, cart.subtotal, face_match=match, idempotency_key="k1")
            again = await kiosk.create_payment_intent(cart.cart_id, cart.subtotal, face_match=match, idempotency_key="k1")
            assert again.intent_id == intent.intent_id and intent.status is IntentState.REQUIRES_CONFIRMATION
            assert intent.shopper_id == session.subject_id and intent.amount == cart.subtotal
            authorized = await kiosk.confirm_payment_intent(intent.intent_id, pin="4821", face_match_close=True)
            assert authorized.status is IntentState.AUTHORIZED
            captured = await kiosk.capture_payment_intent(intent.intent_id)
            assert captured.status is IntentState.CAPTURED and captured.order_id
            receipt = await kiosk.get_receipt(intent.intent_id, paper_mm=80)
            assert receipt.total == cart.subtotal and receipt.printable_png.startswith(b"\x89PNG")
            assert (await phone.get_payment_intent(intent.intent_id)).status is IntentState.CAPTURED
            with pytest.raises(ClientError) as refused:
                await kiosk.refund_payment_intent(intent.intent_id, Money(100, cart.subtotal.currency))
            assert refused.value.code is ErrorCode.PERMISSION_DENIED
            deleted = await phone.delete_face_data()
            assert deleted.deleted and not (await phone.get_face_enrollment()).enrolled
            assert not (await kiosk.identify_face(_face(1), "8000")).matched
            with pytest.raises(ValueError, match="did not match"):
                await kiosk.create_payment_intent(cart.cart_id, cart.subtotal, face_match=await kiosk.identify_face(_face(1), "8000"))

    asyncio.run(scenario())


def test_a_wrong_pin_and_a_missing_pin_come_back_as_their_codes(server: ServerThread, skus: StockedSkus) -> None:
    async def scenario() -> None:
        async with SyncClient(server.address) as phone:
            await phone.register("tom@example.com", PASSWORD, "+8613800138000")
            await phone.set_payment_pin("4821", password=PASSWORD)
            cart = await phone.create_cart(STORE)
            cart = await phone.add_line(cart.cart_id, skus.plenty, pickup_only=True)
            intent = await phone.create_payment_intent(cart.cart_id, cart.subtotal, payment_token=APPROVE)
            with pytest.raises(ClientError) as missing:
                await phone.confirm_payment_intent(intent.intent_id, face_match_close=True)
            assert missing.value.code is ErrorCode.FAILED_PRECONDITION
            with pytest.raises(ClientError) as wrong:
                await phone.confirm_payment_intent(intent.intent_id, pin="1111", face_match_close=True)
            assert wrong.value.code is ErrorCode.PERMISSION_DENIED and "attempt" in str(wrong.value)
            cancelled = await phone.cancel_payment_intent(intent.intent_id)
            assert cancelled.status is IntentState.CANCELLED

    asyncio.run(scenario())


def test_payments_are_never_queued_when_the_cloud_is_unreachable(tmp_path: Path) -> None:
    retry = RetryPolicy(attempts=2, initial_backoff_s=0.01, max_backoff_s=0.02, call_timeout_s=0.5)

    async def scenario() -> None:
        async with SyncClient(f"127.0.0.1:{free_port()}", token="t", store_path=tmp_path / "outbox.sqlite",
                              retry=retry) as kiosk:
            with pytest.raises(CloudUnavailable):
                await kiosk.create_payment_intent("cart_x", Money(100, "CNY"), payment_token=APPROVE)
            with pytest.raises(CloudUnavailable):
                await kiosk.capture_payment_intent("pi_x")
            with pytest.raises(CloudUnavailable):
                await kiosk.identify_face(_face(1), "8000")
            assert kiosk.pending_mutations == 0

    asyncio.run(scenario())


def test_staff_sign_in_then_look_up_and_delete_a_shoppers_face_data(server: ServerThread) -> None:
    server.services.accounts.create_staff("ops-lin", PASSWORD)

    async def scenario() -> None:
        async with SyncClient(server.address) as phone, SyncClient(server.address) as admin:
            session = await phone.register("vic@example.com", PASSWORD, "+8613800138000")
            await phone.enroll_face(_face(2), consent=FaceConsent("face pay at Omnifit checkouts", 30), payment_token=APPROVE)
            with pytest.raises(ClientError) as wrong:
                await admin.staff_sign_in("ops-lin", "not the password")
            assert wrong.value.code is ErrorCode.UNAUTHENTICATED and admin.token is None
            assert (await admin.staff_sign_in("ops-lin", PASSWORD)).subject_id == "ops-lin"
            found = await admin.get_face_enrollment(email="vic@example.com")
            assert found.enrolled and found.shopper_id == session.subject_id
            deleted = await admin.delete_face_data(shopper_id=found.shopper_id)
            assert deleted.deleted and not (await phone.get_face_enrollment()).enrolled

    asyncio.run(scenario())
