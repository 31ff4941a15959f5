"""Registration is no oracle and no free supply of accounts: a taken email gets the same answer as a
free one (in about the same time) and nothing changes for its owner; registrations and pairing-code
guesses are limited per client address, so fresh accounts bring no fresh guesses.

(Item 7 of issue 12: registering an existing email said so, and each new account had its own budget of
pairing guesses, with no limit on making accounts.)
"""
from __future__ import annotations

import statistics
import time

import grpc
import sqlalchemy as sa

from cloud.domain.accounts import EXISTING_EMAIL_EVENT, REGISTRATIONS_PER_PEER
from cloud.domain.pairing import MAX_FAILURES, MAX_FAILURES_PER_PEER
from payments.audit import audit_log_table
from proto.omnifit.v1 import cart_pb2, pairing_pb2, profile_pb2
from tests.cloud.conftest import STORE, Stubs, bearer
from tests.security.conftest import PASSWORD, PHONE, ServerFactory, failure

PROXY = ("127.0.0.1/32",)  # the test's calls come "through a load balancer" that names the client


def _from(address: str) -> tuple[tuple[str, str], ...]:
    return (("x-forwarded-for", address),)


def _register(stubs: Stubs, email: str, password: str = PASSWORD, address: str = "203.0.113.1") -> profile_pb2.RegisterShopperResponse:
    request = profile_pb2.RegisterShopperRequest(email=email, password=password, phone=PHONE, display_name="Sam")
    return stubs.accounts.RegisterShopper(request, metadata=_from(address))


def _sign_in(stubs: Stubs, email: str, password: str) -> profile_pb2.Session:
    return stubs.accounts.SignIn(profile_pb2.SignInRequest(email=email, password=password))


def test_a_taken_email_gets_the_same_answer_in_about_the_same_time_and_nothing_changes(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start(trusted_proxies=PROXY)
    stubs = channel_to(server)
    first = _register(stubs, "owner@example.com")
    owner = _sign_in(stubs, "owner@example.com", PASSWORD)
    new_times, taken_times = [], []
    for attempt in range(6):  # interleaved, so a load change on the machine hits both alike
        started = time.perf_counter()
        fresh = _register(stubs, f"new-{attempt}@example.com", address=f"203.0.113.{10 + attempt}")
        new_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        again = _register(stubs, "Owner@Example.com", password=f"attacker pass {attempt}", address=f"203.0.113.{20 + attempt}")
        taken_times.append(time.perf_counter() - started)
        assert again.SerializeToString() == fresh.SerializeToString() == first.SerializeToString()
    ratio = statistics.median(taken_times) / statistics.median(new_times)
    assert 0.5 < ratio < 2.0, f"a taken email answers {ratio:.2f}x as fast as a free one: {taken_times} vs {new_times}"
    # The owner's account is untouched: their password works, the attacker's does not, their session stands.
    assert _sign_in(stubs, "owner@example.com", PASSWORD).subject_id == owner.subject_id
    code, _ = failure(_sign_in, stubs, "owner@example.com", "attacker pass 0")
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert stubs.profiles.GetFitProfile(profile_pb2.GetFitProfileRequest(), metadata=bearer(owner.token)).shopper_id == owner.subject_id
    # How the owner learns: one notice per try on their account in the audit log, naming the address.
    with server.services.database.read() as conn:
        notices = conn.execute(sa.select(audit_log_table.c.subject, audit_log_table.c.details)
                               .where(audit_log_table.c.event == EXISTING_EMAIL_EVENT).order_by(audit_log_table.c.seq)).all()
    assert len(notices) == 6 and {row.subject for row in notices} == {owner.subject_id}
    assert "203.0.113.20" in notices[0].details


def test_registrations_are_limited_per_client_address(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start(trusted_proxies=PROXY)
    stubs = channel_to(server)
    for index in range(REGISTRATIONS_PER_PEER):
        _register(stubs, f"bulk-{index}@example.com", address="198.51.100.7")
    code, details = failure(_register, stubs, "one-more@example.com", address="198.51.100.7")
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "registrations" in details, details
    # Nothing was created by the refused one; another address is not held up.
    assert failure(_sign_in, stubs, "one-more@example.com", PASSWORD)[0] == grpc.StatusCode.UNAUTHENTICATED
    _register(stubs, "one-more@example.com", address="198.51.100.8")
    assert _sign_in(stubs, "one-more@example.com", PASSWORD).subject_id


def test_fresh_accounts_bring_no_fresh_pairing_guesses(start: ServerFactory, channel_to) -> None:  # type: ignore[no-untyped-def]
    server = start(trusted_proxies=PROXY)
    stubs = channel_to(server)
    kiosk = server.services.accounts.issue_device_token(STORE).token
    cart = stubs.carts.CreateCart(cart_pb2.CreateCartRequest(idempotency_key="c", store_id=STORE), metadata=bearer(kiosk))
    code = stubs.pairing.CreatePairingCode(pairing_pb2.CreatePairingCodeRequest(cart_id=cart.cart_id), metadata=bearer(kiosk)).code
    attacker = "198.51.100.66"
    accounts = MAX_FAILURES_PER_PEER // MAX_FAILURES
    guess = 0
    for index in range(accounts):  # each account spends its own budget of wrong guesses, all from one address
        _register(stubs, f"guesser-{index}@example.com", address=attacker)
        token = _sign_in(stubs, f"guesser-{index}@example.com", PASSWORD).token
        for _ in range(MAX_FAILURES):
            guess += 1
            wrong = f"{guess:08d}".translate(str.maketrans("01", "XY"))
            status, _ = failure(stubs.pairing.ClaimPairingCode, pairing_pb2.ClaimPairingCodeRequest(code=wrong),
                                metadata=(*bearer(token), *_from(attacker)))
            assert status in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    _register(stubs, "fresh@example.com", address=attacker)
    fresh = _sign_in(stubs, "fresh@example.com", PASSWORD).token
    claim = pairing_pb2.ClaimPairingCodeRequest(code=code)
    status, details = failure(stubs.pairing.ClaimPairingCode, claim, metadata=(*bearer(fresh), *_from(attacker)))
    assert status == grpc.StatusCode.RESOURCE_EXHAUSTED and "address" in details, details
    # The shopper at the kiosk, on another address, pairs as usual.
    _register(stubs, "real@example.com", address="203.0.113.50")
    real = _sign_in(stubs, "real@example.com", PASSWORD).token
    claimed = stubs.pairing.ClaimPairingCode(claim, metadata=(*bearer(real), *_from("203.0.113.50")))
    assert claimed.cart.cart_id == cart.cart_id
