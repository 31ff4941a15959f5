"""Receipts: the record issued at capture, its e-receipt QR code, and a printable thermal image.

The e-receipt lives at ``https://receipts.omnifit.example/r/<receipt id>``; the
printable image is one column as wide as a thermal printer's print head at 203 dpi
(384 dots on 58 mm paper, 576 dots on 80 mm), black on white, with the store name,
the lines, the total, the VAT included (when the store's rate is given), the payment
method as the last four characters of its TOKEN (never a card number) and the QR code.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.engine import Connection

from assets.qr import MASK_PATTERNS, qr_image, reads_back
from payments.errors import InvalidPaymentRequestError, ReceiptNotFoundError
from payments.intents import PaymentIntent
from payments.money import Money
from payments.orders import Order, load_order
from payments.storage import receipts

_LOGGER = logging.getLogger(__name__)

RECEIPT_URL_BASE = "https://receipts.omnifit.example/r/"
PAPER_WIDTH_DOTS: dict[int, int] = {58: 384, 80: 576}  # printable width at 203 dpi
_MARGIN = 12
_stores = sa.table("stores", sa.column("store_id"), sa.column("name"))


@dataclasses.dataclass(frozen=True)
class Receipt:
    receipt_id: str
    order_id: str
    intent_id: str
    url: str
    created_at_ms: int

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ReceiptDocument:
    """Everything printed on a receipt. ``vat_included`` is None when the store's VAT rate is not given."""

    receipt: Receipt
    store_name: str
    order: Order
    payment_method: str  # what the shopper paid with, as they know it: "Visa ending 4242"
    vat_rate_percent: Decimal | None
    vat_included: Money | None


def receipt_url(receipt_id: str) -> str:
    return f"{RECEIPT_URL_BASE}{receipt_id}"


def issue_receipt_in(conn: Connection, order: Order, now_ms: int) -> Receipt:
    """Record the receipt for ``order`` inside the caller's (capture) transaction."""
    receipt_id = f"rcpt_{uuid.uuid4().hex[:24]}"
    receipt = Receipt(receipt_id, order.order_id, order.intent_id, receipt_url(receipt_id), now_ms)
    conn.execute(receipts.insert().values(**receipt.as_dict()))
    return receipt


def load_receipt(conn: Connection, intent_id: str) -> Receipt:
    """The receipt of a captured intent; :class:`ReceiptNotFoundError` before capture."""
    row = conn.execute(sa.select(receipts).where(receipts.c.intent_id == intent_id)).first()
    if row is None:
        raise ReceiptNotFoundError(f"intent {intent_id} has no receipt; only captured intents have one",
                                   intent_id=intent_id)
    return Receipt(row.receipt_id, row.order_id, row.intent_id, row.url, int(row.created_at_ms))


def store_name(conn: Connection, store_id: str) -> str:
    """The store's display name from the cloud ``stores`` table, or the id when that table or row is absent."""
    if not sa.inspect(conn).has_table("stores"):
        return store_id
    name = conn.execute(sa.select(_stores.c.name).where(_stores.c.store_id == store_id)).scalar()
    return name or store_id


def vat_included(total: Money, rate_percent: Decimal) -> Money:
    """The VAT inside a VAT-inclusive ``total`` at ``rate_percent`` (13 for 13 %), rounded half-even."""
    if rate_percent < 0:
        raise InvalidPaymentRequestError(f"VAT rate must be >= 0 %, got {rate_percent}", field="vat_rate")
    share = Decimal(total.minor) * rate_percent / (Decimal(100) + rate_percent)
    return Money(int(share.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)), total.currency)


def build_document(
    conn: Connection, intent: PaymentIntent, payment_method: str, *, vat_rate_percent: Decimal | None = None
) -> ReceiptDocument:
    """Gather what the receipt of a captured ``intent`` shows; ``payment_method`` as the gateway describes the card."""
    receipt = load_receipt(conn, intent.intent_id)
    order = load_order(conn, intent.intent_id)
    if order is None:
        raise ReceiptNotFoundError(f"intent {intent.intent_id} has a receipt but no order", intent_id=intent.intent_id)
    vat = vat_included(order.total, vat_rate_percent) if vat_rate_percent is not None else None
    return ReceiptDocument(receipt, store_name(conn, intent.store_id), order, payment_method, vat_rate_percent, vat)


def _text_rows(document: ReceiptDocument) -> list[tuple[str, str]]:
    """(left, right) text rows of the receipt body; an empty right puts the text on its own."""
    order = document.order
    created = dt.datetime.fromtimestamp(document.receipt.created_at_ms / 1000, tz=dt.UTC)
    rows = [(created.strftime("%Y-%m-%d %H:%M UTC"), ""), (f"Receipt {document.receipt.receipt_id}", ""), ("-", "")]
    for line in order.lines:
        rows.append((f"{line.quantity} x {line.description or line.sku}", f"{line.total.amount:f}"))
        if line.fulfilment.value == "ship_to_home":
            rows.append(("  ships to your home", ""))
    if not order.lines:
        rows.append((f"Cart {order.cart_id}", f"{order.total.amount:f}"))
    rows += [("-", ""), (f"TOTAL {order.total.currency}", f"{order.total.amount:f}")]
    if document.vat_included is not None:
        rows.append((f"incl. VAT {document.vat_rate_percent}%", f"{document.vat_included.amount:f}"))
    rows += [(f"Paid: {document.payment_method}", ""), (f"Order {order.order_id}", "")]
    return rows


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room_px: float) -> str:
    """``text`` cut short with an ellipsis so it fits in ``room_px`` dots."""
    if draw.textlength(text, font=font) <= room_px:
        return text
    while text and draw.textlength(text + "...", font=font) > room_px:
        text = text[:-1]
    return text + "..."


def render_receipt(document: ReceiptDocument, *, paper_mm: int = 58) -> Image.Image:
    """The printable receipt, ``paper_mm`` 58 or 80 wide: a greyscale image, width in printer dots.

    The finished image is read back with OpenCV's plain QR detector before it is handed
    out, and composed again with another mask pattern when the code does not scan:
    simple scanners miss a few percent of valid codes (a data area that mimics a
    finder pattern), and a receipt whose code does not scan is no e-receipt.
    """
    if paper_mm not in PAPER_WIDTH_DOTS:
        raise InvalidPaymentRequestError(
            f"paper width {paper_mm} mm is not supported; expected one of {sorted(PAPER_WIDTH_DOTS)}", field="paper_mm"
        )
    first = _compose(document, paper_mm, None)
    if reads_back(first, document.receipt.url):
        return first
    for mask in MASK_PATTERNS:
        image = _compose(document, paper_mm, mask)
        if reads_back(image, document.receipt.url):
            return image
    _LOGGER.warning("the QR code of %s does not read back with any mask; printing the default", document.receipt.url)
    return first


def _compose(document: ReceiptDocument, paper_mm: int, mask_pattern: int | None) -> Image.Image:
    width = PAPER_WIDTH_DOTS[paper_mm]
    title_size, text_size = (30, 20) if paper_mm == 80 else (24, 16)
    title_font = ImageFont.load_default(size=title_size)
    font = ImageFont.load_default(size=text_size)
    line_height = int(text_size * 1.4)
    rows = _text_rows(document)
    qr = qr_image(document.receipt.url, int(width * 0.7), mask_pattern=mask_pattern)
    height = _MARGIN * 4 + title_size * 2 + line_height * (len(rows) + 2) + qr.height
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.text((width / 2, _MARGIN), document.store_name, font=title_font, fill=0, anchor="ma")
    y = _MARGIN * 2 + title_size
    for left, right in rows:
        if left == "-":
            draw.line((_MARGIN, y + line_height // 2, width - _MARGIN, y + line_height // 2), fill=0, width=1)
        else:
            room = width - 2 * _MARGIN - (draw.textlength(right + "  ", font=font) if right else 0)
            draw.text((_MARGIN, y), _fit(draw, left, font, room), font=font, fill=0)
            if right:
                draw.text((width - _MARGIN, y), right, font=font, fill=0, anchor="ra")
        y += line_height
    image.paste(qr, ((width - qr.width) // 2, y + _MARGIN))
    y += _MARGIN * 2 + qr.height
    draw.text((width / 2, y), "Scan for your e-receipt", font=font, fill=0, anchor="ma")
    return image


def render_receipt_png(document: ReceiptDocument, *, paper_mm: int = 58) -> bytes:
    """:func:`render_receipt` encoded as PNG bytes."""
    buffer = io.BytesIO()
    render_receipt(document, paper_mm=paper_mm).save(buffer, format="PNG", dpi=(203, 203))
    return buffer.getvalue()
