"""Protobuf <-> domain values. Protobuf stops here: nothing past this module sees a message.

Enums convert by name: a domain value ``store_pickup`` is the wire name
``FULFILMENT_STORE_PICKUP``; an unknown wire number is an ``InvalidArgument``.
"""
from __future__ import annotations

import enum
from dataclasses import fields
from typing import Any, TypeVar

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from cloud.domain import types as dt
from cloud.errors import InvalidArgument
from payments.money import Money
from proto.omnifit.v1 import cart_pb2, catalog_pb2, common_pb2, pairing_pb2, profile_pb2

_M = TypeVar("_M", dt.FootMeasurements, dt.BodyMeasurements)


def to_wire_enum(wrapper: EnumTypeWrapper, prefix: str, value: str | enum.Enum) -> Any:
    """The wire number of a domain enum value: an int, typed as each message's own ``ValueType``."""
    text = value.value if isinstance(value, enum.Enum) else value
    return wrapper.Value(f"{prefix}_{text.upper()}")


def from_wire_enum(wrapper: EnumTypeWrapper, prefix: str, number: int, field: str) -> str:
    """The domain spelling of a wire enum value; ``""`` for UNSPECIFIED."""
    try:
        name = wrapper.Name(number)
    except ValueError as exc:
        raise InvalidArgument(f"{field} {number} is not a known value", field=field) from exc
    return "" if name.endswith("_UNSPECIFIED") else name[len(prefix) + 1 :].lower()


def money(value: Money) -> common_pb2.Money:
    return common_pb2.Money(minor_units=value.minor, currency=value.currency)


def cart_line(line: dt.CartLine) -> cart_pb2.CartLine:
    return cart_pb2.CartLine(
        line_id=line.line_id,
        sku=line.sku,
        product_id=line.product_id,
        name=line.name,
        size_label=line.size_label,
        colour=line.colour,
        quantity=line.quantity,
        unit_price=money(line.unit_price),
        fulfilment=to_wire_enum(cart_pb2.Fulfilment, "FULFILMENT", line.fulfilment),
        delivery_days_min=line.delivery_days_min,
        delivery_days_max=line.delivery_days_max,
    )


def cart(value: dt.Cart) -> cart_pb2.Cart:
    return cart_pb2.Cart(
        cart_id=value.cart_id,
        version=value.version,
        store_id=value.store_id,
        owner_shopper_id=value.owner_shopper_id or "",
        status=to_wire_enum(cart_pb2.CartStatus, "CART_STATUS", value.status),
        merged_into=value.merged_into or "",
        lines=[cart_line(line) for line in value.lines],
        subtotal=money(value.subtotal),
        updated_at_ms=value.updated_at_ms,
    )


def cart_event(change: dt.CartChange) -> cart_pb2.CartEvent:
    return cart_pb2.CartEvent(kind=to_wire_enum(cart_pb2.CartChangeKind, "CART_CHANGE_KIND", change.kind), cart=cart(change.cart))


def product(value: dt.Product) -> catalog_pb2.Product:
    message = catalog_pb2.Product(
        product_id=value.product_id,
        name=value.name,
        brand=value.brand,
        category=to_wire_enum(catalog_pb2.Category, "CATEGORY", value.category),
        gender=to_wire_enum(catalog_pb2.Gender, "GENDER", value.gender),
        description=value.description,
        price=money(value.price),
        price_secondary=money(value.price_secondary),
        colours=list(value.colours),
        model_uri=value.model_uri,
    )
    for variant in value.variants:
        out = message.variants.add(sku=variant.sku, colour=variant.colour, size_label=variant.size_label)
        if variant.shoe_size is not None:
            shoe = variant.shoe_size
            out.shoe_size.CopyFrom(
                catalog_pb2.ShoeSize(
                    eu=shoe.eu,
                    us=shoe.us,
                    uk=shoe.uk,
                    mondopoint_mm=shoe.mondopoint_mm,
                    last_length_mm=shoe.last_length_mm,
                    last_ball_girth_mm=shoe.last_ball_girth_mm,
                )
            )
    if value.size_chart is not None:
        chart = value.size_chart
        row_fields = set(catalog_pb2.SizeChartRow.DESCRIPTOR.fields_by_name)  # the wire carries no height range
        message.size_chart.CopyFrom(
            catalog_pb2.SizeChart(
                rows=[catalog_pb2.SizeChartRow(**{k: v for k, v in vars(r).items() if k in row_fields}) for r in chart.rows],
                ease_chest_mm=chart.ease_chest_mm,
                ease_waist_mm=chart.ease_waist_mm,
                ease_hip_mm=chart.ease_hip_mm,
            )
        )
    return message


def store(value: dt.Store) -> catalog_pb2.Store:
    return catalog_pb2.Store(store_id=value.store_id, name=value.name, city=value.city, timezone=value.timezone,
                             ship_days_min=value.ship_days_min, ship_days_max=value.ship_days_max)


def _measurements(message: object, cls: type[_M]) -> _M:
    return cls(**{f.name: getattr(message, f.name) for f in fields(cls)})


def fit_profile(value: dt.FitProfile) -> profile_pb2.FitProfile:
    message = profile_pb2.FitProfile(shopper_id=value.shopper_id or "", updated_at_ms=value.updated_at_ms)
    for name in ("left_foot", "right_foot", "body"):
        section = getattr(value, name)
        if section is not None:
            getattr(message, name).CopyFrom(type(getattr(message, name))(**vars(section)))
    return message


def fit_profile_update(message: profile_pb2.FitProfile) -> dt.FitProfile:
    """The sections set on the wire; unset ones are ``None`` (they keep their stored values)."""
    return dt.FitProfile(
        left_foot=_measurements(message.left_foot, dt.FootMeasurements) if message.HasField("left_foot") else None,
        right_foot=_measurements(message.right_foot, dt.FootMeasurements) if message.HasField("right_foot") else None,
        body=_measurements(message.body, dt.BodyMeasurements) if message.HasField("body") else None,
    )


def session(value: dt.Session) -> profile_pb2.Session:
    return profile_pb2.Session(token=value.token, subject_id=value.subject_id, expires_at_ms=value.expires_at_ms)


def pairing_code(value: dt.PairingCode) -> pairing_pb2.PairingCode:
    return pairing_pb2.PairingCode(code=value.code, expires_at_ms=value.expires_at_ms, qr_payload=value.qr_payload, qr_png=value.qr_png)
