"""Double-entry ledger in the cloud database: accounts, immutable journal entries, balances.

Every posting is signed integer minor units of one currency, debit positive and
credit negative; the postings of an entry sum to zero per currency. Entries are
never updated or deleted: :func:`reverse_entry` posts the mirror image instead.

Accounts used by the payment service (``kind:owner``):

- ``gateway_clearing:<gateway>`` — asset: money the gateway holds for us until settlement;
- ``store_revenue:<store_id>`` — income from sales at a store (credit balance);
- ``refunds:<store_id>`` — contra-income: money given back to shoppers (debit balance).

A capture posts Dr gateway_clearing / Cr store_revenue; a refund posts
Dr refunds / Cr gateway_clearing. The shopper's side (what their payment method was
charged) is the gateway's books, not ours: the sandbox keeps them per token, and
``gateway_clearing`` must agree with them at settlement.
"""
from __future__ import annotations

import dataclasses
import enum
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from omnifit.errors import ErrorCode
from payments.errors import LedgerError
from payments.money import Money
from payments.storage import ledger_accounts, ledger_entries, ledger_postings


class AccountKind(str, enum.Enum):
    """What an account holds; stable values stored in ``ledger_accounts.kind``."""

    GATEWAY_CLEARING = "gateway_clearing"
    STORE_REVENUE = "store_revenue"
    REFUNDS = "refunds"


class EntryKind(str, enum.Enum):
    """Why an entry was posted."""

    CAPTURE = "capture"
    REFUND = "refund"
    REVERSAL = "reversal"


def account_name(kind: AccountKind, owner: str) -> str:
    """The account code for ``owner`` (a gateway name or a store id), e.g. ``store_revenue:sh-001``."""
    return f"{kind.value}:{owner}"


@dataclasses.dataclass(frozen=True)
class Posting:
    """One line of an entry: ``amount`` debited (positive) or credited (negative) to ``account``."""

    account: str
    amount: Money


@dataclasses.dataclass(frozen=True)
class JournalEntry:
    """A posted entry and its postings."""

    entry_id: str
    kind: EntryKind
    intent_id: str | None
    memo: str
    reverses_entry_id: str | None
    created_at_ms: int
    postings: tuple[Posting, ...]


@dataclasses.dataclass(frozen=True)
class BooksCheck:
    """Whether the books balance: every entry and the whole ledger sum to zero per currency."""

    balanced: bool
    entries: int
    postings: int
    totals_minor: dict[str, int]
    unbalanced_entries: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self) | {"unbalanced_entries": list(self.unbalanced_entries)}


def _check_balanced(postings: Sequence[Posting]) -> None:
    if len(postings) < 2:
        raise LedgerError(f"an entry needs at least two postings, got {len(postings)}", field="postings")
    sums: dict[str, int] = defaultdict(int)
    for posting in postings:
        if posting.amount.minor == 0:
            raise LedgerError(f"posting to {posting.account} is zero; expected a non-zero amount", field="postings")
        sums[posting.amount.currency] += posting.amount.minor
    off = {currency: total for currency, total in sums.items() if total != 0}
    if off:
        raise LedgerError(f"postings must sum to zero per currency; got {off} (minor units)", field="postings")


_INSERT_BY_DIALECT: dict[str, Callable[..., Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _ensure_accounts(conn: Connection, accounts: set[str], now_ms: int) -> None:
    insert = _INSERT_BY_DIALECT[conn.dialect.name]
    for account in sorted(accounts):
        kind = account.split(":", 1)[0]
        if kind not in {k.value for k in AccountKind}:
            raise LedgerError(f"account {account!r} has unknown kind {kind!r}; expected one of "
                              f"{[k.value for k in AccountKind]}", field="account")
        statement = insert(ledger_accounts).values(account=account, kind=kind, created_at_ms=now_ms)
        conn.execute(statement.on_conflict_do_nothing(index_elements=["account"]))


def post_entry(
    conn: Connection, *, kind: EntryKind, postings: Sequence[Posting], memo: str, now_ms: int,
    intent_id: str | None = None, reverses_entry_id: str | None = None,
) -> JournalEntry:
    """Post one balanced entry inside the caller's transaction; :class:`LedgerError` if it does not balance."""
    _check_balanced(postings)
    _ensure_accounts(conn, {p.account for p in postings}, now_ms)
    entry = JournalEntry(
        entry_id=f"je_{uuid.uuid4().hex[:24]}", kind=kind, intent_id=intent_id, memo=memo,
        reverses_entry_id=reverses_entry_id, created_at_ms=now_ms, postings=tuple(postings),
    )
    conn.execute(ledger_entries.insert().values(
        entry_id=entry.entry_id, kind=kind.value, intent_id=intent_id, memo=memo,
        reverses_entry_id=reverses_entry_id, created_at_ms=now_ms,
    ))
    conn.execute(ledger_postings.insert(), [
        {"entry_id": entry.entry_id, "account": p.account, "currency": p.amount.currency, "amount_minor": p.amount.minor}
        for p in postings
    ])
    return entry


def load_entry(conn: Connection, entry_id: str) -> JournalEntry:
    """The entry ``entry_id`` with its postings; :class:`LedgerError` when there is none."""
    row = conn.execute(sa.select(ledger_entries).where(ledger_entries.c.entry_id == entry_id)).first()
    if row is None:
        raise LedgerError(f"no ledger entry {entry_id!r}", field="entry_id", code=ErrorCode.NOT_FOUND)
    postings = conn.execute(
        sa.select(ledger_postings).where(ledger_postings.c.entry_id == entry_id).order_by(ledger_postings.c.posting_id)
    )
    return JournalEntry(
        entry_id=row.entry_id, kind=EntryKind(row.kind), intent_id=row.intent_id, memo=row.memo,
        reverses_entry_id=row.reverses_entry_id, created_at_ms=int(row.created_at_ms),
        postings=tuple(Posting(p.account, Money(int(p.amount_minor), p.currency)) for p in postings),
    )


def entries_for_intent(conn: Connection, intent_id: str) -> list[JournalEntry]:
    """Every entry about one intent, oldest first."""
    ids = conn.execute(
        sa.select(ledger_entries.c.entry_id).where(ledger_entries.c.intent_id == intent_id)
        .order_by(ledger_entries.c.created_at_ms, ledger_entries.c.entry_id)
    ).scalars()
    return [load_entry(conn, entry_id) for entry_id in ids]


def reverse_entry(conn: Connection, entry_id: str, *, memo: str, now_ms: int) -> JournalEntry:
    """Post the mirror image of ``entry_id`` (each posting negated); an entry can be reversed once."""
    original = load_entry(conn, entry_id)
    if original.kind is EntryKind.REVERSAL:
        raise LedgerError(f"entry {entry_id} is itself a reversal; post a new entry instead", field="entry_id")
    already = conn.execute(
        sa.select(ledger_entries.c.entry_id).where(ledger_entries.c.reverses_entry_id == entry_id)
    ).first()
    if already is not None:
        raise LedgerError(f"entry {entry_id} was already reversed by {already.entry_id}", field="entry_id")
    return post_entry(
        conn, kind=EntryKind.REVERSAL, memo=memo, now_ms=now_ms, intent_id=original.intent_id,
        reverses_entry_id=entry_id, postings=[Posting(p.account, -p.amount) for p in original.postings],
    )


def balance(conn: Connection, account: str, currency: str) -> Money:
    """The balance of ``account`` in ``currency`` (debits minus credits, minor units)."""
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(ledger_postings.c.amount_minor), 0)).where(
            ledger_postings.c.account == account, ledger_postings.c.currency == currency
        )
    ).scalar_one()
    return Money(int(total), currency)


def balances(conn: Connection) -> list[tuple[str, Money]]:
    """Every account's balance per currency, sorted by account then currency."""
    rows = conn.execute(
        sa.select(ledger_postings.c.account, ledger_postings.c.currency, sa.func.sum(ledger_postings.c.amount_minor))
        .group_by(ledger_postings.c.account, ledger_postings.c.currency)
        .order_by(ledger_postings.c.account, ledger_postings.c.currency)
    )
    return [(account, Money(int(total), currency)) for account, currency, total in rows]


def check_books(conn: Connection) -> BooksCheck:
    """Sum every entry and the whole ledger per currency; balanced when all are zero."""
    per_entry = conn.execute(
        sa.select(ledger_postings.c.entry_id, ledger_postings.c.currency, sa.func.sum(ledger_postings.c.amount_minor))
        .group_by(ledger_postings.c.entry_id, ledger_postings.c.currency)
    ).all()
    unbalanced = sorted({entry_id for entry_id, _currency, total in per_entry if int(total) != 0})
    totals: dict[str, int] = defaultdict(int)
    for _entry_id, currency, total in per_entry:
        totals[currency] += int(total)
    entries = conn.execute(sa.select(sa.func.count()).select_from(ledger_entries)).scalar_one()
    postings = conn.execute(sa.select(sa.func.count()).select_from(ledger_postings)).scalar_one()
    return BooksCheck(
        balanced=not unbalanced and all(total == 0 for total in totals.values()),
        entries=int(entries), postings=int(postings), totals_minor=dict(totals), unbalanced_entries=tuple(unbalanced),
    )
