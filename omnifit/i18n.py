"""Message catalogs and locale formatting for the apps people read: the kiosk and the mobile app.

Each app keeps one gettext catalog per language, ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``,
the format translators and their tools already know. The source strings in the code are English, so
the English catalog may stay empty: a message with no translation is shown as written. Catalogs are
read with Babel straight from the ``.po`` files (no compiled ``.mo`` to keep in step), and Babel's CLDR
data formats money, numbers and dates the way each locale writes them (``¥1,299.50`` in zh_CN).

Usage::

    catalog = Catalog.load("kiosk", "kiosk", "zh_CN")
    _ = catalog.gettext
    _("Size {size} fits you", size="43")
    catalog.money(price)              # any object with integer ``minor`` units and a ``currency`` code
    catalog.datetime(when, "Asia/Shanghai")
"""
from __future__ import annotations

import ast
import datetime as dt
import functools
import importlib.resources
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.catalog import Catalog as BabelCatalog
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision

from omnifit.errors import ErrorCode, OmnifitError

LANGUAGES = ("zh_CN", "en")
"""The languages the apps ship, the first the default of a store in mainland China."""

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
"""Each language's name in itself, for the switch button."""


class MinorUnits(Protocol):
    """An amount as integer minor units of an ISO 4217 currency (``payments.money.Money`` is one)."""

    @property
    def minor(self) -> int: ...

    @property
    def currency(self) -> str: ...


class LanguageError(OmnifitError):
    code = ErrorCode.INVALID_ARGUMENT


def check_language(lang: str) -> str:
    """``lang`` normalised (``zh-CN`` and ``zh_cn`` are ``zh_CN``) if the apps ship it, else a clear error."""
    wanted = lang.replace("-", "_").lower()
    for known in LANGUAGES:
        if known.lower() == wanted:
            return known
    raise LanguageError(f"language {lang!r} is not available; expected one of {list(LANGUAGES)}", field="lang")


class Catalog:
    """The messages of one app in one language, and that language's way of writing numbers."""

    def __init__(self, lang: str, messages: BabelCatalog | None = None) -> None:
        self.lang = check_language(lang)
        try:
            self.locale = Locale.parse(self.lang)
        except UnknownLocaleError as exc:  # Babel ships CLDR for both; a broken install says so
            raise LanguageError(f"no locale data for {self.lang!r}", field="lang") from exc
        self._messages: dict[str, str] = {}
        if messages is not None:
            for message in messages:
                if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
                    if not message.fuzzy:
                        self._messages[message.id] = message.string

    @classmethod
    def load(cls, package: str, domain: str, lang: str) -> Catalog:
        """The catalog ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``; a language without one shows the source strings."""
        lang = check_language(lang)
        return _load_cached(package, domain, lang)

    @classmethod
    def from_file(cls, path: Path, lang: str) -> Catalog:
        with path.open("rb") as handle:
            return cls(lang, read_po(handle, locale=check_language(lang)))

    def gettext(self, message: str, /, **values: object) -> str:
        """``message`` in this language, with ``{name}`` fields filled from ``values``."""
        text = self._messages.get(message, message)
        return text.format(**values) if values else text

    def has(self, message: str) -> bool:
        """Whether ``message`` has a translation here (the English catalog needs none)."""
        return message in self._messages

    @property
    def messages(self) -> dict[str, str]:
        return dict(self._messages)

    def money(self, amount: MinorUnits) -> str:
        """``amount`` as this locale writes that currency: ``¥1,299.50`` in zh_CN, ``CN¥1,299.50`` in en."""
        precision = get_currency_precision(amount.currency)
        value = Decimal(amount.minor).scaleb(-precision)
        return format_currency(value, amount.currency, locale=self.locale)

    def number(self, value: float | Decimal | int, *, digits: int = 0) -> str:
        """``value`` with this locale's grouping and decimal mark, ``digits`` places after it."""
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def datetime(self, when: dt.datetime, timezone: str, *, style: str = "medium") -> str:
        """``when`` (timezone-aware) as a clock in ``timezone`` (the store's, e.g. ``Asia/Shanghai``) reads it."""
        if when.tzinfo is None:
            raise ValueError("datetime must be timezone-aware; got a naive datetime")
        return format_datetime(when, style, tzinfo=ZoneInfo(timezone), locale=self.locale)

    def date(self, when: dt.date, *, style: str = "medium") -> str:
        return format_date(when, style, locale=self.locale)

    def time(self, when: dt.datetime, timezone: str, *, style: str = "short") -> str:
        if when.tzinfo is None:
            raise ValueError("datetime must be timezone-aware; got a naive datetime")
        return format_time(when, style, tzinfo=ZoneInfo(timezone), locale=self.locale)


@functools.cache
def _load_cached(package: str, domain: str, lang: str) -> Catalog:
    resource = importlib.resources.files(package).joinpath("locale", lang, "LC_MESSAGES", f"{domain}.po")
    if not resource.is_file():
        return Catalog(lang)
    with resource.open("rb") as handle:
        return Catalog(lang, read_po(handle, locale=lang))


def untranslated(catalog: Catalog, messages: Iterable[str]) -> list[str]:
    """The ``messages`` that ``catalog`` has no translation for, in order, for the apps' completeness tests."""
    return [message for message in dict.fromkeys(messages) if not catalog.has(message)]


def extract_messages(root: Path, keywords: Iterable[str] = ("_",)) -> list[str]:
    """Every literal string passed to a gettext keyword (``_("…")``) in the ``.py`` and ``.kv`` files under ``root``.

    Python files go through Babel's extractor. ``.kv`` files are not Python as a whole, only their
    property values are, so the calls are found there by pattern.
    """
    from babel.messages.extract import extract_python

    names = set(keywords)
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        with path.open("rb") as handle:
            for _lineno, funcname, message, _comments in extract_python(handle, dict.fromkeys(names), [], {}):
                # A call with fields, _("… {size}", size=s), comes back as a tuple of its arguments.
                first = message[0] if isinstance(message, tuple) else message
                if funcname in names and isinstance(first, str):
                    found.append(first)
    call = re.compile(r"\b(?:" + "|".join(re.escape(name) for name in names) + r")\(\s*(['\"])((?:\\.|(?!\1).)*)\1\s*[,)]")
    for path in sorted(root.rglob("*.kv")):
        for match in call.finditer(path.read_text(encoding="utf-8")):
            found.append(ast.literal_eval(match.group(1) + match.group(2) + match.group(1)))
    return found
