"""Fixtures for the money side of payments: a real database (SQLite and PostgreSQL) holding the
cloud catalog (stores, staff, stock from the committed seed), the sandbox card network, the
audit log, and intents in each state, named by state.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from assets.catalog.seed import load_seed
from cloud.storage.schema import metadata as cloud_metadata
from cloud.storage.schema import staff as staff_table
from cloud.storage.seeding import seed_catalog
from payments.audit import AuditLog
from payments.errors import PaymentDeclinedError
from payments.gateways import SandboxGateway
from payments.intents import PaymentIntent
from payments.money import Money
from payments.service import PaymentService, TableStaffRoster
from payments.stepup import ScryptPinVerifier, StepUpPolicy, hash_pin
from payments.storage import create_engine, create_schema

STORE = "sh-jingan"
STAFF_ID = "st-ana"
SHOPPER = "shopper-1"
PIN = "4821"
SHOPPER_PIN_RECORDS = {SHOPPER: hash_pin(PIN, n=2**10).encode()}
PIN_LIMITS = {"CNY": 100_000, "JPY": 20_000, "USD": 15_000}


def prepare_database(url: str) -> Engine:
    """The cloud catalog (committed seed: stores, products, stock) plus one staff member, and the payments tables."""
    engine = create_engine(url)
    cloud_metadata.create_all(engine)
    create_schema(engine)
    with engine.begin() as conn:
        seed_catalog(conn, load_seed())
        conn.execute(staff_table.insert().values(staff_id=STAFF_ID, password_hash="scrypt$unused", created_at_ms=0))
    return engine


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = prepare_database(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sandbox(engine: Engine) -> SandboxGateway:
    return SandboxGateway(engine, timeout_delay_s=0.01)


@pytest.fixture
def audit(engine: Engine) -> AuditLog:
    return AuditLog(engine)


@pytest.fixture
def service(engine: Engine, sandbox: SandboxGateway, audit: AuditLog) -> PaymentService:
    return PaymentService(
        engine, {"sandbox": sandbox}, staff=TableStaffRoster(engine), audit=audit,
        step_up=StepUpPolicy(pin_limits_minor=PIN_LIMITS), pin_verifier=ScryptPinVerifier(SHOPPER_PIN_RECORDS.get),
        lease_s=5.0, wait_s=10.0,
    )


_KEYS = itertools.count()


def new_key(prefix: str = "key") -> str:
    return f"{prefix}-{next(_KEYS)}"


@pytest.fixture
def make_intent(service: PaymentService) -> Callable[..., PaymentIntent]:
    def make(amount: str = "599.00", currency: str = "CNY", token: str = "tok_visa_approve", **extra: object) -> PaymentIntent:
        return service.create_intent(
            key=new_key("create"), amount=Money.parse(amount, currency), payment_token=token,
            cart_id=str(extra.pop("cart_id", "cart-1")), store_id=str(extra.pop("store_id", STORE)),
            shopper_id=str(extra.pop("shopper_id", SHOPPER)), **extra,
        )
    return make


@pytest.fixture
def authorized_intent(service: PaymentService, make_intent: Callable[..., PaymentIntent]) -> PaymentIntent:
    return service.confirm(make_intent().intent_id, key=new_key("confirm"))


@pytest.fixture
def captured_intent(service: PaymentService, authorized_intent: PaymentIntent) -> PaymentIntent:
    return service.capture(authorized_intent.intent_id, key=new_key("capture"))


@pytest.fixture
def cancelled_intent(service: PaymentService, make_intent: Callable[..., PaymentIntent]) -> PaymentIntent:
    return service.cancel(make_intent().intent_id, key=new_key("cancel"))


@pytest.fixture
def failed_intent(service: PaymentService, make_intent: Callable[..., PaymentIntent]) -> PaymentIntent:
    intent = make_intent(token="tok_decline_do_not_honour")
    with pytest.raises(PaymentDeclinedError):
        service.confirm(intent.intent_id, key=new_key("confirm"))
    return service.get(intent.intent_id)


@pytest.fixture
def partially_refunded_intent(service: PaymentService, captured_intent: PaymentIntent) -> PaymentIntent:
    return service.refund(captured_intent.intent_id, key=new_key("refund"), amount=Money.parse("100.00", "CNY"),
                          staff_id=STAFF_ID)


@pytest.fixture
def refunded_intent(service: PaymentService, captured_intent: PaymentIntent) -> PaymentIntent:
    return service.refund(captured_intent.intent_id, key=new_key("refund"), amount=captured_intent.captured,
                          staff_id=STAFF_ID)


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every payments, sandbox, audit and stock table, to check that a bad call changed nothing."""
    names = ["payment_intents", "payment_intent_lines", "payment_idempotency_keys", "payment_refunds",
             "ledger_accounts", "ledger_entries", "ledger_postings", "orders", "order_lines", "receipts",
             "sandbox_network_transactions", "payments_audit_log", "stock"]
    with engine.connect() as conn:
        return {name: sorted(tuple(map(str, row)) for row in conn.execute(sa.text(f"SELECT * FROM {name}")))
                for name in names}
