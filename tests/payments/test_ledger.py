"""The double-entry ledger: balanced entries only, reversals instead of edits, balances and the books check."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from payments import ledger
from payments.errors import LedgerError
from payments.intents import PaymentIntent
from payments.money import Money
from payments.storage import create_engine, create_schema
from tests.payments.conftest import STORE


@pytest.fixture
def books(db_url: str) -> Engine:
    engine = create_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def _sale(amount: Money) -> list[ledger.Posting]:
    return [ledger.Posting("gateway_clearing:sandbox", amount), ledger.Posting(f"store_revenue:{STORE}", -amount)]


def test_post_and_balance(books: Engine) -> None:
    with books.begin() as conn:
        ledger.post_entry(conn, kind=ledger.EntryKind.CAPTURE, postings=_sale(Money(59_900, "CNY")), memo="sale",
                          now_ms=1)
        ledger.post_entry(conn, kind=ledger.EntryKind.CAPTURE, postings=_sale(Money(1_000, "JPY")), memo="sale",
                          now_ms=2)
    with books.connect() as conn:
        assert ledger.balance(conn, "gateway_clearing:sandbox", "CNY") == Money(59_900, "CNY")
        assert ledger.balance(conn, f"store_revenue:{STORE}", "JPY") == Money(-1_000, "JPY")
        assert ledger.balance(conn, "refunds:nowhere", "CNY") == Money.zero("CNY")
        assert len(ledger.balances(conn)) == 4
        check = ledger.check_books(conn)
    assert check.balanced and check.entries == 2 and check.postings == 4
    assert check.totals_minor == {"CNY": 0, "JPY": 0}


@pytest.mark.parametrize(
    ("postings", "message"),
    [([ledger.Posting("gateway_clearing:sandbox", Money(100, "CNY"))], "at least two"),
     ([ledger.Posting("gateway_clearing:sandbox", Money(100, "CNY")),
       ledger.Posting("store_revenue:x", Money(-99, "CNY"))], "sum to zero"),
     ([ledger.Posting("gateway_clearing:sandbox", Money(100, "CNY")),
       ledger.Posting("store_revenue:x", Money(-100, "USD"))], "sum to zero"),
     ([ledger.Posting("gateway_clearing:sandbox", Money(0, "CNY")),
       ledger.Posting("store_revenue:x", Money(0, "CNY"))], "zero"),
     ([ledger.Posting("petty_cash:x", Money(100, "CNY")),
       ledger.Posting("store_revenue:x", Money(-100, "CNY"))], "unknown kind")],
)
def test_unbalanced_entries_are_refused_and_write_nothing(books: Engine, postings: list, message: str) -> None:
    with pytest.raises(LedgerError, match=message), books.begin() as conn:
        ledger.post_entry(conn, kind=ledger.EntryKind.CAPTURE, postings=postings, memo="bad", now_ms=1)
    with books.connect() as conn:
        assert ledger.check_books(conn).entries == 0 and ledger.balances(conn) == []


def test_reversal_mirrors_once(books: Engine) -> None:
    with books.begin() as conn:
        entry = ledger.post_entry(conn, kind=ledger.EntryKind.CAPTURE, postings=_sale(Money(500, "CNY")), memo="m",
                                  now_ms=1, intent_id="pi_1")
        reversal = ledger.reverse_entry(conn, entry.entry_id, memo="mistake", now_ms=2)
    assert reversal.reverses_entry_id == entry.entry_id and reversal.intent_id == "pi_1"
    assert [p.amount for p in reversal.postings] == [-p.amount for p in entry.postings]
    with books.begin() as conn:
        assert ledger.balance(conn, "gateway_clearing:sandbox", "CNY") == Money.zero("CNY")
        with pytest.raises(LedgerError, match="already reversed"):
            ledger.reverse_entry(conn, entry.entry_id, memo="again", now_ms=3)
    with books.begin() as conn, pytest.raises(LedgerError, match="itself a reversal"):
        ledger.reverse_entry(conn, reversal.entry_id, memo="undo the undo", now_ms=3)
    with books.begin() as conn, pytest.raises(LedgerError, match="no ledger entry"):
        ledger.reverse_entry(conn, "je_missing", memo="x", now_ms=3)
    with books.connect() as conn:
        assert [e.kind for e in ledger.entries_for_intent(conn, "pi_1")] == [ledger.EntryKind.CAPTURE,
                                                                           ledger.EntryKind.REVERSAL]


def test_capture_and_refund_post_to_the_books(service, captured_intent: PaymentIntent) -> None:  # type: ignore[no-untyped-def]
    service.refund(captured_intent.intent_id, key="ledger-refund", amount=Money(5_000, "CNY"), staff_id="st-ana")
    with service.engine.connect() as conn:
        entries = ledger.entries_for_intent(conn, captured_intent.intent_id)
        assert [e.kind for e in entries] == [ledger.EntryKind.CAPTURE, ledger.EntryKind.REFUND]
        assert ledger.balance(conn, "gateway_clearing:sandbox", "CNY") == Money(59_900 - 5_000, "CNY")
        assert ledger.balance(conn, f"store_revenue:{STORE}", "CNY") == Money(-59_900, "CNY")
        assert ledger.balance(conn, f"refunds:{STORE}", "CNY") == Money(5_000, "CNY")
        assert ledger.check_books(conn).balanced
