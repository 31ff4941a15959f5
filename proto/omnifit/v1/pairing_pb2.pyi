from proto.omnifit.v1 import cart_pb2 as _cart_pb2
from proto.omnifit.v1 import profile_pb2 as _profile_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreatePairingCodeRequest(_message.Message):
    __slots__ = ("cart_id",)
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    cart_id: str
    def __init__(self, cart_id: _Optional[str] = ...) -> None: ...

class PairingCode(_message.Message):
    __slots__ = ("code", "expires_at_ms", "qr_payload", "qr_png")
    CODE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    QR_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    QR_PNG_FIELD_NUMBER: _ClassVar[int]
    code: str
    expires_at_ms: int
    qr_payload: str
    qr_png: bytes
    def __init__(self, code: _Optional[str] = ..., expires_at_ms: _Optional[int] = ..., qr_payload: _Optional[str] = ..., qr_png: _Optional[bytes] = ...) -> None: ...

class ClaimPairingCodeRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class ClaimPairingCodeResponse(_message.Message):
    __slots__ = ("cart", "profile")
    CART_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    cart: _cart_pb2.Cart
    profile: _profile_pb2.FitProfile
    def __init__(self, cart: _Optional[_Union[_cart_pb2.Cart, _Mapping]] = ..., profile: _Optional[_Union[_profile_pb2.FitProfile, _Mapping]] = ...) -> None: ...
