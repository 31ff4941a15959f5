"""Plain values the sync client hands to the kiosk and the mobile app (no protobuf past here)."""
from __future__ import annotations

from dataclasses import dataclass, field

# The cart's states and money are the wire contract's; the client and the service share one definition.
from cloud.domain.types import CartStatus as CartStatus
from cloud.domain.types import ChangeKind as ChangeKind
from cloud.domain.types import Fulfilment as Fulfilment
from payments.intents import IntentState as IntentState
from payments.money import Money as Money  # the apps take amounts from here


@dataclass(frozen=True)
class CartLine:
    line_id: str
    sku: str
    product_id: str
    name: str
    size_label: str
    colour: str
    quantity: int
    unit_price: Money
    fulfilment: Fulfilment
    delivery_days: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Cart:
    cart_id: str
    version: int
    store_id: str
    owner_shopper_id: str
    status: CartStatus
    lines: tuple[CartLine, ...]
    subtotal: Money
    merged_into: str = ""

    def quantity_of(self, sku: str) -> int:
        return sum(line.quantity for line in self.lines if line.sku == sku)


@dataclass(frozen=True)
class CartEvent:
    kind: ChangeKind
    cart: Cart


@dataclass(frozen=True)
class Variant:
    sku: str
    colour: str
    size_label: str
    eu: str = ""
    us: str = ""
    uk: str = ""
    mondopoint_mm: int = 0


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    brand: str
    category: str
    gender: str
    price: Money
    price_secondary: Money
    variants: tuple[Variant, ...]
    description: str = ""
    model_uri: str = ""


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    city: str
    timezone: str
    ship_days: tuple[int, int] = (0, 0)  # (min, max) days to deliver a size the store lacks


@dataclass(frozen=True)
class ProductPage:
    products: tuple[Product, ...]
    next_page_token: str
    total_size: int
    stale: bool = False  # served from the local cache while the cloud was unreachable


@dataclass(frozen=True)
class PairingCode:
    code: str
    expires_at_ms: int
    qr_payload: str
    qr_png: bytes


@dataclass(frozen=True)
class Session:
    token: str
    subject_id: str
    expires_at_ms: int


@dataclass(frozen=True)
class QueuedMutation:
    """A mutation kept in the outbox while the cloud is unreachable; replayed exactly once."""

    seq: int
    cart_id: str
    method: str
    idempotency_key: str


@dataclass(frozen=True)
class FitProfile:
    shopper_id: str
    left_foot: dict[str, float] = field(default_factory=dict)
    right_foot: dict[str, float] = field(default_factory=dict)
    body: dict[str, float] = field(default_factory=dict)


# --- face pay and payments ---------------------------------------------------------------


@dataclass(frozen=True)
class FaceConsent:
    """The consent the shopper gave on the device, as they saw it.

    ``granted_at_ms`` is when they agreed (0: now); ``retention_days`` 1..1095.
    """

    purpose: str
    retention_days: int
    granted_at_ms: int = 0
    text_version: str = "face-pay-consent-v1"


@dataclass(frozen=True)
class FaceEnrollment:
    shopper_id: str
    template_id: str
    consent_id: str
    expires_at_ms: int
    channel: str  # "kiosk" or "app"
    payment_method: str  # the enrolled card: "Visa ending 4242"
    phone_hint: str  # "...8000": the digits the shopper types at checkout


@dataclass(frozen=True)
class FaceEnrollmentStatus:
    shopper_id: str
    enrolled: bool
    enrollment: FaceEnrollment | None = None


@dataclass(frozen=True)
class FaceMatch:
    """One identification at a kiosk. On a miss only ``threshold`` and ``attempts_left`` say anything.

    ``step_up_required``: the match is near the threshold, the payment needs the PIN.
    ``match_token`` goes to :meth:`SyncClient.create_payment_intent` (``face_match=``);
    it is short-lived (``match_expires_at_ms``) and bound to this kiosk.
    """

    matched: bool
    shopper_id: str
    distance: float
    threshold: float
    step_up_required: bool
    match_token: str
    match_expires_at_ms: int
    payment_method: str
    attempts_left: int


@dataclass(frozen=True)
class FaceDataDeletion:
    shopper_id: str
    template_id: str
    deleted: bool  # False: nothing was stored (a repeated deletion)


@dataclass(frozen=True)
class PaymentPinStatus:
    shopper_id: str
    pin_set: bool
    updated_at_ms: int


@dataclass(frozen=True)
class PaymentLine:
    sku: str
    quantity: int
    unit_price: Money
    description: str


@dataclass(frozen=True)
class PaymentIntent:
    """A payment intent as the cloud holds it; ``status`` is :class:`payments.intents.IntentState`."""

    intent_id: str
    status: IntentState
    amount: Money
    captured: Money
    refunded: Money
    cart_id: str
    store_id: str
    shopper_id: str
    payment_method: str  # "Visa ending 4242" (or "Face pay (Visa ending 4242)")
    gateway: str
    lines: tuple[PaymentLine, ...]
    step_up_required: bool  # confirming needs the shopper's PIN
    failure_code: str  # the gateway's decline code when failed
    order_id: str  # set once captured
    created_at_ms: int
    updated_at_ms: int


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    description: str
    quantity: int
    unit_price: Money
    fulfilment: str  # "store_stock" or "ship_to_home"


@dataclass(frozen=True)
class Receipt:
    """A captured payment's receipt; show ``url`` as a QR code, print ``printable_png`` (when asked for)."""

    receipt_id: str
    order_id: str
    intent_id: str
    url: str
    store_id: str
    store_name: str
    lines: tuple[ReceiptLine, ...]
    total: Money
    payment_method: str
    created_at_ms: int
    printable_png: bytes = b""


@dataclass(frozen=True)
class Order:
    """One of the signed-in shopper's orders; its receipt is ``get_receipt(intent_id)``."""

    order_id: str
    intent_id: str
    store_id: str
    store_name: str
    total: Money
    lines: tuple[ReceiptLine, ...]
    created_at_ms: int


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[Order, ...]
    next_page_token: str  # empty on the last page
    total_size: int
