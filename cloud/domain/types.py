"""Plain typed values the domain services take and return (no protobuf, no SQL rows).

Lengths are millimetres (as the wire shows them), money integer minor units plus
an ISO 4217 code, times integer milliseconds since the Unix epoch. Shoe sizes and
size charts reuse the catalog seed's own types.
"""
from __future__ import annotations

import enum
import json
import time
from dataclasses import dataclass, field
from typing import Any

from payments.money import Money
from tryon.fit.catalog import ShoeSizeSeed, SizeChartSeed


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class PrincipalKind(str, enum.Enum):
    SHOPPER = "shopper"
    STAFF = "staff"
    DEVICE = "device"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a shopper, a staff member, or a kiosk device bound to ``store_id``."""

    kind: PrincipalKind
    subject_id: str
    store_id: str | None = None  # devices only
    # From the token: the account's credential generation when it was issued (a password change or
    # sign-out-everywhere moves the account's on, ending older tokens) and when it expires (0: unknown).
    generation: int = field(default=0, compare=False)
    expires_at_ms: int = field(default=0, compare=False)

    @property
    def key(self) -> str:
        """Stable text key, e.g. ``device:dev_1f2e``; scopes idempotency keys and rate limits."""
        return f"{self.kind.value}:{self.subject_id}"


class Fulfilment(str, enum.Enum):
    STORE_PICKUP = "store_pickup"
    SHIP_TO_HOME = "ship_to_home"


class CartStatus(str, enum.Enum):
    OPEN = "open"
    MERGED = "merged"
    CHECKED_OUT = "checked_out"


class ChangeKind(str, enum.Enum):
    SNAPSHOT = "snapshot"
    CREATED = "created"
    LINE_ADDED = "line_added"
    LINE_UPDATED = "line_updated"
    LINE_REMOVED = "line_removed"
    CLAIMED = "claimed"
    MERGED = "merged"
    CHECKED_OUT = "checked_out"


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
    delivery_days_min: int = 0  # ship-to-home estimate; 0 for pickup
    delivery_days_max: int = 0


# Snapshots in cart_changes hold money as {"minor_units", "currency"} (the wire's field
# names); stored rows are read back for as long as the table keeps them, so the keys stay.
def _money_dict(money: Money) -> dict[str, object]:
    return {"minor_units": money.minor, "currency": money.currency}


def _money_from(stored: dict[str, Any]) -> Money:
    return Money(stored["minor_units"], stored["currency"])


def _line_dict(line: CartLine) -> dict[str, object]:
    return {
        "line_id": line.line_id,
        "sku": line.sku,
        "product_id": line.product_id,
        "name": line.name,
        "size_label": line.size_label,
        "colour": line.colour,
        "quantity": line.quantity,
        "unit_price": _money_dict(line.unit_price),
        "fulfilment": line.fulfilment.value,
        "delivery_days_min": line.delivery_days_min,
        "delivery_days_max": line.delivery_days_max,
    }


@dataclass(frozen=True)
class Cart:
    cart_id: str
    version: int
    store_id: str
    owner_shopper_id: str | None
    created_by_device: str | None
    status: CartStatus
    merged_into: str | None
    lines: tuple[CartLine, ...]
    subtotal: Money
    updated_at_ms: int

    def to_json(self) -> str:
        # Built by hand: dataclasses.asdict deep-copies and is slow on the mutation path.
        body = {
            "cart_id": self.cart_id,
            "version": self.version,
            "store_id": self.store_id,
            "owner_shopper_id": self.owner_shopper_id,
            "created_by_device": self.created_by_device,
            "status": self.status.value,
            "merged_into": self.merged_into,
            "lines": [_line_dict(line) for line in self.lines],
            "subtotal": _money_dict(self.subtotal),
            "updated_at_ms": self.updated_at_ms,
        }
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Cart:
        raw = json.loads(text)
        lines = tuple(
            CartLine(**{**line, "unit_price": _money_from(line["unit_price"]), "fulfilment": Fulfilment(line["fulfilment"])})
            for line in raw.pop("lines")
        )
        return cls(**{**raw, "lines": lines, "subtotal": _money_from(raw["subtotal"]), "status": CartStatus(raw["status"])})


@dataclass(frozen=True)
class CartChange:
    """One stored version of a cart: what happened and the cart as of that version."""

    kind: ChangeKind
    cart: Cart


@dataclass(frozen=True)
class FootMeasurements:
    length_mm: float = 0.0
    width_mm: float = 0.0
    ball_girth_mm: float = 0.0
    instep_girth_mm: float = 0.0
    instep_height_mm: float = 0.0
    arch_height_mm: float = 0.0
    heel_width_mm: float = 0.0
    toe_height_mm: float = 0.0


@dataclass(frozen=True)
class BodyMeasurements:
    height_mm: float = 0.0
    chest_girth_mm: float = 0.0
    waist_girth_mm: float = 0.0
    hip_girth_mm: float = 0.0
    inseam_mm: float = 0.0
    shoulder_width_mm: float = 0.0
    arm_length_mm: float = 0.0


@dataclass(frozen=True)
class FitProfile:
    """A shopper's (or an anonymous kiosk session's) measurements; ``None`` where never measured."""

    shopper_id: str | None = None
    left_foot: FootMeasurements | None = None
    right_foot: FootMeasurements | None = None
    body: BodyMeasurements | None = None
    updated_at_ms: int = 0


@dataclass(frozen=True)
class Session:
    token: str
    subject_id: str
    expires_at_ms: int


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str
    city: str
    timezone: str
    ship_days_min: int = 0  # ship-to-home estimate for a size the store lacks
    ship_days_max: int = 0


@dataclass(frozen=True)
class Variant:
    sku: str
    colour: str
    size_label: str
    shoe_size: ShoeSizeSeed | None = None


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    brand: str
    category: str  # shoes | tops | bottoms
    gender: str  # men | women | unisex
    description: str
    price: Money
    price_secondary: Money
    colours: tuple[str, ...]
    variants: tuple[Variant, ...]
    size_chart: SizeChartSeed | None
    model_uri: str


@dataclass(frozen=True)
class ProductPage:
    products: tuple[Product, ...]
    next_page_token: str
    total_size: int


@dataclass(frozen=True)
class StockLevel:
    sku: str
    store_id: str
    on_hand: int


@dataclass(frozen=True)
class PairingCode:
    code: str
    expires_at_ms: int
    qr_payload: str
    qr_png: bytes = field(repr=False)
