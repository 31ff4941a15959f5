"""The app's words in the shopper's language, re-drawn at once when the language changes.

``tr._("Sign in")`` in a ``.kv`` rule binds to the translator the way a Kivy property
binds, so switching the language re-evaluates every rule that asked for a message
(the pattern from Kivy's i18n example). Python code calls ``tr._`` too, and its
screens refresh on :attr:`ShopperApp.lang`. The messages come from
``mobile/locale/<lang>/LC_MESSAGES/mobile.po`` through :class:`omnifit.i18n.Catalog`.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from kivy.event import Observable

from cloud.client import Money
from omnifit.i18n import Catalog

_LOGGER = logging.getLogger(__name__)
DOMAIN = "mobile"
NO_BREAK_SPACE = "\u00a0"


class Translator(Observable):
    """Messages and number formats of the current language; ``switch`` re-evaluates every bound rule."""

    def __init__(self, lang: str = "zh_CN") -> None:
        super().__init__()
        self._observers: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []
        self.catalog = Catalog.load("mobile", DOMAIN, lang)

    @property
    def lang(self) -> str:
        return self.catalog.lang

    def _(self, message: str, /, **values: object) -> str:
        text = self.catalog.gettext(message, **values)
        # Kivy wraps lines only at spaces; Chinese breaks between any two characters, so in Chinese
        # the spaces around Latin words must not be the only places a long line can break.
        return text.replace(" ", NO_BREAK_SPACE) if self.catalog.lang == "zh_CN" else text

    def money(self, amount: Money) -> str:
        return self.catalog.money(amount)

    def when(self, epoch_ms: int, timezone: str = "Asia/Shanghai") -> str:
        moment = dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)
        return self.catalog.datetime(moment, timezone, style="short")

    def day(self, epoch_ms: int) -> str:
        return self.catalog.date(dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC).date())

    def fbind(self, name: str, func: Callable[..., Any], *largs: Any, **kwargs: Any) -> Any:
        if name == "_":
            self._observers.append((func, largs, kwargs))
            return 0
        return super().fbind(name, func, *largs, **kwargs)

    def funbind(self, name: str, func: Callable[..., Any], *largs: Any, **kwargs: Any) -> None:
        if name == "_":
            key = (func, largs, kwargs)
            if key in self._observers:
                self._observers.remove(key)
            return
        super().funbind(name, func, *largs, **kwargs)

    def switch(self, lang: str) -> None:
        self.catalog = Catalog.load("mobile", DOMAIN, lang)
        alive = []
        for func, largs, kwargs in self._observers:
            try:
                func(*largs, self, None, **kwargs)
            except ReferenceError:  # the rule's widget is gone (a rebuilt list row)
                continue
            alive.append((func, largs, kwargs))
        self._observers = alive
        _LOGGER.info("language: %s", lang)


tr = Translator()
