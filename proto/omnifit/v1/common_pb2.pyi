from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Money(_message.Message):
    __slots__ = ("minor_units", "currency")
    MINOR_UNITS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    minor_units: int
    currency: str
    def __init__(self, minor_units: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PageResponse(_message.Message):
    __slots__ = ("next_page_token", "total_size")
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    total_size: int
    def __init__(self, next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class FootMeasurements(_message.Message):
    __slots__ = ("length_mm", "width_mm", "ball_girth_mm", "instep_girth_mm", "instep_height_mm", "arch_height_mm", "heel_width_mm", "toe_height_mm")
    LENGTH_MM_FIELD_NUMBER: _ClassVar[int]
    WIDTH_MM_FIELD_NUMBER: _ClassVar[int]
    BALL_GIRTH_MM_FIELD_NUMBER: _ClassVar[int]
    INSTEP_GIRTH_MM_FIELD_NUMBER: _ClassVar[int]
    INSTEP_HEIGHT_MM_FIELD_NUMBER: _ClassVar[int]
    ARCH_HEIGHT_MM_FIELD_NUMBER: _ClassVar[int]
    HEEL_WIDTH_MM_FIELD_NUMBER: _ClassVar[int]
    TOE_HEIGHT_MM_FIELD_NUMBER: _ClassVar[int]
    length_mm: float
    width_mm: float
    ball_girth_mm: float
    instep_girth_mm: float
    instep_height_mm: float
    arch_height_mm: float
    heel_width_mm: float
    toe_height_mm: float
    def __init__(self, length_mm: _Optional[float] = ..., width_mm: _Optional[float] = ..., ball_girth_mm: _Optional[float] = ..., instep_girth_mm: _Optional[float] = ..., instep_height_mm: _Optional[float] = ..., arch_height_mm: _Optional[float] = ..., heel_width_mm: _Optional[float] = ..., toe_height_mm: _Optional[float] = ...) -> None: ...

class BodyMeasurements(_message.Message):
    __slots__ = ("height_mm", "chest_girth_mm", "waist_girth_mm", "hip_girth_mm", "inseam_mm", "shoulder_width_mm", "arm_length_mm")
    HEIGHT_MM_FIELD_NUMBER: _ClassVar[int]
    CHEST_GIRTH_MM_FIELD_NUMBER: _ClassVar[int]
    WAIST_GIRTH_MM_FIELD_NUMBER: _ClassVar[int]
    HIP_GIRTH_MM_FIELD_NUMBER: _ClassVar[int]
    INSEAM_MM_FIELD_NUMBER: _ClassVar[int]
    SHOULDER_WIDTH_MM_FIELD_NUMBER: _ClassVar[int]
    ARM_LENGTH_MM_FIELD_NUMBER: _ClassVar[int]
    height_mm: float
    chest_girth_mm: float
    waist_girth_mm: float
    hip_girth_mm: float
    inseam_mm: float
    shoulder_width_mm: float
    arm_length_mm: float
    def __init__(self, height_mm: _Optional[float] = ..., chest_girth_mm: _Optional[float] = ..., waist_girth_mm: _Optional[float] = ..., hip_girth_mm: _Optional[float] = ..., inseam_mm: _Optional[float] = ..., shoulder_width_mm: _Optional[float] = ..., arm_length_mm: _Optional[float] = ...) -> None: ...
