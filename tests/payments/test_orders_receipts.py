"""Orders on capture (store stock first, the endless aisle when the shelf is empty) and receipts with a QR code."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from payments.errors import InvalidPaymentRequestError, ReceiptNotFoundError
from payments.intents import PaymentIntent, PurchaseLine
from payments.money import Money
from payments.orders import Fulfilment
from payments.receipts import PAPER_WIDTH_DOTS, RECEIPT_URL_BASE, render_receipt, render_receipt_png, vat_included
from payments.service import PaymentService
from tests.payments.conftest import STORE, new_key

IN_STOCK = "ka-swift-w-CRL-35"  # 2 on hand at sh-jingan in the committed seed
SOLD_OUT = "ka-swift-w-CRL-36.5"  # 0 on hand


def _on_hand(service: PaymentService, sku: str) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT on_hand FROM stock WHERE store_id = :s AND sku = :k"),
                                {"s": STORE, "k": sku}).scalar_one())


def _pay(service: PaymentService, make_intent: Callable[..., PaymentIntent], lines: list[PurchaseLine]) -> PaymentIntent:
    total = sum((line.total for line in lines), Money.zero("CNY"))
    intent = make_intent(amount=f"{total.amount}", lines=lines)
    service.confirm(intent.intent_id, key=new_key())
    return service.capture(intent.intent_id, key=new_key())


def test_capture_takes_store_stock_then_ships_from_the_endless_aisle(
    service: PaymentService, make_intent: Callable[..., PaymentIntent]
) -> None:
    price = Money.parse("299.00", "CNY")
    assert (_on_hand(service, IN_STOCK), _on_hand(service, SOLD_OUT)) == (2, 0)
    first = _pay(service, make_intent, [PurchaseLine(IN_STOCK, 2, price, "Swift W EU 35"),
                                        PurchaseLine(SOLD_OUT, 1, price, "Swift W EU 36.5")])
    order = service.order(first.intent_id)
    assert order is not None and order.total == first.amount
    assert [(line.sku, line.fulfilment) for line in order.lines] == [
        (IN_STOCK, Fulfilment.STORE_STOCK), (SOLD_OUT, Fulfilment.SHIP_TO_HOME)]
    assert (_on_hand(service, IN_STOCK), _on_hand(service, SOLD_OUT)) == (0, 0)
    second = _pay(service, make_intent, [PurchaseLine(IN_STOCK, 1, price)])
    assert service.order(second.intent_id).lines[0].fulfilment is Fulfilment.SHIP_TO_HOME  # type: ignore[union-attr]
    assert _on_hand(service, IN_STOCK) == 0


def test_no_order_before_capture_and_lines_must_add_up(service: PaymentService,
                                                       make_intent: Callable[..., PaymentIntent]) -> None:
    intent = make_intent(amount="10.00")
    assert service.order(intent.intent_id) is None
    with pytest.raises(ReceiptNotFoundError, match="only captured"):
        service.receipt_document(intent.intent_id)
    with pytest.raises(InvalidPaymentRequestError, match="lines add up to 5.00 CNY but the amount is 10.00 CNY"):
        make_intent(amount="10.00", lines=[PurchaseLine(IN_STOCK, 1, Money.parse("5.00", "CNY"))])


@pytest.mark.parametrize("paper_mm", sorted(PAPER_WIDTH_DOTS))
def test_receipt_png_is_printable_and_its_qr_decodes_to_the_e_receipt(
    service: PaymentService, make_intent: Callable[..., PaymentIntent], paper_mm: int, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    intent = _pay(service, make_intent, [PurchaseLine(IN_STOCK, 1, Money.parse("599.00", "CNY"), "Swift W EU 35")])
    document = service.receipt_document(intent.intent_id, vat_rate_percent=Decimal("13"))
    assert document.receipt.url == f"{RECEIPT_URL_BASE}{document.receipt.receipt_id}"
    assert document.store_name == "Omnifit Shanghai Jing'an"
    assert document.vat_included == Money(6_891, "CNY")  # 599.00 * 13 / 113
    path = tmp_path / "receipt.png"
    path.write_bytes(render_receipt_png(document, paper_mm=paper_mm))
    with Image.open(path) as image:
        assert image.width == PAPER_WIDTH_DOTS[paper_mm] and image.format == "PNG"
        pixels = np.asarray(image.convert("L"))
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR))
    assert text == document.receipt.url and points is not None


def test_receipt_names_the_card_as_its_network_describes_it_never_the_token(
    service: PaymentService, make_intent: Callable[..., PaymentIntent]
) -> None:
    intent = _pay(service, make_intent, [PurchaseLine(IN_STOCK, 1, Money.parse("10.00", "CNY"))])
    document = service.receipt_document(intent.intent_id)
    assert document.payment_method == "Visa ending 4242" and document.vat_included is None
    assert "tok_visa_approve" not in str(intent.as_dict())
    assert service.describe_token("tok_not_in_the_vault") == "saved card"  # never the token's own characters
    assert service.describe_token("tok_visa_approve", gateway="unknown") == "saved card"


def test_render_refuses_unknown_paper(service: PaymentService, make_intent: Callable[..., PaymentIntent]) -> None:
    intent = _pay(service, make_intent, [PurchaseLine(IN_STOCK, 1, Money.parse("10.00", "CNY"))])
    with pytest.raises(InvalidPaymentRequestError, match="paper width 110 mm"):
        render_receipt(service.receipt_document(intent.intent_id), paper_mm=110)


@pytest.mark.parametrize(("total", "rate", "vat"), [(11_300, "13", 1_300), (10_000, "0", 0), (1_000, "6", 57)])
def test_vat_included(total: int, rate: str, vat: int) -> None:
    assert vat_included(Money(total, "CNY"), Decimal(rate)) == Money(vat, "CNY")
