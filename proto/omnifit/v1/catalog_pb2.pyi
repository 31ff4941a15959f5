from proto.omnifit.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Category(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_UNSPECIFIED: _ClassVar[Category]
    CATEGORY_SHOES: _ClassVar[Category]
    CATEGORY_TOPS: _ClassVar[Category]
    CATEGORY_BOTTOMS: _ClassVar[Category]

class Gender(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GENDER_UNSPECIFIED: _ClassVar[Gender]
    GENDER_MEN: _ClassVar[Gender]
    GENDER_WOMEN: _ClassVar[Gender]
    GENDER_UNISEX: _ClassVar[Gender]
CATEGORY_UNSPECIFIED: Category
CATEGORY_SHOES: Category
CATEGORY_TOPS: Category
CATEGORY_BOTTOMS: Category
GENDER_UNSPECIFIED: Gender
GENDER_MEN: Gender
GENDER_WOMEN: Gender
GENDER_UNISEX: Gender

class ShoeSize(_message.Message):
    __slots__ = ("eu", "us", "uk", "mondopoint_mm", "last_length_mm", "last_ball_girth_mm")
    EU_FIELD_NUMBER: _ClassVar[int]
    US_FIELD_NUMBER: _ClassVar[int]
    UK_FIELD_NUMBER: _ClassVar[int]
    MONDOPOINT_MM_FIELD_NUMBER: _ClassVar[int]
    LAST_LENGTH_MM_FIELD_NUMBER: _ClassVar[int]
    LAST_BALL_GIRTH_MM_FIELD_NUMBER: _ClassVar[int]
    eu: str
    us: str
    uk: str
    mondopoint_mm: int
    last_length_mm: float
    last_ball_girth_mm: float
    def __init__(self, eu: _Optional[str] = ..., us: _Optional[str] = ..., uk: _Optional[str] = ..., mondopoint_mm: _Optional[int] = ..., last_length_mm: _Optional[float] = ..., last_ball_girth_mm: _Optional[float] = ...) -> None: ...

class SizeChartRow(_message.Message):
    __slots__ = ("size_label", "chest_min_mm", "chest_max_mm", "waist_min_mm", "waist_max_mm", "hip_min_mm", "hip_max_mm", "inseam_mm")
    SIZE_LABEL_FIELD_NUMBER: _ClassVar[int]
    CHEST_MIN_MM_FIELD_NUMBER: _ClassVar[int]
    CHEST_MAX_MM_FIELD_NUMBER: _ClassVar[int]
    WAIST_MIN_MM_FIELD_NUMBER: _ClassVar[int]
    WAIST_MAX_MM_FIELD_NUMBER: _ClassVar[int]
    HIP_MIN_MM_FIELD_NUMBER: _ClassVar[int]
    HIP_MAX_MM_FIELD_NUMBER: _ClassVar[int]
    INSEAM_MM_FIELD_NUMBER: _ClassVar[int]
    size_label: str
    chest_min_mm: float
    chest_max_mm: float
    waist_min_mm: float
    waist_max_mm: float
    hip_min_mm: float
    hip_max_mm: float
    inseam_mm: float
    def __init__(self, size_label: _Optional[str] = ..., chest_min_mm: _Optional[float] = ..., chest_max_mm: _Optional[float] = ..., waist_min_mm: _Optional[float] = ..., waist_max_mm: _Optional[float] = ..., hip_min_mm: _Optional[float] = ..., hip_max_mm: _Optional[float] = ..., inseam_mm: _Optional[float] = ...) -> None: ...

class SizeChart(_message.Message):
    __slots__ = ("rows", "ease_chest_mm", "ease_waist_mm", "ease_hip_mm")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    EASE_CHEST_MM_FIELD_NUMBER: _ClassVar[int]
    EASE_WAIST_MM_FIELD_NUMBER: _ClassVar[int]
    EASE_HIP_MM_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[SizeChartRow]
    ease_chest_mm: float
    ease_waist_mm: float
    ease_hip_mm: float
    def __init__(self, rows: _Optional[_Iterable[_Union[SizeChartRow, _Mapping]]] = ..., ease_chest_mm: _Optional[float] = ..., ease_waist_mm: _Optional[float] = ..., ease_hip_mm: _Optional[float] = ...) -> None: ...

class Variant(_message.Message):
    __slots__ = ("sku", "colour", "size_label", "shoe_size")
    SKU_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    SIZE_LABEL_FIELD_NUMBER: _ClassVar[int]
    SHOE_SIZE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    colour: str
    size_label: str
    shoe_size: ShoeSize
    def __init__(self, sku: _Optional[str] = ..., colour: _Optional[str] = ..., size_label: _Optional[str] = ..., shoe_size: _Optional[_Union[ShoeSize, _Mapping]] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("product_id", "name", "brand", "category", "gender", "description", "price", "price_secondary", "colours", "variants", "size_chart", "model_uri")
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    PRICE_SECONDARY_FIELD_NUMBER: _ClassVar[int]
    COLOURS_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    SIZE_CHART_FIELD_NUMBER: _ClassVar[int]
    MODEL_URI_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    name: str
    brand: str
    category: Category
    gender: Gender
    description: str
    price: _common_pb2.Money
    price_secondary: _common_pb2.Money
    colours: _containers.RepeatedScalarFieldContainer[str]
    variants: _containers.RepeatedCompositeFieldContainer[Variant]
    size_chart: SizeChart
    model_uri: str
    def __init__(self, product_id: _Optional[str] = ..., name: _Optional[str] = ..., brand: _Optional[str] = ..., category: _Optional[_Union[Category, str]] = ..., gender: _Optional[_Union[Gender, str]] = ..., description: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., price_secondary: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., colours: _Optional[_Iterable[str]] = ..., variants: _Optional[_Iterable[_Union[Variant, _Mapping]]] = ..., size_chart: _Optional[_Union[SizeChart, _Mapping]] = ..., model_uri: _Optional[str] = ...) -> None: ...

class Store(_message.Message):
    __slots__ = ("store_id", "name", "city", "timezone", "ship_days_min", "ship_days_max")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    SHIP_DAYS_MIN_FIELD_NUMBER: _ClassVar[int]
    SHIP_DAYS_MAX_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    name: str
    city: str
    timezone: str
    ship_days_min: int
    ship_days_max: int
    def __init__(self, store_id: _Optional[str] = ..., name: _Optional[str] = ..., city: _Optional[str] = ..., timezone: _Optional[str] = ..., ship_days_min: _Optional[int] = ..., ship_days_max: _Optional[int] = ...) -> None: ...

class ListProductsRequest(_message.Message):
    __slots__ = ("query", "category", "brand", "gender", "store_id", "in_stock_only", "max_price_minor", "page")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    IN_STOCK_ONLY_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_MINOR_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    query: str
    category: Category
    brand: str
    gender: Gender
    store_id: str
    in_stock_only: bool
    max_price_minor: int
    page: _common_pb2.PageRequest
    def __init__(self, query: _Optional[str] = ..., category: _Optional[_Union[Category, str]] = ..., brand: _Optional[str] = ..., gender: _Optional[_Union[Gender, str]] = ..., store_id: _Optional[str] = ..., in_stock_only: bool = ..., max_price_minor: _Optional[int] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListProductsResponse(_message.Message):
    __slots__ = ("products", "page")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    page: _common_pb2.PageResponse
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class GetProductRequest(_message.Message):
    __slots__ = ("product_id",)
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    def __init__(self, product_id: _Optional[str] = ...) -> None: ...

class GetStockRequest(_message.Message):
    __slots__ = ("store_id", "skus", "product_id")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    skus: _containers.RepeatedScalarFieldContainer[str]
    product_id: str
    def __init__(self, store_id: _Optional[str] = ..., skus: _Optional[_Iterable[str]] = ..., product_id: _Optional[str] = ...) -> None: ...

class StockLevel(_message.Message):
    __slots__ = ("sku", "store_id", "on_hand")
    SKU_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    sku: str
    store_id: str
    on_hand: int
    def __init__(self, sku: _Optional[str] = ..., store_id: _Optional[str] = ..., on_hand: _Optional[int] = ...) -> None: ...

class GetStockResponse(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[StockLevel]
    def __init__(self, levels: _Optional[_Iterable[_Union[StockLevel, _Mapping]]] = ...) -> None: ...

class ListStoresRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListStoresResponse(_message.Message):
    __slots__ = ("stores",)
    STORES_FIELD_NUMBER: _ClassVar[int]
    stores: _containers.RepeatedCompositeFieldContainer[Store]
    def __init__(self, stores: _Optional[_Iterable[_Union[Store, _Mapping]]] = ...) -> None: ...
