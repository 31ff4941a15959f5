from proto.omnifit.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PaymentIntentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_INTENT_STATUS_UNSPECIFIED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_AUTHORIZED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_CAPTURED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_CANCELLED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_FAILED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_REFUNDED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_PARTIALLY_REFUNDED: _ClassVar[PaymentIntentStatus]
PAYMENT_INTENT_STATUS_UNSPECIFIED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION: PaymentIntentStatus
PAYMENT_INTENT_STATUS_AUTHORIZED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_CAPTURED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_CANCELLED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_FAILED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_REFUNDED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_PARTIALLY_REFUNDED: PaymentIntentStatus

class PaymentLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price", "description")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price: _common_pb2.Money
    description: str
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class PaymentIntent(_message.Message):
    __slots__ = ("intent_id", "status", "amount", "captured", "refunded", "cart_id", "store_id", "shopper_id", "payment_method", "gateway", "lines", "step_up_required", "failure_code", "order_id", "created_at_ms", "updated_at_ms")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    STEP_UP_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    FAILURE_CODE_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    status: PaymentIntentStatus
    amount: _common_pb2.Money
    captured: _common_pb2.Money
    refunded: _common_pb2.Money
    cart_id: str
    store_id: str
    shopper_id: str
    payment_method: str
    gateway: str
    lines: _containers.RepeatedCompositeFieldContainer[PaymentLine]
    step_up_required: bool
    failure_code: str
    order_id: str
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, intent_id: _Optional[str] = ..., status: _Optional[_Union[PaymentIntentStatus, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., captured: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunded: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., cart_id: _Optional[str] = ..., store_id: _Optional[str] = ..., shopper_id: _Optional[str] = ..., payment_method: _Optional[str] = ..., gateway: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[PaymentLine, _Mapping]]] = ..., step_up_required: bool = ..., failure_code: _Optional[str] = ..., order_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class CreateIntentRequest(_message.Message):
    __slots__ = ("idempotency_key", "cart_id", "amount", "payment_token", "shopper_id", "gateway", "face_match_token")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    FACE_MATCH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    cart_id: str
    amount: _common_pb2.Money
    payment_token: str
    shopper_id: str
    gateway: str
    face_match_token: str
    def __init__(self, idempotency_key: _Optional[str] = ..., cart_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., payment_token: _Optional[str] = ..., shopper_id: _Optional[str] = ..., gateway: _Optional[str] = ..., face_match_token: _Optional[str] = ...) -> None: ...

class ConfirmIntentRequest(_message.Message):
    __slots__ = ("intent_id", "idempotency_key", "pin", "face_match_close")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    FACE_MATCH_CLOSE_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    idempotency_key: str
    pin: str
    face_match_close: bool
    def __init__(self, intent_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., pin: _Optional[str] = ..., face_match_close: bool = ...) -> None: ...

class CaptureIntentRequest(_message.Message):
    __slots__ = ("intent_id", "idempotency_key")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    idempotency_key: str
    def __init__(self, intent_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CancelIntentRequest(_message.Message):
    __slots__ = ("intent_id", "idempotency_key")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    idempotency_key: str
    def __init__(self, intent_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RefundIntentRequest(_message.Message):
    __slots__ = ("intent_id", "idempotency_key", "amount")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    idempotency_key: str
    amount: _common_pb2.Money
    def __init__(self, intent_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class GetIntentRequest(_message.Message):
    __slots__ = ("intent_id",)
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    def __init__(self, intent_id: _Optional[str] = ...) -> None: ...

class ListStorePaymentsRequest(_message.Message):
    __slots__ = ("store_id", "page")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    page: _common_pb2.PageRequest
    def __init__(self, store_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListStorePaymentsResponse(_message.Message):
    __slots__ = ("intents", "page")
    INTENTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    intents: _containers.RepeatedCompositeFieldContainer[PaymentIntent]
    page: _common_pb2.PageResponse
    def __init__(self, intents: _Optional[_Iterable[_Union[PaymentIntent, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class GetReceiptRequest(_message.Message):
    __slots__ = ("intent_id", "paper_mm")
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAPER_MM_FIELD_NUMBER: _ClassVar[int]
    intent_id: str
    paper_mm: int
    def __init__(self, intent_id: _Optional[str] = ..., paper_mm: _Optional[int] = ...) -> None: ...

class ReceiptLine(_message.Message):
    __slots__ = ("sku", "description", "quantity", "unit_price", "fulfilment")
    SKU_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    FULFILMENT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    description: str
    quantity: int
    unit_price: _common_pb2.Money
    fulfilment: str
    def __init__(self, sku: _Optional[str] = ..., description: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., fulfilment: _Optional[str] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("receipt_id", "order_id", "intent_id", "url", "store_id", "store_name", "lines", "total", "payment_method", "created_at_ms", "printable_png")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_NAME_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PRINTABLE_PNG_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    order_id: str
    intent_id: str
    url: str
    store_id: str
    store_name: str
    lines: _containers.RepeatedCompositeFieldContainer[ReceiptLine]
    total: _common_pb2.Money
    payment_method: str
    created_at_ms: int
    printable_png: bytes
    def __init__(self, receipt_id: _Optional[str] = ..., order_id: _Optional[str] = ..., intent_id: _Optional[str] = ..., url: _Optional[str] = ..., store_id: _Optional[str] = ..., store_name: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReceiptLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., payment_method: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., printable_png: _Optional[bytes] = ...) -> None: ...
