from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FaceConsent(_message.Message):
    __slots__ = ("purpose", "granted_at_ms", "retention_days", "text_version")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    TEXT_VERSION_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    granted_at_ms: int
    retention_days: int
    text_version: str
    def __init__(self, purpose: _Optional[str] = ..., granted_at_ms: _Optional[int] = ..., retention_days: _Optional[int] = ..., text_version: _Optional[str] = ...) -> None: ...

class EnrollFaceRequest(_message.Message):
    __slots__ = ("idempotency_key", "cart_id", "embedding", "consent", "payment_token")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CART_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    cart_id: str
    embedding: _containers.RepeatedScalarFieldContainer[float]
    consent: FaceConsent
    payment_token: str
    def __init__(self, idempotency_key: _Optional[str] = ..., cart_id: _Optional[str] = ..., embedding: _Optional[_Iterable[float]] = ..., consent: _Optional[_Union[FaceConsent, _Mapping]] = ..., payment_token: _Optional[str] = ...) -> None: ...

class FaceEnrollment(_message.Message):
    __slots__ = ("shopper_id", "template_id", "consent_id", "expires_at_ms", "channel", "payment_method", "phone_hint")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    CONSENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    PHONE_HINT_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    template_id: str
    consent_id: str
    expires_at_ms: int
    channel: str
    payment_method: str
    phone_hint: str
    def __init__(self, shopper_id: _Optional[str] = ..., template_id: _Optional[str] = ..., consent_id: _Optional[str] = ..., expires_at_ms: _Optional[int] = ..., channel: _Optional[str] = ..., payment_method: _Optional[str] = ..., phone_hint: _Optional[str] = ...) -> None: ...

class IdentifyFaceRequest(_message.Message):
    __slots__ = ("embedding", "phone_last4")
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    PHONE_LAST4_FIELD_NUMBER: _ClassVar[int]
    embedding: _containers.RepeatedScalarFieldContainer[float]
    phone_last4: str
    def __init__(self, embedding: _Optional[_Iterable[float]] = ..., phone_last4: _Optional[str] = ...) -> None: ...

class FaceMatch(_message.Message):
    __slots__ = ("matched", "shopper_id", "distance", "threshold", "step_up_required", "match_token", "match_expires_at_ms", "payment_method", "attempts_left")
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    STEP_UP_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MATCH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MATCH_EXPIRES_AT_MS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    matched: bool
    shopper_id: str
    distance: float
    threshold: float
    step_up_required: bool
    match_token: str
    match_expires_at_ms: int
    payment_method: str
    attempts_left: int
    def __init__(self, matched: bool = ..., shopper_id: _Optional[str] = ..., distance: _Optional[float] = ..., threshold: _Optional[float] = ..., step_up_required: bool = ..., match_token: _Optional[str] = ..., match_expires_at_ms: _Optional[int] = ..., payment_method: _Optional[str] = ..., attempts_left: _Optional[int] = ...) -> None: ...

class DeleteFaceDataRequest(_message.Message):
    __slots__ = ("idempotency_key", "shopper_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    shopper_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., shopper_id: _Optional[str] = ...) -> None: ...

class FaceDataDeletion(_message.Message):
    __slots__ = ("shopper_id", "template_id", "deleted")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    template_id: str
    deleted: bool
    def __init__(self, shopper_id: _Optional[str] = ..., template_id: _Optional[str] = ..., deleted: bool = ...) -> None: ...

class GetFaceEnrollmentRequest(_message.Message):
    __slots__ = ("shopper_id", "email")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    email: str
    def __init__(self, shopper_id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class FaceEnrollmentStatus(_message.Message):
    __slots__ = ("shopper_id", "enrolled", "enrollment")
    SHOPPER_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLED_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    shopper_id: str
    enrolled: bool
    enrollment: FaceEnrollment
    def __init__(self, shopper_id: _Optional[str] = ..., enrolled: bool = ..., enrollment: _Optional[_Union[FaceEnrollment, _Mapping]] = ...) -> None: ...
