from proto.omnifit.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Fulfilment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FULFILMENT_UNSPECIFIED: _ClassVar[Fulfilment]
    FULFILMENT_STORE_PICKUP: _ClassVar[Fulfilment]
    FULFILMENT_SHIP_TO_HOME: _ClassVar[Fulfilment]

class CartStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CART_STATUS_UNSPECIFIED: _ClassVar[CartStatus]
    CART_STATUS_OPEN: _ClassVar[CartStatus]
    CART_STATUS_MERGED: _ClassVar[CartStatus]
    CART_STATUS_CHECKED_OUT: _ClassVar[CartStatus]

class CartChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CART_CHANGE_KIND_UNSPECIFIED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_SNAPSHOT: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_CREATED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_LINE_ADDED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_LINE_UPDATED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_LINE_REMOVED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_CLAIMED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_MERGED: _ClassVar[CartChangeKind]
    CART_CHANGE_KIND_CHECKED_OUT: _ClassVar[CartChangeKind]
FULFILMENT_UNSPECIFIED: Fulfilment
FULFILMENT_STORE_PICKUP: Fulfilment
FULFILMENT_SHIP_TO_HOME: Fulfilment
CART_STATUS_UNSPECIFIED: CartStatus
CART_STATUS_OPEN: CartStatus
CART_STATUS_MERGED: CartStatus
CART_STATUS_CHECKED_OUT: CartStatus
CART_CHANGE_KIND_UNSPECIFIED: CartChangeKind
CART_CHANGE_KIND_SNAPSHOT: CartChangeKind
CART_CHANGE_KIND_CREATED: CartChangeKind
CART_CHANGE_KIND_LINE_ADDED: CartChangeKind
CART_CHANGE_KIND_LINE_UPDATED: CartChangeKind
CART_CHANGE_KIND_LINE_REMOVED: CartChangeKind
CART_CHANGE_KIND_CLAIMED: CartChangeKind
CART_CHANGE_KIND_MERGED: CartChangeKind
CART_CHANGE_KIND_CHECKED_OUT: CartChangeKind

class CartLine(_message.Message):
    __slots__ = ("line_id", "sku", "product_id", "name", "size_label", "colour", "quantity", "unit_price", "fulfilment", "delivery_days_min", "delivery_days_max")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_LABEL_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    FULFILMENT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_MIN_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_MAX_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    sku: str
    product_id: str
    name: str
    size_label: str
    colour: str
    quantity: int
    unit_price: _common_pb2.Money
    fulfilment: Fulfilment
    delivery_days_min: int
    delivery_days_max: int
    def __init__(self, line_id: _Optional[str] = ..., sku: _Optional[str] = ..., product_id: _Optional[str] = ..., name: _Optional[str] = ..., size_label: _Optional[str] = ..., colour: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., fulfilment: _Optional[_Union[Fulfilment, str]] = ..., delivery_days_min: _Optional[int] = ..., delivery_days_max: _Optional[int] = ...) -> None: ...

class Cart(_message.Message):
    __slots__ = ("cart_id", "version", "store_id", "owner_shopper_id", "status", "merged_into", "lines", "subtotal", "updated_at_ms")
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    version: int
    store_id: str
    owner_shopper_id: str
    status: CartStatus
    merged_into: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    subtotal: _common_pb2.Money
    updated_at_ms: int
    def __init__(self, cart_id: _Optional[str] = ..., version: _Optional[int] = ..., store_id: _Optional[str] = ..., owner_shopper_id: _Optional[str] = ..., status: _Optional[_Union[CartStatus, str]] = ..., merged_into: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class CreateCartRequest(_message.Message):
    __slots__ = ("idempotency_key", "store_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    store_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., store_id: _Optional[str] = ...) -> None: ...

class GetCartRequest(_message.Message):
    __slots__ = ("cart_id",)
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    def __init__(self, cart_id: _Optional[str] = ...) -> None: ...

class AddLineRequest(_message.Message):
    __slots__ = ("cart_id", "idempotency_key", "expected_version", "sku", "quantity", "pickup_only")
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PICKUP_ONLY_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    idempotency_key: str
    expected_version: int
    sku: str
    quantity: int
    pickup_only: bool
    def __init__(self, cart_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., expected_version: _Optional[int] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., pickup_only: bool = ...) -> None: ...

class UpdateLineRequest(_message.Message):
    __slots__ = ("cart_id", "idempotency_key", "expected_version", "line_id", "quantity")
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    idempotency_key: str
    expected_version: int
    line_id: str
    quantity: int
    def __init__(self, cart_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., expected_version: _Optional[int] = ..., line_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class RemoveLineRequest(_message.Message):
    __slots__ = ("cart_id", "idempotency_key", "expected_version", "line_id")
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    idempotency_key: str
    expected_version: int
    line_id: str
    def __init__(self, cart_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., expected_version: _Optional[int] = ..., line_id: _Optional[str] = ...) -> None: ...

class WatchCartRequest(_message.Message):
    __slots__ = ("cart_id", "after_version")
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    after_version: int
    def __init__(self, cart_id: _Optional[str] = ..., after_version: _Optional[int] = ...) -> None: ...

class CartEvent(_message.Message):
    __slots__ = ("kind", "cart")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CART_FIELD_NUMBER: _ClassVar[int]
    kind: CartChangeKind
    cart: Cart
    def __init__(self, kind: _Optional[_Union[CartChangeKind, str]] = ..., cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...
