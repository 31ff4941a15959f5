"""The kiosk's words in the language on screen: one gettext catalog per language, and the locale's formats.

Every string a person reads goes through :func:`_` (``_("Size {size} fits you", size="43")``);
the catalogs are ``kiosk/locale/<lang>/LC_MESSAGES/kiosk.po`` (``omnifit.i18n``), the source
strings are English. Screens translate when they draw, so switching the language
(:func:`set_language`, the corner button) changes the very next frame. One kiosk runs
per process, so the language is the process's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from omnifit.i18n import LANGUAGE_NAMES, LANGUAGES, Catalog, check_language

DEFAULT_LANGUAGE = LANGUAGES[0]
_catalog = Catalog.load("kiosk", "kiosk", DEFAULT_LANGUAGE)


def set_language(lang: str) -> None:
    """Show the kiosk in ``lang`` (``zh_CN`` or ``en``) from the next frame on; LanguageError for another."""
    global _catalog
    _catalog = Catalog.load("kiosk", "kiosk", check_language(lang))


def language() -> str:
    return _catalog.lang


def other_language() -> str:
    """The language the corner button switches to."""
    return LANGUAGES[(LANGUAGES.index(_catalog.lang) + 1) % len(LANGUAGES)]


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES[lang]


def _(message: str, /, **values: object) -> str:
    """``message`` in the kiosk's language, ``{name}`` fields filled from ``values``."""
    return _catalog.gettext(message, **values)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for the catalog, translate later"
    """``message`` unchanged: marks a string kept in a class or table for the catalog; :func:`_` translates it when shown."""
    return message


def translates(label: str, message: str) -> bool:
    """Whether ``label`` (as shown) is ``message`` in the language on screen, or ``message`` itself."""
    return label == message or label == _catalog.gettext(message)


@dataclass(frozen=True)
class _Minor:
    minor: int
    currency: str


def money(amount: object) -> str:
    """An amount (``cloud.client.Money``: ``minor_units`` and ``currency``) as the locale writes it: ¥1,299.00."""
    minor = getattr(amount, "minor_units", None)
    if minor is None:
        minor = amount.minor
    return _catalog.money(_Minor(int(minor), str(amount.currency)))


def number(value: float | int, digits: int = 0) -> str:
    return _catalog.number(value, digits=digits)


def when(epoch_ms: int, timezone: str, *, style: str = "medium") -> str:
    """A moment (milliseconds since the epoch) as the store's clock (``timezone``, e.g. Asia/Shanghai) reads it."""
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
    return _catalog.datetime(moment, timezone or "UTC", style=style)


def clock(epoch_ms: int, timezone: str) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
    return _catalog.time(moment, timezone or "UTC")
