"""Fit profiles: the foot and body measurements (mm) a scan produced, per shopper or per kiosk cart.

A kiosk's anonymous session keeps its profile under its cart (``cart:<id>``); a
shopper's lives under ``shopper:<id>``. Each section (left foot, right foot, body)
carries its own time so a merge keeps the newer value of each.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from cloud.domain import idempotency
from cloud.domain.cart_repository import CartRepository, check_access
from cloud.domain.types import BodyMeasurements, FitProfile, FootMeasurements, Principal, PrincipalKind, now_ms
from cloud.domain.validate import require_id, require_idempotency_key
from cloud.errors import InvalidArgument
from cloud.storage import Database, schema

Measurements = FootMeasurements | BodyMeasurements
SECTIONS: dict[str, type[Measurements]] = {"left_foot": FootMeasurements, "right_foot": FootMeasurements, "body": BodyMeasurements}
MAX_MEASUREMENT_MM = 3000.0
_profiles = schema.fit_profiles
_INSERTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def shopper_key(shopper_id: str) -> str:
    return f"shopper:{shopper_id}"


def cart_key(cart_id: str) -> str:
    return f"cart:{cart_id}"


def check_measurements(profile: FitProfile) -> None:
    """Every given measurement is finite and within 0..3000 mm."""
    for section in SECTIONS:
        value = getattr(profile, section)
        if value is None:
            continue
        for f in fields(value):
            number = getattr(value, f.name)
            if not (math.isfinite(number) and 0.0 <= number <= MAX_MEASUREMENT_MM):
                raise InvalidArgument(
                    f"profile.{section}.{f.name} must be 0..{MAX_MEASUREMENT_MM:.0f} mm; got {number}",
                    field=f"profile.{section}.{f.name}",
                )


def profile_to_json(profile: FitProfile) -> str:
    return json.dumps(asdict(profile), separators=(",", ":"))


def profile_from_json(text: str) -> FitProfile:
    raw = json.loads(text)
    sections = {name: cls(**raw[name]) if raw.get(name) else None for name, cls in SECTIONS.items()}
    return _profile(raw.get("shopper_id"), raw.get("updated_at_ms", 0), sections)


def _read_sections(conn: Connection, owner_key: str) -> dict[str, tuple[Measurements, int]]:
    """``{section: (measurements, at_ms)}`` for the sections stored under ``owner_key``."""
    row = conn.execute(sa.select(_profiles).where(_profiles.c.owner_key == owner_key)).first()
    if row is None:
        return {}
    mapping = row._mapping
    return {
        name: (cls(**json.loads(mapping[name])), mapping[f"{name}_at_ms"])
        for name, cls in SECTIONS.items()
        if mapping[name] is not None
    }


def _write_sections(conn: Connection, owner_key: str, sections: dict[str, tuple[Measurements, int]]) -> None:
    values: dict[str, object] = {"owner_key": owner_key, "updated_at_ms": max((at for _, at in sections.values()), default=now_ms())}
    for name in SECTIONS:
        if name in sections:
            values[name] = json.dumps(asdict(sections[name][0]))
            values[f"{name}_at_ms"] = sections[name][1]
    insert = _INSERTS[conn.dialect.name](_profiles).values(**values)
    conn.execute(insert.on_conflict_do_update(index_elements=["owner_key"], set_={k: v for k, v in values.items() if k != "owner_key"}))


def _as_profile(sections: dict[str, tuple[Measurements, int]], shopper_id: str | None) -> FitProfile:
    updated_at_ms = max((at for _, at in sections.values()), default=0)
    return _profile(shopper_id, updated_at_ms, {name: value for name, (value, _) in sections.items()})


def _profile(shopper_id: str | None, updated_at_ms: int, parts: dict[str, Measurements | None]) -> FitProfile:
    def part(name: str, kind: type[Measurements]) -> Any:
        value = parts.get(name)
        assert value is None or isinstance(value, kind)  # SECTIONS gave each its class when read
        return value

    return FitProfile(
        shopper_id=shopper_id,
        updated_at_ms=updated_at_ms,
        left_foot=part("left_foot", FootMeasurements),
        right_foot=part("right_foot", FootMeasurements),
        body=part("body", BodyMeasurements),
    )


def read_profile(conn: Connection, owner_key: str, shopper_id: str | None) -> FitProfile:
    return _as_profile(_read_sections(conn, owner_key), shopper_id)


def merge_profile(conn: Connection, from_key: str, into_key: str, shopper_id: str) -> FitProfile:
    """Fold the sections under ``from_key`` into ``into_key`` (the newer of each wins) and drop ``from_key``."""
    source, target = _read_sections(conn, from_key), _read_sections(conn, into_key)
    merged = dict(target)
    for name, (value, at) in source.items():
        if name not in merged or at > merged[name][1]:
            merged[name] = (value, at)
    if source:
        _write_sections(conn, into_key, merged)
        conn.execute(_profiles.delete().where(_profiles.c.owner_key == from_key))
    return _as_profile(merged, shopper_id)


class ProfileService:
    """Read and write fit profiles; blocking methods for the worker pool."""

    def __init__(self, database: Database, carts: CartRepository) -> None:
        self.database = database
        self.carts = carts

    def _owner(self, conn: Connection, principal: Principal, cart_id: str) -> tuple[str, str | None]:
        """The profile key the caller may use for ``cart_id`` and the shopper it belongs to."""
        if principal.kind is PrincipalKind.SHOPPER and not cart_id:
            return shopper_key(principal.subject_id), principal.subject_id
        require_id(cart_id, "cart_id")
        head = self.carts.lock_cart(conn, cart_id)
        check_access(principal, head)
        if principal.kind is PrincipalKind.DEVICE or head.owner_shopper_id is None:
            return cart_key(cart_id), None
        return shopper_key(head.owner_shopper_id), head.owner_shopper_id

    def get_profile(self, principal: Principal, cart_id: str) -> FitProfile:
        with self.database.read() as conn:
            key, shopper_id = self._owner(conn, principal, cart_id)
            return read_profile(conn, key, shopper_id)

    def put_profile(self, principal: Principal, cart_id: str, idempotency_key: str, update: FitProfile) -> FitProfile:
        """Replace the sections given in ``update``; the others keep their stored values."""
        key = require_idempotency_key(idempotency_key)
        check_measurements(update)
        digest = idempotency.request_hash({"cart_id": cart_id, "profile": json.loads(profile_to_json(update))})
        with self.database.write() as conn:
            replay = idempotency.find_replay(conn, principal, "PutFitProfile", key, digest)
            if replay is not None:
                return profile_from_json(replay)
            owner_key, shopper_id = self._owner(conn, principal, cart_id)
            sections = _read_sections(conn, owner_key)
            stamp = now_ms()
            sections.update({name: (getattr(update, name), stamp) for name in SECTIONS if getattr(update, name) is not None})
            _write_sections(conn, owner_key, sections)
            profile = _as_profile(sections, shopper_id)
            idempotency.remember(conn, principal, "PutFitProfile", key, digest, profile_to_json(profile))
        return profile
