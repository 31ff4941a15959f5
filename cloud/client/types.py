"""Plain values the sync client hands to the kiosk and the mobile app (no protobuf past here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# The cart's states are the wire contract's; the client and the service share one definition.
from cloud.domain.types import CartStatus, ChangeKind, Fulfilment

# ISO 4217 minor-unit exponents for the currencies the catalog prices in.
_EXPONENT = {"CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "JPY": 0, "KRW": 0}


@dataclass(frozen=True)
class Money:
    """An amount as integer minor units plus its ISO 4217 code; never a float."""

    minor_units: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor_units).scaleb(-_EXPONENT.get(self.currency, 2))

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"


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
