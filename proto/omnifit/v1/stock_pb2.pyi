from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReplenishmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLENISHMENT_STATUS_UNSPECIFIED: _ClassVar[ReplenishmentStatus]
    REPLENISHMENT_STATUS_OPEN: _ClassVar[ReplenishmentStatus]
    REPLENISHMENT_STATUS_RECEIVED: _ClassVar[ReplenishmentStatus]
    REPLENISHMENT_STATUS_CANCELLED: _ClassVar[ReplenishmentStatus]

class ReplenishmentReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLENISHMENT_REASON_UNSPECIFIED: _ClassVar[ReplenishmentReason]
    REPLENISHMENT_REASON_ORDER: _ClassVar[ReplenishmentReason]
    REPLENISHMENT_REASON_COUNT: _ClassVar[ReplenishmentReason]
    REPLENISHMENT_REASON_STAFF: _ClassVar[ReplenishmentReason]
REPLENISHMENT_STATUS_UNSPECIFIED: ReplenishmentStatus
REPLENISHMENT_STATUS_OPEN: ReplenishmentStatus
REPLENISHMENT_STATUS_RECEIVED: ReplenishmentStatus
REPLENISHMENT_STATUS_CANCELLED: ReplenishmentStatus
REPLENISHMENT_REASON_UNSPECIFIED: ReplenishmentReason
REPLENISHMENT_REASON_ORDER: ReplenishmentReason
REPLENISHMENT_REASON_COUNT: ReplenishmentReason
REPLENISHMENT_REASON_STAFF: ReplenishmentReason

class Replenishment(_message.Message):
    __slots__ = ("request_id", "store_id", "sku", "quantity", "status", "reason", "raised_by", "created_at_ms", "closed_at_ms", "closed_by")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RAISED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    store_id: str
    sku: str
    quantity: int
    status: ReplenishmentStatus
    reason: ReplenishmentReason
    raised_by: str
    created_at_ms: int
    closed_at_ms: int
    closed_by: str
    def __init__(self, request_id: _Optional[str] = ..., store_id: _Optional[str] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., status: _Optional[_Union[ReplenishmentStatus, str]] = ..., reason: _Optional[_Union[ReplenishmentReason, str]] = ..., raised_by: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., closed_at_ms: _Optional[int] = ..., closed_by: _Optional[str] = ...) -> None: ...

class LowStockItem(_message.Message):
    __slots__ = ("sku", "product_name", "size_label", "colour", "on_hand", "safety_stock", "open_request_id")
    SKU_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_LABEL_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    OPEN_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    sku: str
    product_name: str
    size_label: str
    colour: str
    on_hand: int
    safety_stock: int
    open_request_id: str
    def __init__(self, sku: _Optional[str] = ..., product_name: _Optional[str] = ..., size_label: _Optional[str] = ..., colour: _Optional[str] = ..., on_hand: _Optional[int] = ..., safety_stock: _Optional[int] = ..., open_request_id: _Optional[str] = ...) -> None: ...

class ListLowStockRequest(_message.Message):
    __slots__ = ("store_id",)
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    def __init__(self, store_id: _Optional[str] = ...) -> None: ...

class ListLowStockResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LowStockItem]
    def __init__(self, items: _Optional[_Iterable[_Union[LowStockItem, _Mapping]]] = ...) -> None: ...

class ListReplenishmentsRequest(_message.Message):
    __slots__ = ("store_id", "open_only")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    open_only: bool
    def __init__(self, store_id: _Optional[str] = ..., open_only: bool = ...) -> None: ...

class ListReplenishmentsResponse(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[Replenishment]
    def __init__(self, requests: _Optional[_Iterable[_Union[Replenishment, _Mapping]]] = ...) -> None: ...

class RaiseReplenishmentRequest(_message.Message):
    __slots__ = ("store_id", "sku", "quantity", "idempotency_key")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    sku: str
    quantity: int
    idempotency_key: str
    def __init__(self, store_id: _Optional[str] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReplenishmentActionRequest(_message.Message):
    __slots__ = ("request_id", "idempotency_key")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    idempotency_key: str
    def __init__(self, request_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RecordStockCountRequest(_message.Message):
    __slots__ = ("store_id", "sku", "counted", "idempotency_key")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    sku: str
    counted: int
    idempotency_key: str
    def __init__(self, store_id: _Optional[str] = ..., sku: _Optional[str] = ..., counted: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class StockCountResult(_message.Message):
    __slots__ = ("sku", "on_hand", "safety_stock", "raised")
    SKU_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    RAISED_FIELD_NUMBER: _ClassVar[int]
    sku: str
    on_hand: int
    safety_stock: int
    raised: Replenishment
    def __init__(self, sku: _Optional[str] = ..., on_hand: _Optional[int] = ..., safety_stock: _Optional[int] = ..., raised: _Optional[_Union[Replenishment, _Mapping]] = ...) -> None: ...
