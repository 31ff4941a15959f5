"""The sandbox gateway: a card network in a box, for tests, demos and the CLI.

It behaves like a real network for a set of test tokens (see :data:`TEST_TOKENS`):
approve, decline (insufficient funds, do not honour), ask for step-up, time out,
or take the money and lose the answer. Like a real network it does NOT deduplicate
on the caller's reference — a second ``authorize`` is a second hold — so a caller
that retries blindly after a lost answer double-charges; :meth:`SandboxGateway.lookup`
is how a careful caller reconciles.

The sandbox keeps its own books, in its own table (``sandbox_network_transactions``)
on the engine it is given, or in a private in-memory SQLite database, so tests can
check exactly how much each token was charged.
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from payments.errors import GatewayTimeoutError
from payments.gateways.base import CardDescription, DeclineCode, GatewayOperation, GatewayResult
from payments.money import Money

_LOGGER = logging.getLogger(__name__)

SANDBOX_METADATA = sa.MetaData()

network_transactions = sa.Table(
    "sandbox_network_transactions",
    SANDBOX_METADATA,
    sa.Column("transaction_id", sa.String(40), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("reference", sa.String(200), nullable=False, index=True),
    sa.Column("operation", sa.String(16), nullable=False),
    sa.Column("token", sa.String(128), nullable=False, index=True),
    sa.Column("parent_id", sa.String(40), nullable=True, index=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("approved", sa.Boolean, nullable=False),
    sa.Column("decline_code", sa.String(40), nullable=True),
)


class SandboxBehaviour(str, enum.Enum):
    """How the sandbox network treats a test token."""

    APPROVE = "approve"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DO_NOT_HONOUR = "do_not_honour"
    STEP_UP = "step_up"
    TIMEOUT = "timeout"  # the authorisation request is lost on the way in: nothing happens, no answer
    AUTHORIZE_RESPONSE_LOST = "authorize_response_lost"  # the hold is placed, its answer never arrives
    CAPTURE_RESPONSE_LOST = "capture_response_lost"  # the capture is booked, its answer never arrives


TEST_TOKENS: dict[str, SandboxBehaviour] = {
    "tok_visa_approve": SandboxBehaviour.APPROVE,
    "tok_mastercard_approve": SandboxBehaviour.APPROVE,
    "tok_unionpay_approve": SandboxBehaviour.APPROVE,
    "tok_decline_insufficient_funds": SandboxBehaviour.INSUFFICIENT_FUNDS,
    "tok_decline_do_not_honour": SandboxBehaviour.DO_NOT_HONOUR,
    "tok_step_up": SandboxBehaviour.STEP_UP,
    "tok_timeout": SandboxBehaviour.TIMEOUT,
    "tok_authorize_response_lost": SandboxBehaviour.AUTHORIZE_RESPONSE_LOST,
    "tok_capture_response_lost": SandboxBehaviour.CAPTURE_RESPONSE_LOST,
}

# The test card behind each token, as a card network's vault would describe it (the digits are the
# last four of the networks' published test card numbers, never a real card's).
TEST_CARDS: dict[str, CardDescription] = {
    "tok_visa_approve": CardDescription("Visa", "4242"),
    "tok_mastercard_approve": CardDescription("Mastercard", "4444"),
    "tok_unionpay_approve": CardDescription("UnionPay", "0005"),
    "tok_decline_insufficient_funds": CardDescription("Visa", "9995"),
    "tok_decline_do_not_honour": CardDescription("Visa", "0002"),
    "tok_step_up": CardDescription("Visa", "3184"),
    "tok_timeout": CardDescription("Visa", "0119"),
    "tok_authorize_response_lost": CardDescription("Mastercard", "0341"),
    "tok_capture_response_lost": CardDescription("Visa", "0259"),
}

_AUTH_DECLINES: dict[SandboxBehaviour, DeclineCode] = {
    SandboxBehaviour.INSUFFICIENT_FUNDS: DeclineCode.INSUFFICIENT_FUNDS,
    SandboxBehaviour.DO_NOT_HONOUR: DeclineCode.DO_NOT_HONOUR,
}


@dataclasses.dataclass(frozen=True)
class NetworkTransaction:
    """One row of the sandbox's books."""

    transaction_id: str
    reference: str
    operation: GatewayOperation
    token: str
    parent_id: str | None
    amount: Money
    approved: bool
    decline_code: DeclineCode | None

    def as_result(self) -> GatewayResult:
        return GatewayResult(
            operation=self.operation, reference=self.reference, approved=self.approved, amount=self.amount,
            transaction_id=self.transaction_id if self.approved else None, decline_code=self.decline_code,
        )


def _in_memory_engine() -> Engine:
    return sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})


class SandboxGateway:
    """A fake card network with real-network failure modes; see the module docstring.

    ``timeout_delay_s`` is how long a call that will time out hangs before raising
    (seconds): the client's timeout. ``latency_s`` makes every network call slow like a far or
    congested network: half of it on the way in (before the network books anything), half on the
    way back. A call slower than the timeout raises :class:`GatewayTimeoutError` once the timeout
    has passed, booked or not by then, as a real client's would. It can be changed while serving.
    ``sleep`` is injectable so tests need not wait.
    """

    name = "sandbox"

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        timeout_delay_s: float = 2.0,
        latency_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout_delay_s < 0 or latency_s < 0:
            raise ValueError(f"timeout_delay_s and latency_s must be >= 0 seconds, got {timeout_delay_s}, {latency_s}")
        self.engine = engine if engine is not None else _in_memory_engine()
        self.timeout_delay_s = timeout_delay_s
        self.latency_s = latency_s
        self._sleep = sleep
        self._lock = threading.Lock()
        SANDBOX_METADATA.create_all(self.engine)

    # ------------------------------------------------------------------ network calls

    def authorize(self, *, token: str, amount: Money, reference: str, step_up_verified: bool) -> GatewayResult:
        with self._network(GatewayOperation.AUTHORIZE, reference):
            return self._authorize(token, amount, reference, step_up_verified)

    def capture(self, *, authorization_id: str, amount: Money, reference: str) -> GatewayResult:
        with self._network(GatewayOperation.CAPTURE, reference):
            return self._capture(authorization_id, amount, reference)

    def void(self, *, authorization_id: str, amount: Money, reference: str) -> GatewayResult:
        with self._network(GatewayOperation.VOID, reference):
            return self._void(authorization_id, amount, reference)

    def refund(self, *, capture_id: str, amount: Money, reference: str) -> GatewayResult:
        with self._network(GatewayOperation.REFUND, reference):
            return self._refund(capture_id, amount, reference)

    @contextlib.contextmanager
    def _network(self, operation: GatewayOperation, reference: str) -> Iterator[None]:
        """The trip over a network of ``latency_s``: half before the call lands, half after it answers."""
        latency, limit = self.latency_s, self.timeout_delay_s
        if latency <= 0:
            yield
            return
        self._sleep(min(latency / 2, limit))
        if latency / 2 >= limit:
            self._no_answer(operation, reference)
        yield
        self._sleep(min(latency, limit) - latency / 2)
        if latency > limit:
            self._no_answer(operation, reference)

    def _authorize(self, token: str, amount: Money, reference: str, step_up_verified: bool) -> GatewayResult:
        behaviour = TEST_TOKENS.get(token)
        if behaviour is SandboxBehaviour.TIMEOUT:
            self._time_out(GatewayOperation.AUTHORIZE, reference)
        decline = _AUTH_DECLINES.get(behaviour) if behaviour is not None else DeclineCode.INVALID_TOKEN
        if behaviour is SandboxBehaviour.STEP_UP and not step_up_verified:
            decline = DeclineCode.STEP_UP_REQUIRED
        with self._books() as conn:
            booked = self._record(conn, GatewayOperation.AUTHORIZE, reference, token, None, amount, decline)
        if booked.approved and behaviour is SandboxBehaviour.AUTHORIZE_RESPONSE_LOST:
            self._time_out(GatewayOperation.AUTHORIZE, reference)
        return booked.as_result()

    def _capture(self, authorization_id: str, amount: Money, reference: str) -> GatewayResult:
        with self._books() as conn:
            auth = self._parent(conn, authorization_id, GatewayOperation.AUTHORIZE)
            decline = self._capture_decline(conn, auth, amount)
            token = auth.token if auth is not None else ""
            booked = self._record(conn, GatewayOperation.CAPTURE, reference, token, authorization_id, amount, decline)
        if booked.approved and TEST_TOKENS.get(token) is SandboxBehaviour.CAPTURE_RESPONSE_LOST:
            self._time_out(GatewayOperation.CAPTURE, reference)
        return booked.as_result()

    def _void(self, authorization_id: str, amount: Money, reference: str) -> GatewayResult:
        with self._books() as conn:
            auth = self._parent(conn, authorization_id, GatewayOperation.AUTHORIZE)
            decline = None
            if auth is None or self._children(conn, authorization_id, GatewayOperation.VOID):
                decline = DeclineCode.AUTHORIZATION_NOT_FOUND
            elif self._children(conn, authorization_id, GatewayOperation.CAPTURE):
                decline = DeclineCode.ALREADY_SETTLED
            token = auth.token if auth is not None else ""
            return self._record(conn, GatewayOperation.VOID, reference, token, authorization_id, amount, decline).as_result()

    def _refund(self, capture_id: str, amount: Money, reference: str) -> GatewayResult:
        with self._books() as conn:
            capture = self._parent(conn, capture_id, GatewayOperation.CAPTURE)
            decline = None
            if capture is None:
                decline = DeclineCode.AUTHORIZATION_NOT_FOUND
            elif amount.currency != capture.amount.currency or amount.minor <= 0 or (
                self._sum(self._children(conn, capture_id, GatewayOperation.REFUND)) + amount.minor
                > capture.amount.minor
            ):
                decline = DeclineCode.AMOUNT_EXCEEDS_AUTHORIZATION
            token = capture.token if capture is not None else ""
            return self._record(conn, GatewayOperation.REFUND, reference, token, capture_id, amount, decline).as_result()

    def lookup(self, reference: str) -> GatewayResult | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(network_transactions).where(network_transactions.c.reference == reference)
                .order_by(network_transactions.c.seq).limit(1)
            ).first()
        return _transaction(row).as_result() if row is not None else None

    def describe(self, token: str) -> CardDescription | None:
        return TEST_CARDS.get(token)

    # ------------------------------------------------------------------ the books, for tests and demos

    def transactions(self, *, token: str | None = None) -> list[NetworkTransaction]:
        """Every booked transaction (declines included), oldest first, optionally for one token."""
        query = sa.select(network_transactions).order_by(network_transactions.c.seq)
        if token is not None:
            query = query.where(network_transactions.c.token == token)
        with self.engine.connect() as conn:
            return [_transaction(row) for row in conn.execute(query)]

    def net_charged(self, token: str, currency: str) -> Money:
        """What the shopper behind ``token`` has paid: approved captures minus approved refunds."""
        total = 0
        for txn in self.transactions(token=token):
            if txn.approved and txn.amount.currency == currency:
                total += {GatewayOperation.CAPTURE: 1, GatewayOperation.REFUND: -1}.get(txn.operation, 0) * txn.amount.minor
        return Money(total, currency)

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _books(self) -> Iterator[Connection]:
        """One write transaction on the books, serialised with this instance's other calls."""
        with self._lock, self.engine.begin() as conn:
            yield conn

    def _time_out(self, operation: GatewayOperation, reference: str) -> None:
        self._sleep(self.timeout_delay_s)
        self._no_answer(operation, reference)

    def _no_answer(self, operation: GatewayOperation, reference: str) -> None:
        _LOGGER.info("sandbox %s %s: no answer after %.3f s", operation.value, reference, self.timeout_delay_s)
        raise GatewayTimeoutError(
            f"gateway 'sandbox' did not answer {operation.value} {reference!r} within {self.timeout_delay_s} s",
            gateway=self.name, reference=reference, operation=operation.value,
        )

    @staticmethod
    def _capture_decline(conn: Connection, auth: NetworkTransaction | None, amount: Money) -> DeclineCode | None:
        if auth is None:
            return DeclineCode.AUTHORIZATION_NOT_FOUND
        if SandboxGateway._children(conn, auth.transaction_id, GatewayOperation.VOID):
            return DeclineCode.AUTHORIZATION_NOT_FOUND
        captured = SandboxGateway._sum(SandboxGateway._children(conn, auth.transaction_id, GatewayOperation.CAPTURE))
        if amount.currency != auth.amount.currency or amount.minor <= 0 or captured + amount.minor > auth.amount.minor:
            return DeclineCode.AMOUNT_EXCEEDS_AUTHORIZATION
        return None

    @staticmethod
    def _parent(conn: Connection, transaction_id: str, operation: GatewayOperation) -> NetworkTransaction | None:
        row = conn.execute(
            sa.select(network_transactions).where(
                network_transactions.c.transaction_id == transaction_id,
                network_transactions.c.operation == operation.value,
                network_transactions.c.approved.is_(True),
            ).with_for_update()  # the issuer serialises movements on one authorisation or capture
        ).first()
        return _transaction(row) if row is not None else None

    @staticmethod
    def _children(conn: Connection, parent_id: str, operation: GatewayOperation) -> list[NetworkTransaction]:
        rows = conn.execute(
            sa.select(network_transactions).where(
                network_transactions.c.parent_id == parent_id,
                network_transactions.c.operation == operation.value,
                network_transactions.c.approved.is_(True),
            )
        )
        return [_transaction(row) for row in rows]

    @staticmethod
    def _sum(transactions: list[NetworkTransaction]) -> int:
        return sum(txn.amount.minor for txn in transactions)

    @staticmethod
    def _record(
        conn: Connection, operation: GatewayOperation, reference: str, token: str,
        parent_id: str | None, amount: Money, decline: DeclineCode | None,
    ) -> NetworkTransaction:
        seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(network_transactions.c.seq), 0))).scalar_one() + 1
        txn = NetworkTransaction(
            transaction_id=f"sbx_{uuid.uuid4().hex[:20]}", reference=reference, operation=operation, token=token,
            parent_id=parent_id, amount=amount, approved=decline is None, decline_code=decline,
        )
        conn.execute(network_transactions.insert().values(
            transaction_id=txn.transaction_id, seq=seq, reference=reference, operation=operation.value, token=token,
            parent_id=parent_id, amount_minor=amount.minor, currency=amount.currency, approved=txn.approved,
            decline_code=decline.value if decline is not None else None,
        ))
        return txn


def _transaction(row: sa.Row[Any]) -> NetworkTransaction:
    return NetworkTransaction(
        transaction_id=row.transaction_id, reference=row.reference, operation=GatewayOperation(row.operation),
        token=row.token, parent_id=row.parent_id, amount=Money(int(row.amount_minor), row.currency),
        approved=bool(row.approved), decline_code=DeclineCode(row.decline_code) if row.decline_code else None,
    )
