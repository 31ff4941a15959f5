# ruff: noqa: F811 - pytest fixtures imported from _payments_fixtures are redefined as parameters
"""Who pays: a kiosk cannot name a shopper as the payer and use ConfirmIntent as an oracle for
(and a lock on) that shopper's PIN. The payer is the cart's owner or the shopper a face match
names; wrong PINs a kiosk sends count against the kiosk and lock it. Real server, both databases."""
from __future__ import annotations

import grpc

from cloud.domain.payments import MAX_WRONG_PINS_PER_DEVICE
from tests.cloud.conftest import STORE, ServerThread, StockedSkus, Stubs
from tests.security._payments_fixtures import (  # noqa: F401 - fixtures
    S,
    cart,
    confirm,
    create,
    faces,
    failure,
    kiosk,
    pair,
    pay,
    server,
    set_pin,
    shopper,
    skus,
    stubs,
)

VICTIM_PIN = "4821"


def test_a_kiosk_cannot_name_a_shopper_as_the_payer(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    victim, victim_id = shopper(stubs, "victim@example.com")
    set_pin(stubs, victim, VICTIM_PIN)
    anonymous = cart(stubs, kiosk, skus.plenty, key="anon")
    status, details = failure(create, pay, kiosk, anonymous, key="as-victim", shopper_id=victim_id)
    assert status == grpc.StatusCode.PERMISSION_DENIED and "shopper_id" in details, details
    guest = create(pay, kiosk, anonymous, key="guest")  # a card at the kiosk pays as a guest
    assert guest.shopper_id != victim_id and not guest.shopper_id.startswith("shp_")
    # The guest's intent asks no shopper's PIN: no answer tells a right PIN from a wrong one.
    assert failure(confirm, pay, kiosk, guest.intent_id, "pin-1", pin=VICTIM_PIN, close=True)[0] \
        == failure(confirm, pay, kiosk, guest.intent_id, "pin-2", pin="0000", close=True)[0]

    owner, owner_id = shopper(stubs, "owner@example.com")
    paired = pair(stubs, kiosk, owner, cart(stubs, kiosk, skus.plenty, key="paired").cart_id)
    status, _ = failure(create, pay, kiosk, paired, key="other-payer", shopper_id=victim_id)
    assert status == grpc.StatusCode.PERMISSION_DENIED
    assert create(pay, kiosk, paired, key="owner-pays").shopper_id == owner_id
    # The victim's PIN was never checked, so never locked: their own payment goes through.
    own = cart(stubs, victim, skus.plenty, key="victim-own")
    intent = create(pay, victim, own, key="victim-pays")
    assert confirm(pay, victim, intent.intent_id, "ok", pin=VICTIM_PIN, close=True).status \
        == S.PAYMENT_INTENT_STATUS_AUTHORIZED


def test_wrong_pins_from_a_kiosk_lock_the_kiosk(
    server: ServerThread, stubs: Stubs, pay, kiosk: str, skus: StockedSkus
) -> None:
    """Wrong PINs of several paired shoppers, each below their own lock, add up on the kiosk."""
    limit = MAX_WRONG_PINS_PER_DEVICE
    shoppers = []
    for index in range(limit // 2 + 2):
        token, _ = shopper(stubs, f"paired{index}@example.com")
        set_pin(stubs, token, VICTIM_PIN)
        shoppers.append(token)
    wrong = 0
    for index, token in enumerate(shoppers):
        paired = pair(stubs, kiosk, token, cart(stubs, kiosk, skus.plenty, key=f"p{index}").cart_id)
        intent = create(pay, kiosk, paired, key=f"i{index}")
        for attempt in range(2):
            if wrong == limit:
                break
            status, _ = failure(confirm, pay, kiosk, intent.intent_id, f"w{index}-{attempt}", pin="0000", close=True)
            assert status == grpc.StatusCode.PERMISSION_DENIED
            wrong += 1
        if wrong == limit:
            status, details = failure(confirm, pay, kiosk, intent.intent_id, f"right{index}", pin=VICTIM_PIN, close=True)
            assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "kiosk" in details, details
            break
    assert wrong == limit
    # The shoppers' own app, and another kiosk, are not locked by this one.
    own = cart(stubs, shoppers[0], skus.plenty, key="own")
    intent = create(pay, shoppers[0], own, key="own")
    assert confirm(pay, shoppers[0], intent.intent_id, "own-c", pin=VICTIM_PIN, close=True).status \
        == S.PAYMENT_INTENT_STATUS_AUTHORIZED
    other = server.services.accounts.issue_device_token(STORE).token
    paired = pair(stubs, other, shoppers[1], cart(stubs, other, skus.plenty, key="other").cart_id)
    intent = create(pay, other, paired, key="other")
    assert confirm(pay, other, intent.intent_id, "other-c", pin=VICTIM_PIN, close=True).status \
        == S.PAYMENT_INTENT_STATUS_AUTHORIZED
