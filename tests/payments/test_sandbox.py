"""The sandbox card network on its own: each test token, its books, and that it does not deduplicate."""
from __future__ import annotations

import pytest

from payments.errors import GatewayTimeoutError, UnknownGatewayError
from payments.gateways import GATEWAYS, DeclineCode, GatewayOperation, PaymentGateway, SandboxGateway, create_gateway
from payments.gateways.sandbox import TEST_TOKENS, SandboxBehaviour
from payments.money import Money

CNY_100 = Money(10_000, "CNY")


@pytest.fixture
def network() -> SandboxGateway:
    slept: list[float] = []
    gateway = SandboxGateway(timeout_delay_s=0.25, sleep=slept.append)
    gateway.slept = slept  # type: ignore[attr-defined]
    return gateway


def test_registry_builds_plugins_by_name() -> None:
    assert isinstance(create_gateway("sandbox"), PaymentGateway)
    assert "sandbox" in GATEWAYS
    with pytest.raises(UnknownGatewayError, match="'visa-direct'.*sandbox"):
        create_gateway("visa-direct")


@pytest.mark.parametrize(
    ("token", "approved", "code"),
    [("tok_visa_approve", True, None), ("tok_mastercard_approve", True, None),
     ("tok_decline_insufficient_funds", False, DeclineCode.INSUFFICIENT_FUNDS),
     ("tok_decline_do_not_honour", False, DeclineCode.DO_NOT_HONOUR),
     ("tok_step_up", False, DeclineCode.STEP_UP_REQUIRED), ("tok_made_up_123", False, DeclineCode.INVALID_TOKEN)],
)
def test_authorize_per_token(network: SandboxGateway, token: str, approved: bool, code: DeclineCode | None) -> None:
    result = network.authorize(token=token, amount=CNY_100, reference="ref-1", step_up_verified=False)
    assert (result.approved, result.decline_code) == (approved, code)
    assert (result.transaction_id is not None) == approved
    assert network.lookup("ref-1") == result  # declines are on the books too
    assert network.net_charged(token, "CNY") == Money.zero("CNY")  # authorising takes nothing yet


def test_step_up_token_approves_after_verification(network: SandboxGateway) -> None:
    result = network.authorize(token="tok_step_up", amount=CNY_100, reference="r", step_up_verified=True)
    assert result.approved


def test_timeout_token_hangs_then_raises_and_books_nothing(network: SandboxGateway) -> None:
    with pytest.raises(GatewayTimeoutError, match="did not answer authorize 'r-t' within 0.25 s"):
        network.authorize(token="tok_timeout", amount=CNY_100, reference="r-t", step_up_verified=False)
    assert network.slept == [0.25]  # type: ignore[attr-defined]
    assert network.lookup("r-t") is None and network.transactions() == []


def test_lost_capture_answer_still_takes_the_money(network: SandboxGateway) -> None:
    token = "tok_capture_response_lost"
    auth = network.authorize(token=token, amount=CNY_100, reference="a", step_up_verified=False)
    with pytest.raises(GatewayTimeoutError, match="capture"):
        network.capture(authorization_id=auth.transaction_id or "", amount=CNY_100, reference="c")
    assert network.net_charged(token, "CNY") == CNY_100
    found = network.lookup("c")
    assert found is not None and found.approved and found.operation is GatewayOperation.CAPTURE


def test_lost_authorization_answer_still_places_the_hold(network: SandboxGateway) -> None:
    with pytest.raises(GatewayTimeoutError, match="authorize"):
        network.authorize(token="tok_authorize_response_lost", amount=CNY_100, reference="a", step_up_verified=False)
    found = network.lookup("a")
    assert found is not None and found.approved and found.operation is GatewayOperation.AUTHORIZE
    assert network.capture(authorization_id=found.transaction_id or "", amount=CNY_100, reference="c").approved


def test_network_does_not_deduplicate_references(network: SandboxGateway) -> None:
    first = network.authorize(token="tok_visa_approve", amount=CNY_100, reference="same", step_up_verified=False)
    second = network.authorize(token="tok_visa_approve", amount=CNY_100, reference="same", step_up_verified=False)
    assert first.transaction_id != second.transaction_id
    assert network.lookup("same") == first


def test_capture_void_refund_rules(network: SandboxGateway) -> None:
    auth = network.authorize(token="tok_visa_approve", amount=CNY_100, reference="a", step_up_verified=False)
    auth_id = auth.transaction_id or ""
    assert network.capture(authorization_id=auth_id, amount=Money(10_001, "CNY"), reference="c0").decline_code \
        is DeclineCode.AMOUNT_EXCEEDS_AUTHORIZATION
    capture = network.capture(authorization_id=auth_id, amount=CNY_100, reference="c1")
    assert capture.approved
    assert network.capture(authorization_id=auth_id, amount=CNY_100, reference="c2").decline_code \
        is DeclineCode.AMOUNT_EXCEEDS_AUTHORIZATION
    assert network.void(authorization_id=auth_id, amount=CNY_100, reference="v").decline_code \
        is DeclineCode.ALREADY_SETTLED
    capture_id = capture.transaction_id or ""
    assert network.refund(capture_id=capture_id, amount=Money(6_000, "CNY"), reference="r1").approved
    assert network.refund(capture_id=capture_id, amount=Money(5_000, "CNY"), reference="r2").decline_code \
        is DeclineCode.AMOUNT_EXCEEDS_AUTHORIZATION
    assert network.net_charged("tok_visa_approve", "CNY") == Money(4_000, "CNY")
    assert network.capture(authorization_id="sbx_nope", amount=CNY_100, reference="c3").decline_code \
        is DeclineCode.AUTHORIZATION_NOT_FOUND


def test_void_releases_and_blocks_capture(network: SandboxGateway) -> None:
    auth = network.authorize(token="tok_visa_approve", amount=CNY_100, reference="a", step_up_verified=False)
    assert network.void(authorization_id=auth.transaction_id or "", amount=CNY_100, reference="v").approved
    assert not network.capture(authorization_id=auth.transaction_id or "", amount=CNY_100, reference="c").approved


def test_every_behaviour_has_a_token() -> None:
    assert set(TEST_TOKENS.values()) == set(SandboxBehaviour)


def test_books_persist_on_a_shared_database(sqlite_url: str) -> None:
    from payments.storage import create_engine

    engine = create_engine(sqlite_url)
    SandboxGateway(engine).authorize(token="tok_visa_approve", amount=CNY_100, reference="p", step_up_verified=False)
    assert SandboxGateway(engine).lookup("p") is not None
