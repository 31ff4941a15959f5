from proto.omnifit.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FitProfile(_message.Message):
    __slots__ = ("shopper_id", "left_foot", "right_foot", "body", "updated_at_ms")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    LEFT_FOOT_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FOOT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    left_foot: _common_pb2.FootMeasurements
    right_foot: _common_pb2.FootMeasurements
    body: _common_pb2.BodyMeasurements
    updated_at_ms: int
    def __init__(self, shopper_id: _Optional[str] = ..., left_foot: _Optional[_Union[_common_pb2.FootMeasurements, _Mapping]] = ..., right_foot: _Optional[_Union[_common_pb2.FootMeasurements, _Mapping]] = ..., body: _Optional[_Union[_common_pb2.BodyMeasurements, _Mapping]] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class RegisterShopperRequest(_message.Message):
    __slots__ = ("email", "password", "phone", "display_name")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    phone: str
    display_name: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ..., phone: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class RegisterShopperResponse(_message.Message):
    __slots__ = ("next_step",)
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    next_step: str
    def __init__(self, next_step: _Optional[str] = ...) -> None: ...

class SignInRequest(_message.Message):
    __slots__ = ("email", "password")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class StaffSignInRequest(_message.Message):
    __slots__ = ("staff_id", "password")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    password: str
    def __init__(self, staff_id: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("token", "subject_id", "expires_at_ms")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    token: str
    subject_id: str
    expires_at_ms: int
    def __init__(self, token: _Optional[str] = ..., subject_id: _Optional[str] = ..., expires_at_ms: _Optional[int] = ...) -> None: ...

class GetFitProfileRequest(_message.Message):
    __slots__ = ("cart_id",)
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    def __init__(self, cart_id: _Optional[str] = ...) -> None: ...

class PutFitProfileRequest(_message.Message):
    __slots__ = ("cart_id", "idempotency_key", "profile")
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    idempotency_key: str
    profile: FitProfile
    def __init__(self, cart_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., profile: _Optional[_Union[FitProfile, _Mapping]] = ...) -> None: ...

class SetPaymentPinRequest(_message.Message):
    __slots__ = ("password", "pin")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    password: str
    pin: str
    def __init__(self, password: _Optional[str] = ..., pin: _Optional[str] = ...) -> None: ...

class PaymentPinStatus(_message.Message):
    __slots__ = ("shopper_id", "pin_set", "updated_at_ms")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    PIN_SET_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    pin_set: bool
    updated_at_ms: int
    def __init__(self, shopper_id: _Optional[str] = ..., pin_set: bool = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class SignOutEverywhereRequest(_message.Message):
    __slots__ = ("shopper_id", "staff_id")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    staff_id: str
    def __init__(self, shopper_id: _Optional[str] = ..., staff_id: _Optional[str] = ...) -> None: ...

class SignOutEverywhereResponse(_message.Message):
    __slots__ = ("principal",)
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    principal: str
    def __init__(self, principal: _Optional[str] = ...) -> None: ...

class RenewDeviceTokenRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
