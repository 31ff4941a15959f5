"""The catalog: product search and filters with stable keyset paging, stores, and per-store stock.

Paging orders by ``product_id`` and the opaque token carries the last id seen and a
digest of the filters, so a token used with other filters is refused rather than
silently paging another result set.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cloud.domain.types import Product, ProductPage, StockLevel, Store, Variant
from cloud.domain.validate import require_id, require_text
from cloud.errors import InvalidArgument, NotFound
from cloud.storage import Database, schema
from payments.money import Money
from tryon.fit.catalog import CATEGORIES, GENDERS, ClothingSizeRow, ShoeSizeSeed, SizeChartSeed

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_WORDS = 8
_p, _v, _s = schema.products, schema.variants, schema.stock


@dataclass(frozen=True)
class ProductFilter:
    """What ListProducts asks for; empty strings and zeros mean "any"."""

    query: str = ""
    category: str = ""  # shoes | tops | bottoms
    brand: str = ""
    gender: str = ""  # men | women | unisex
    store_id: str = ""
    in_stock_only: bool = False
    max_price_minor: int = 0

    def validate(self) -> None:
        if self.category and self.category not in CATEGORIES:
            raise InvalidArgument(f"category {self.category!r}; expected one of {CATEGORIES}", field="category")
        if self.gender and self.gender not in GENDERS:
            raise InvalidArgument(f"gender {self.gender!r}; expected one of {GENDERS}", field="gender")
        if self.max_price_minor < 0:
            raise InvalidArgument(f"max_price_minor must be 0 (no limit) or positive; got {self.max_price_minor}", field="max_price_minor")
        if self.in_stock_only and not self.store_id:
            raise InvalidArgument("store_id is required with in_stock_only", field="store_id")
        if self.store_id:
            require_id(self.store_id, "store_id")
        require_text(self.query, "query", 200)
        require_text(self.brand, "brand", 100)
        if len(self.query.split()) > MAX_QUERY_WORDS:
            raise InvalidArgument(f"query must be at most {MAX_QUERY_WORDS} words; got {len(self.query.split())}", field="query")

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(vars(self), sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _encode_token(after: str, digest: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": after, "f": digest}).encode("utf-8")).decode("ascii")


def _decode_token(token: str, digest: str) -> str:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        after, token_digest = require_id(str(raw["a"]), "page.page_token"), raw["f"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError, InvalidArgument) as exc:
        raise InvalidArgument("page_token is not a token this service issued", field="page.page_token") from exc
    if token_digest != digest:
        raise InvalidArgument("page_token was issued for other filters; start again without it", field="page.page_token")
    return after


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(flt: ProductFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [
        _p.c.search_text.like(f"%{_escape_like(word)}%", escape="\\") for word in flt.query.lower().split()
    ]
    if flt.category:
        conditions.append(_p.c.category == flt.category)
    if flt.brand:
        conditions.append(sa.func.lower(_p.c.brand) == flt.brand.lower())
    if flt.gender:
        conditions.append(_p.c.gender.in_((flt.gender, "unisex")) if flt.gender != "unisex" else _p.c.gender == "unisex")
    if flt.max_price_minor:
        conditions.append(_p.c.price_minor <= flt.max_price_minor)
    if flt.in_stock_only:
        held = sa.select(_v.c.product_id).join_from(_v, _s, _v.c.sku == _s.c.sku).where(_s.c.store_id == flt.store_id, _s.c.on_hand > 0)
        conditions.append(_p.c.product_id.in_(held))
    return conditions


class CatalogService:
    """Read-only catalog queries (blocking; run them on the worker pool)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def list_products(self, flt: ProductFilter, page_size: int = 0, page_token: str = "") -> ProductPage:
        flt.validate()
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument(f"page.page_size must be 0..{MAX_PAGE_SIZE}; got {page_size}", field="page.page_size")
        size = page_size or DEFAULT_PAGE_SIZE
        digest = flt.digest()
        with self.database.read() as conn:
            self._require_store(conn, flt.store_id)
            conditions = _conditions(flt)
            total = conn.execute(sa.select(sa.func.count()).select_from(_p).where(*conditions)).scalar_one()
            query = sa.select(_p).where(*conditions).order_by(_p.c.product_id).limit(size + 1)
            if page_token:
                query = query.where(_p.c.product_id > _decode_token(page_token, digest))
            rows = conn.execute(query).all()
            products = self._assemble(conn, rows[:size])
        next_token = _encode_token(rows[size - 1].product_id, digest) if len(rows) > size else ""
        return ProductPage(products=tuple(products), next_page_token=next_token, total_size=total)

    def get_product(self, product_id: str) -> Product:
        require_id(product_id, "product_id")
        with self.database.read() as conn:
            rows = conn.execute(sa.select(_p).where(_p.c.product_id == product_id)).all()
            if not rows:
                raise NotFound(f"product_id {product_id!r} is not in the catalog", field="product_id")
            return self._assemble(conn, rows)[0]

    def list_stores(self) -> list[Store]:
        st = schema.stores
        with self.database.read() as conn:
            rows = conn.execute(sa.select(st.c.store_id, st.c.name, st.c.city, st.c.timezone, st.c.ship_days_min,
                                          st.c.ship_days_max).order_by(st.c.store_id)).all()
        return [Store(**row._asdict()) for row in rows]

    def get_stock(self, store_id: str, skus: list[str], product_id: str = "") -> list[StockLevel]:
        """On-hand counts in ``store_id`` for ``skus`` (or every variant of ``product_id``); 0 where none."""
        require_id(store_id, "store_id")
        if not skus and not product_id:
            raise InvalidArgument("give skus or product_id", field="skus")
        if len(skus) > 500:
            raise InvalidArgument(f"at most 500 skus per call; got {len(skus)}", field="skus")
        for sku in skus:
            require_id(sku, "skus")
        with self.database.read() as conn:
            self._require_store(conn, store_id)
            if not skus:
                self._require_product(conn, product_id)
                skus = list(conn.execute(sa.select(_v.c.sku).where(_v.c.product_id == product_id).order_by(_v.c.position)).scalars())
            known = set(conn.execute(sa.select(_v.c.sku).where(_v.c.sku.in_(skus))).scalars())
            missing = [sku for sku in skus if sku not in known]
            if missing:
                raise NotFound(f"SKU {missing[0]!r} is not in the catalog", field="skus", sku=missing[0])
            stock = conn.execute(sa.select(_s.c.sku, _s.c.on_hand).where(_s.c.store_id == store_id, _s.c.sku.in_(skus)))
            held: dict[str, int] = {row.sku: row.on_hand for row in stock}
        return [StockLevel(sku=sku, store_id=store_id, on_hand=int(held.get(sku, 0))) for sku in skus]

    @staticmethod
    def _require_product(conn: Connection, product_id: str) -> None:
        require_id(product_id, "product_id")
        if conn.execute(sa.select(_p.c.product_id).where(_p.c.product_id == product_id)).first() is None:
            raise NotFound(f"product_id {product_id!r} is not in the catalog", field="product_id")

    @staticmethod
    def _require_store(conn: Connection, store_id: str) -> None:
        st = schema.stores
        if store_id and conn.execute(sa.select(st.c.store_id).where(st.c.store_id == store_id)).first() is None:
            raise NotFound(f"store_id {store_id!r} is not a store", field="store_id")

    @staticmethod
    def _assemble(conn: Connection, rows: Sequence[sa.Row[Any]]) -> list[Product]:
        ids = [row.product_id for row in rows]
        by_product: dict[str, list[Variant]] = {pid: [] for pid in ids}
        for v in conn.execute(sa.select(_v).where(_v.c.product_id.in_(ids)).order_by(_v.c.product_id, _v.c.position)):
            shoe = (
                ShoeSizeSeed(v.size_label, v.size_eu, v.size_us, v.size_uk, v.mondopoint_mm, v.last_length_mm, v.last_ball_girth_mm)
                if v.size_eu
                else None
            )
            by_product[v.product_id].append(Variant(sku=v.sku, colour=v.colour_name, size_label=v.size_label, shoe_size=shoe))
        return [_product(row, tuple(by_product[row.product_id])) for row in rows]


def _product(row: sa.Row[Any], variants: tuple[Variant, ...]) -> Product:
    chart = json.loads(row.size_chart) if row.size_chart else None
    return Product(
        product_id=row.product_id,
        name=row.name,
        brand=row.brand,
        category=row.category,
        gender=row.gender,
        description=row.description,
        price=Money(row.price_minor, row.currency),
        price_secondary=Money(row.price_secondary_minor, row.secondary_currency),
        colours=tuple(c["name"] for c in json.loads(row.colours)),
        variants=variants,
        size_chart=SizeChartSeed(
            rows=tuple(ClothingSizeRow(**r) for r in chart["rows"]),
            ease_chest_mm=chart["ease_chest_mm"],
            ease_waist_mm=chart["ease_waist_mm"],
            ease_hip_mm=chart["ease_hip_mm"],
        )
        if chart
        else None,
        model_uri=row.model_uri,
    )
