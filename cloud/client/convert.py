"""Protobuf messages to the client's plain values; protobuf stops here."""
from __future__ import annotations

from typing import Any

from cloud.client import types
from proto.omnifit.v1 import (
    cart_pb2,
    catalog_pb2,
    common_pb2,
    face_pb2,
    order_pb2,
    pairing_pb2,
    payment_pb2,
    profile_pb2,
)

_FULFILMENT = {
    cart_pb2.FULFILMENT_STORE_PICKUP: types.Fulfilment.STORE_PICKUP,
    cart_pb2.FULFILMENT_SHIP_TO_HOME: types.Fulfilment.SHIP_TO_HOME,
}
_STATUS = {
    cart_pb2.CART_STATUS_OPEN: types.CartStatus.OPEN,
    cart_pb2.CART_STATUS_MERGED: types.CartStatus.MERGED,
    cart_pb2.CART_STATUS_CHECKED_OUT: types.CartStatus.CHECKED_OUT,
}
_CHANGE = {
    value: types.ChangeKind(name.removeprefix("CART_CHANGE_KIND_").lower())
    for name, value in cart_pb2.CartChangeKind.items()
    if value != cart_pb2.CART_CHANGE_KIND_UNSPECIFIED
}
CATEGORY_NAMES = {
    catalog_pb2.CATEGORY_SHOES: "shoes",
    catalog_pb2.CATEGORY_TOPS: "tops",
    catalog_pb2.CATEGORY_BOTTOMS: "bottoms",
}
CATEGORY_VALUES = {name: value for value, name in CATEGORY_NAMES.items()}
_GENDER = {
    catalog_pb2.GENDER_MEN: "men",
    catalog_pb2.GENDER_WOMEN: "women",
    catalog_pb2.GENDER_UNISEX: "unisex",
}


def money(message: common_pb2.Money) -> types.Money:
    return types.Money(message.minor_units, message.currency)


def cart_line(message: cart_pb2.CartLine) -> types.CartLine:
    return types.CartLine(
        line_id=message.line_id,
        sku=message.sku,
        product_id=message.product_id,
        name=message.name,
        size_label=message.size_label,
        colour=message.colour,
        quantity=message.quantity,
        unit_price=money(message.unit_price),
        fulfilment=_FULFILMENT.get(message.fulfilment, types.Fulfilment.STORE_PICKUP),
        delivery_days=(message.delivery_days_min, message.delivery_days_max),
    )


def cart(message: cart_pb2.Cart) -> types.Cart:
    return types.Cart(
        cart_id=message.cart_id,
        version=message.version,
        store_id=message.store_id,
        owner_shopper_id=message.owner_shopper_id,
        status=_STATUS.get(message.status, types.CartStatus.OPEN),
        lines=tuple(cart_line(line) for line in message.lines),
        subtotal=money(message.subtotal),
        merged_into=message.merged_into,
    )


def cart_event(message: cart_pb2.CartEvent) -> types.CartEvent:
    return types.CartEvent(kind=_CHANGE.get(message.kind, types.ChangeKind.SNAPSHOT), cart=cart(message.cart))


def product(message: catalog_pb2.Product) -> types.Product:
    return types.Product(
        product_id=message.product_id,
        name=message.name,
        brand=message.brand,
        category=CATEGORY_NAMES.get(message.category, "unspecified"),
        gender=_GENDER.get(message.gender, "unspecified"),
        price=money(message.price),
        price_secondary=money(message.price_secondary),
        variants=tuple(
            types.Variant(
                sku=v.sku,
                colour=v.colour,
                size_label=v.size_label,
                eu=v.shoe_size.eu,
                us=v.shoe_size.us,
                uk=v.shoe_size.uk,
                mondopoint_mm=v.shoe_size.mondopoint_mm,
            )
            for v in message.variants
        ),
        description=message.description,
        model_uri=message.model_uri,
    )


def store(message: catalog_pb2.Store) -> types.Store:
    return types.Store(store_id=message.store_id, name=message.name, city=message.city, timezone=message.timezone,
                       ship_days=(message.ship_days_min, message.ship_days_max))


def product_page(message: catalog_pb2.ListProductsResponse, *, stale: bool = False) -> types.ProductPage:
    return types.ProductPage(
        products=tuple(product(p) for p in message.products),
        next_page_token=message.page.next_page_token,
        total_size=message.page.total_size,
        stale=stale,
    )


def pairing_code(message: pairing_pb2.PairingCode) -> types.PairingCode:
    return types.PairingCode(
        code=message.code, expires_at_ms=message.expires_at_ms, qr_payload=message.qr_payload, qr_png=message.qr_png
    )


def session(message: profile_pb2.Session) -> types.Session:
    return types.Session(token=message.token, subject_id=message.subject_id, expires_at_ms=message.expires_at_ms)


def _measurements(message: Any, present: bool) -> dict[str, float]:
    if not present:
        return {}
    return {field.name.removesuffix("_mm"): value for field, value in message.ListFields()}


def fit_profile(message: profile_pb2.FitProfile) -> types.FitProfile:
    return types.FitProfile(
        shopper_id=message.shopper_id,
        left_foot=_measurements(message.left_foot, message.HasField("left_foot")),
        right_foot=_measurements(message.right_foot, message.HasField("right_foot")),
        body=_measurements(message.body, message.HasField("body")),
    )


def face_enrollment(message: face_pb2.FaceEnrollment) -> types.FaceEnrollment:
    return types.FaceEnrollment(
        shopper_id=message.shopper_id, template_id=message.template_id, consent_id=message.consent_id,
        expires_at_ms=message.expires_at_ms, channel=message.channel, payment_method=message.payment_method,
        phone_hint=message.phone_hint,
    )


def face_enrollment_status(message: face_pb2.FaceEnrollmentStatus) -> types.FaceEnrollmentStatus:
    enrollment = face_enrollment(message.enrollment) if message.HasField("enrollment") else None
    return types.FaceEnrollmentStatus(shopper_id=message.shopper_id, enrolled=message.enrolled, enrollment=enrollment)


def face_match(message: face_pb2.FaceMatch) -> types.FaceMatch:
    return types.FaceMatch(
        matched=message.matched, shopper_id=message.shopper_id, distance=message.distance,
        threshold=message.threshold, step_up_required=message.step_up_required, match_token=message.match_token,
        match_expires_at_ms=message.match_expires_at_ms, payment_method=message.payment_method,
        attempts_left=message.attempts_left,
    )


def face_data_deletion(message: face_pb2.FaceDataDeletion) -> types.FaceDataDeletion:
    return types.FaceDataDeletion(shopper_id=message.shopper_id, template_id=message.template_id, deleted=message.deleted)


def payment_pin_status(message: profile_pb2.PaymentPinStatus) -> types.PaymentPinStatus:
    return types.PaymentPinStatus(shopper_id=message.shopper_id, pin_set=message.pin_set,
                                  updated_at_ms=message.updated_at_ms)


_INTENT_STATUS = {
    value: types.IntentState(name.removeprefix("PAYMENT_INTENT_STATUS_").lower())
    for name, value in payment_pb2.PaymentIntentStatus.items()
    if value != payment_pb2.PAYMENT_INTENT_STATUS_UNSPECIFIED
}


def payment_intent(message: payment_pb2.PaymentIntent) -> types.PaymentIntent:
    return types.PaymentIntent(
        intent_id=message.intent_id,
        status=_INTENT_STATUS[message.status],
        amount=money(message.amount),
        captured=money(message.captured),
        refunded=money(message.refunded),
        cart_id=message.cart_id,
        store_id=message.store_id,
        shopper_id=message.shopper_id,
        payment_method=message.payment_method,
        gateway=message.gateway,
        lines=tuple(types.PaymentLine(sku=line.sku, quantity=line.quantity, unit_price=money(line.unit_price),
                                      description=line.description) for line in message.lines),
        step_up_required=message.step_up_required,
        failure_code=message.failure_code,
        order_id=message.order_id,
        created_at_ms=message.created_at_ms,
        updated_at_ms=message.updated_at_ms,
    )


def _receipt_lines(lines) -> tuple[types.ReceiptLine, ...]:  # type: ignore[no-untyped-def]
    return tuple(types.ReceiptLine(sku=line.sku, description=line.description, quantity=line.quantity,
                                   unit_price=money(line.unit_price), fulfilment=line.fulfilment)
                 for line in lines)


def order_page(message: order_pb2.ListOrdersResponse) -> types.OrderPage:
    return types.OrderPage(
        orders=tuple(types.Order(order_id=order.order_id, intent_id=order.intent_id, store_id=order.store_id,
                                 store_name=order.store_name, total=money(order.total),
                                 lines=_receipt_lines(order.lines), created_at_ms=order.created_at_ms)
                     for order in message.orders),
        next_page_token=message.page.next_page_token,
        total_size=message.page.total_size,
    )


def receipt(message: payment_pb2.Receipt) -> types.Receipt:
    return types.Receipt(
        receipt_id=message.receipt_id,
        order_id=message.order_id,
        intent_id=message.intent_id,
        url=message.url,
        store_id=message.store_id,
        store_name=message.store_name,
        lines=_receipt_lines(message.lines),
        total=money(message.total),
        payment_method=message.payment_method,
        created_at_ms=message.created_at_ms,
        printable_png=message.printable_png,
    )
