"""``omnifit pay …``: a payment intent's life cycle from the command line, on the sandbox gateway.

``create`` → ``confirm`` (PIN from stdin when step-up asks) → ``capture`` (order and
receipt) → staff ``refund``; ``cancel`` before capture; ``reconcile`` after a lost
gateway answer; ``show``, ``receipt`` (PNG) and ``ledger`` (balances and the books
check) to look. Every call that moves money takes ``--key``: running the same command
again returns the same result and never charges twice.

Only the standard library is imported at module level (``omnifit --help`` stays fast).
Bad input raises an ``OmnifitError``: ``omnifit`` prints it and exits 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_DB_URL = "sqlite:///./var/omnifit.sqlite"
DB_HELP = "database URL (default: $OMNIFIT_DB_URL or sqlite:///./var/omnifit.sqlite)"
PIN_RECORDS_ENV = "OMNIFIT_PIN_RECORDS"
SANDBOX_DELAY_ENV = "OMNIFIT_SANDBOX_TIMEOUT_S"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pay = subparsers.add_parser("pay", help="payment intents: create, confirm, capture, cancel, refund, ledger")
    commands = pay.add_subparsers(dest="pay_command", metavar="ACTION")
    commands.required = True

    create = _add(commands, "create", "create a payment intent", _create, key=True)
    create.add_argument("--amount", required=True, help="decimal amount in major units, e.g. 599.00")
    create.add_argument("--currency", required=True, help="ISO 4217 code, e.g. CNY")
    create.add_argument("--token", required=True, help="opaque payment-method token (never a card number)")
    create.add_argument("--store", default="sh-jingan", help="store id (default: sh-jingan)")
    create.add_argument("--shopper", default="walk-in", help="shopper id (default: walk-in)")
    create.add_argument("--cart", default="cart-cli", help="cart id (default: cart-cli)")
    create.add_argument("--line", action="append", default=[], metavar="SKU:QTY:UNIT_PRICE[:DESCRIPTION]",
                        help="a purchased line; repeat for each (the lines must add up to --amount)")
    create.add_argument("--gateway", default="sandbox", help="gateway plugin (default: sandbox)")

    confirm = _add(commands, "confirm", "authorise an intent", _confirm, intent=True, key=True)
    confirm.add_argument("--pin-stdin", action="store_true", help="read the shopper's PIN from the first line of stdin")
    confirm.add_argument("--face-match-close", action="store_true", help="the face match was close: ask for the PIN")
    confirm.add_argument("--pin-records", type=Path,
                         help=f"JSON {{shopper_id: scrypt record}} from the account layer (default: ${PIN_RECORDS_ENV})")

    _add(commands, "capture", "capture an authorised intent (creates the order and receipt)", _capture,
         intent=True, key=True)
    _add(commands, "cancel", "cancel an intent before capture", _cancel, intent=True, key=True)
    refund = _add(commands, "refund", "refund all or part of a captured intent (staff only)", _refund,
                  intent=True, key=True)
    refund.add_argument("--amount", required=True, help="decimal amount to give back, in the intent's currency")
    refund.add_argument("--staff", required=True, help="the verified staff id authorising the refund")
    _add(commands, "reconcile", "settle an interrupted gateway call by looking it up at the gateway", _reconcile,
         intent=True)
    _add(commands, "show", "show an intent, its order and receipt", _show, intent=True)
    receipt = _add(commands, "receipt", "write the printable receipt PNG of a captured intent", _receipt, intent=True)
    receipt.add_argument("--out", required=True, type=Path, help="PNG file to write")
    receipt.add_argument("--paper", type=int, choices=(58, 80), default=58, help="thermal paper width in mm")
    receipt.add_argument("--vat", help="the store's VAT rate in percent, printed as VAT included (e.g. 13)")
    _add(commands, "ledger", "account balances and whether the books balance", _ledger)
    pin = _add(commands, "pin-hash", "print the salted scrypt record of a PIN read from stdin", _pin_hash,
               needs_db=False)
    pin.add_argument("--pin-stdin", action="store_true", required=True, help="read the PIN from stdin")


def _add(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, handler: Any, *, intent: bool = False,
         key: bool = False, needs_db: bool = True) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text)
    if intent:
        parser.add_argument("intent", metavar="INTENT", help="payment intent id (pi_...)")
    if key:
        parser.add_argument("--key", required=True, help="idempotency key: the same key never charges twice")
    if needs_db:
        parser.add_argument("--db", help=DB_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=handler)
    return parser


def _service(args: argparse.Namespace, pin_records: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from payments.service import open_service

    return open_service(args.db or os.environ.get("OMNIFIT_DB_URL") or DEFAULT_DB_URL, pin_records=pin_records,
                        sandbox_timeout_s=float(os.environ.get(SANDBOX_DELAY_ENV, "2.0")))


def _view(service: Any, intent: Any) -> dict[str, Any]:
    from payments.errors import ReceiptNotFoundError
    from payments.receipts import load_receipt

    order = service.order(intent.intent_id)
    try:
        with service.engine.connect() as conn:
            receipt_url: str | None = load_receipt(conn, intent.intent_id).url
    except ReceiptNotFoundError:
        receipt_url = None
    shown = {**intent.as_dict(), "payment_method": service.payment_method(intent)}  # the card, not the token's tail
    return {"intent": shown, "order": order.as_dict() if order else None, "receipt_url": receipt_url}


def _print_intent(args: argparse.Namespace, service: Any, intent: Any) -> int:
    view = _view(service, intent)
    if args.json:
        print(json.dumps(view, sort_keys=True))
    else:
        print(f"{intent.intent_id} {intent.state.value} {intent.amount} captured {intent.captured} "
              f"refunded {intent.refunded}")
        if view["receipt_url"]:
            print(f"receipt {view['receipt_url']}")
    return 0


def _parse_line(text: str, currency: str):  # type: ignore[no-untyped-def]
    from payments.errors import InvalidPaymentRequestError
    from payments.intents import PurchaseLine
    from payments.money import Money

    parts = text.split(":", 3)
    if len(parts) < 3 or not parts[1].isdigit():
        raise InvalidPaymentRequestError(f"--line {text!r}: expected SKU:QTY:UNIT_PRICE[:DESCRIPTION]", field="line")
    return PurchaseLine(parts[0], int(parts[1]), Money.parse(parts[2], currency), parts[3] if len(parts) > 3 else "")


def _create(args: argparse.Namespace) -> int:
    from payments.money import Money

    service = _service(args)
    lines = [_parse_line(text, args.currency) for text in args.line]
    intent = service.create_intent(key=args.key, amount=Money.parse(args.amount, args.currency),
                                   payment_token=args.token, cart_id=args.cart, store_id=args.store,
                                   shopper_id=args.shopper, gateway=args.gateway, lines=lines)
    return _print_intent(args, service, intent)


def _read_pin_records(path: Path | None) -> dict[str, str]:
    from payments.errors import InvalidPaymentRequestError

    source = path or (Path(os.environ[PIN_RECORDS_ENV]) if os.environ.get(PIN_RECORDS_ENV) else None)
    if source is None:
        return {}
    try:
        records = json.loads(source.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidPaymentRequestError(f"PIN records file {source}: {exc}", field="pin_records") from exc
    if not isinstance(records, dict):
        raise InvalidPaymentRequestError(f"PIN records file {source}: expected a JSON object", field="pin_records")
    return records


def _confirm(args: argparse.Namespace) -> int:
    pin = sys.stdin.readline().rstrip("\r\n") if args.pin_stdin else None
    service = _service(args, _read_pin_records(args.pin_records))
    intent = service.confirm(args.intent, key=args.key, pin=pin, face_match_close=args.face_match_close)
    return _print_intent(args, service, intent)


def _capture(args: argparse.Namespace) -> int:
    service = _service(args)
    return _print_intent(args, service, service.capture(args.intent, key=args.key))


def _cancel(args: argparse.Namespace) -> int:
    service = _service(args)
    return _print_intent(args, service, service.cancel(args.intent, key=args.key))


def _refund(args: argparse.Namespace) -> int:
    from payments.money import Money

    service = _service(args)
    currency = service.get(args.intent).amount.currency
    intent = service.refund(args.intent, key=args.key, amount=Money.parse(args.amount, currency), staff_id=args.staff)
    return _print_intent(args, service, intent)


def _reconcile(args: argparse.Namespace) -> int:
    service = _service(args)
    return _print_intent(args, service, service.reconcile(args.intent))


def _show(args: argparse.Namespace) -> int:
    service = _service(args)
    return _print_intent(args, service, service.get(args.intent))


def _receipt(args: argparse.Namespace) -> int:
    from decimal import Decimal, InvalidOperation

    from payments.errors import InvalidPaymentRequestError
    from payments.receipts import render_receipt_png

    try:
        vat = Decimal(args.vat) if args.vat is not None else None
    except InvalidOperation as exc:
        raise InvalidPaymentRequestError(f"--vat {args.vat!r} is not a number of percent", field="vat") from exc
    service = _service(args)
    document = service.receipt_document(args.intent, vat_rate_percent=vat)
    png = render_receipt_png(document, paper_mm=args.paper)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png)
    if args.json:
        print(json.dumps({"receipt_id": document.receipt.receipt_id, "url": document.receipt.url,
                          "path": str(args.out), "bytes": len(png), "paper_mm": args.paper}, sort_keys=True))
    else:
        print(f"wrote {args.out} ({document.receipt.url})")
    return 0


def _ledger(args: argparse.Namespace) -> int:
    from payments import ledger

    service = _service(args)
    with service.engine.connect() as conn:
        check = ledger.check_books(conn)
        balances = ledger.balances(conn)
    if args.json:
        print(json.dumps(check.as_dict() | {"balances": [
            {"account": account, **money.as_dict()} for account, money in balances]}, sort_keys=True))
    else:
        for account, money in balances:
            print(f"{account:40s} {money}")
        print("books balance" if check.balanced else f"books DO NOT balance: {check.unbalanced_entries}")
    return 0 if check.balanced else 1


def _pin_hash(args: argparse.Namespace) -> int:
    from payments.stepup import hash_pin

    record = hash_pin(sys.stdin.readline().rstrip("\r\n")).encode()
    print(json.dumps({"pin_record": record}) if args.json else record)
    return 0
