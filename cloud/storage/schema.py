"""The cloud service's tables (SQLAlchemy Core); one model for SQLite and PostgreSQL.

Times are integer milliseconds since the Unix epoch, money integer minor units,
structured values (colours, size charts, cart snapshots, measurements) JSON text.
Migrations in ``cloud/storage/migrations`` build exactly this schema, with the payments,
face and audit tables, all on :data:`omnifit.db.schema.metadata`; a test checks that the two agree.
"""
from __future__ import annotations

import sqlalchemy as sa

# The one MetaData of the database; the payments, face and audit tables that the same migrations
# build hang off it too (imported here so that the whole model is one import away).
from omnifit.db.schema import metadata as metadata
from payments import audit as _audit  # noqa: F401
from payments import storage as _payments_storage  # noqa: F401
from payments.face import store as _face_store  # noqa: F401

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

stores = sa.Table(
    "stores",
    metadata,
    sa.Column("store_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("ship_days_min", sa.Integer, nullable=False),
    sa.Column("ship_days_max", sa.Integer, nullable=False),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("product_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("brand", sa.String(100), nullable=False, index=True),
    sa.Column("category", sa.String(16), nullable=False, index=True),
    sa.Column("gender", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("search_text", sa.Text, nullable=False),  # lower-cased name, brand and description
    sa.Column("price_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("price_secondary_minor", sa.BigInteger, nullable=False),
    sa.Column("secondary_currency", sa.String(3), nullable=False),
    sa.Column("colours", sa.Text, nullable=False),  # JSON [{"code", "name"}]
    sa.Column("size_chart", sa.Text, nullable=True),  # JSON, clothing only
    sa.Column("model_uri", sa.String(300), nullable=False),
)

variants = sa.Table(
    "variants",
    metadata,
    sa.Column("sku", sa.String(100), primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.product_id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("colour_code", sa.String(16), nullable=False),
    sa.Column("colour_name", sa.String(64), nullable=False),
    sa.Column("size_label", sa.String(16), nullable=False),
    sa.Column("size_eu", sa.String(8), nullable=True),
    sa.Column("size_us", sa.String(8), nullable=True),
    sa.Column("size_uk", sa.String(8), nullable=True),
    sa.Column("mondopoint_mm", sa.Integer, nullable=True),
    sa.Column("last_length_mm", sa.Float, nullable=True),
    sa.Column("last_ball_girth_mm", sa.Float, nullable=True),
)

stock = sa.Table(
    "stock",
    metadata,
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), primary_key=True),
    sa.Column("sku", sa.Text, sa.ForeignKey("variants.sku"), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
)

shoppers = sa.Table(
    "shoppers",
    metadata,
    sa.Column("shopper_id", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    # Moved on by sign-out-everywhere: tokens carry the generation they were issued under.
    sa.Column("credential_generation", sa.Integer, nullable=False, server_default="0"),
)

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("staff_id", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    # Moved on by a password change or sign-out-everywhere; a disabled member's tokens stop at once.
    sa.Column("credential_generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("disabled_at_ms", sa.BigInteger, nullable=True),
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("device_id", sa.String(40), primary_key=True),
    sa.Column("store_id", sa.String(64), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("revoked_at_ms", sa.BigInteger, nullable=True),
)

carts = sa.Table(
    "carts",
    metadata,
    sa.Column("cart_id", sa.String(40), primary_key=True),
    sa.Column("store_id", sa.String(64), sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("owner_shopper_id", sa.String(40), sa.ForeignKey("shoppers.shopper_id"), nullable=True),
    sa.Column("created_by_device", sa.String(40), sa.ForeignKey("devices.device_id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("merged_into", sa.String(40), nullable=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_at_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "owner_shopper_id", "status"),
)

cart_lines = sa.Table(
    "cart_lines",
    metadata,
    sa.Column("line_id", sa.String(40), primary_key=True),
    sa.Column("cart_id", sa.String(40), sa.ForeignKey("carts.cart_id"), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("sku", sa.String(100), sa.ForeignKey("variants.sku"), nullable=False),
    sa.Column("product_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("size_label", sa.String(16), nullable=False),
    sa.Column("colour", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("fulfilment", sa.String(16), nullable=False),
    sa.Column("delivery_days_min", sa.Integer, nullable=False),
    sa.Column("delivery_days_max", sa.Integer, nullable=False),
)

cart_changes = sa.Table(
    "cart_changes",
    metadata,
    sa.Column("cart_id", sa.String(40), sa.ForeignKey("carts.cart_id"), primary_key=True),
    sa.Column("version", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),  # JSON of the cart as of this version
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("principal", sa.String(80), primary_key=True),
    sa.Column("method", sa.String(40), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),  # JSON of the result first returned
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

pairing_codes = sa.Table(
    "pairing_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("cart_id", sa.String(40), sa.ForeignKey("carts.cart_id"), nullable=False),
    sa.Column("created_by", sa.String(80), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("expires_at_ms", sa.BigInteger, nullable=False),
    sa.Column("claimed_at_ms", sa.BigInteger, nullable=True),
    sa.Column("claimed_by", sa.String(40), nullable=True),
)

pairing_failures = sa.Table(
    "pairing_failures",
    metadata,
    sa.Column("failure_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("principal", sa.String(80), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    sa.Column("peer", sa.String(64), nullable=False, server_default=""),  # the client address: a limit per address too
    sa.Index(None, "principal", "at_ms"),
    sa.Index(None, "peer", "at_ms"),
)

# One row per RegisterShopper from a client address (new email or not), for the per-address limit.
registration_attempts = sa.Table(
    "registration_attempts",
    metadata,
    sa.Column("failure_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("peer", sa.String(64), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False, index=True),
    sa.Index(None, "peer", "at_ms"),
)

fit_profiles = sa.Table(
    "fit_profiles",
    metadata,
    sa.Column("owner_key", sa.String(80), primary_key=True),  # "shopper:<id>" or "cart:<id>"
    sa.Column("left_foot", sa.Text, nullable=True),  # JSON of FootMeasurements (mm)
    sa.Column("left_foot_at_ms", sa.BigInteger, nullable=True),
    sa.Column("right_foot", sa.Text, nullable=True),
    sa.Column("right_foot_at_ms", sa.BigInteger, nullable=True),
    sa.Column("body", sa.Text, nullable=True),  # JSON of BodyMeasurements (mm)
    sa.Column("body_at_ms", sa.BigInteger, nullable=True),
    sa.Column("updated_at_ms", sa.BigInteger, nullable=False),
)

staff_audit = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("staff_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
)

# The payment PIN a step-up payment asks for: a salted scrypt record (payments.stepup.PinRecord),
# the wrong PINs in a row across payments, and when that locked it (set the PIN again to unlock).
payment_pins = sa.Table(
    "payment_pins",
    metadata,
    sa.Column("shopper_id", sa.String(40), sa.ForeignKey("shoppers.shopper_id"), primary_key=True),
    sa.Column("pin_record", sa.String(200), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_at_ms", sa.BigInteger, nullable=True),
    sa.Column("updated_at_ms", sa.BigInteger, nullable=False),
)

# Face identifications that matched nobody, per kiosk, for the rate limit.
face_match_failures = sa.Table(
    "face_match_failures",
    metadata,
    sa.Column("failure_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("principal", sa.String(80), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False),
    sa.Index(None, "principal", "at_ms"),
)

# Wrong passwords at sign-in and at SetPaymentPin, per account and per client address, for the
# lockout (cloud.domain.lockout), and wrong PINs a kiosk sent (account "pin-device:<id>",
# cloud.domain.payments); rows older than the window are deleted as new ones come.
password_failures = sa.Table(
    "password_failures",
    metadata,
    sa.Column("failure_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(80), nullable=False),
    sa.Column("peer", sa.String(64), nullable=False),
    sa.Column("at_ms", sa.BigInteger, nullable=False, index=True),
    sa.Index(None, "account", "at_ms"),
    sa.Index(None, "peer", "at_ms"),
)

# Face-pay match tokens and the intent each one paid for: a token pays once (cloud.domain.faces). Rows
# are kept: they are the record of which intents a face match paid.
face_match_tokens_spent = sa.Table(
    "face_match_tokens_spent",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("intent_id", sa.String(40), nullable=False, unique=True),
    sa.Column("shopper_id", sa.String(40), nullable=False),
    sa.Column("device_id", sa.String(40), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("spent_at_ms", sa.BigInteger, nullable=False),
)

# A store's stock for its staff (cloud.domain.stock): the safety stock of each SKU, from the catalog seed,
# and replenishment requests. ``open_key`` is "store|sku" while a request is open and NULL after, so the
# unique index allows one open request per SKU (NULLs never collide) and any number of closed ones.
safety_stock = sa.Table(
    "safety_stock",
    metadata,
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), primary_key=True),
    sa.Column("sku", sa.Text, sa.ForeignKey("variants.sku"), primary_key=True),
    sa.Column("minimum", sa.Integer, nullable=False),
    sa.Column("reorder_quantity", sa.Integer, nullable=False),
)

replenishments = sa.Table(
    "replenishments",
    metadata,
    sa.Column("request_id", sa.String(40), primary_key=True),
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), nullable=False),
    sa.Column("sku", sa.Text, sa.ForeignKey("variants.sku"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("open_key", sa.String(200), nullable=True, unique=True),
    sa.Column("raised_by", sa.String(64), nullable=False),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("closed_at_ms", sa.BigInteger, nullable=True),
    sa.Column("closed_by", sa.String(64), nullable=True),
    sa.Index(None, "store_id", "created_at_ms"),
)

# Which stores a staff member works in: stock calls are refused for any other store.
staff_stores = sa.Table(
    "staff_stores",
    metadata,
    sa.Column("staff_id", sa.String(64), sa.ForeignKey("staff.staff_id"), primary_key=True),
    sa.Column("store_id", sa.Text, sa.ForeignKey("stores.store_id"), primary_key=True),
)
