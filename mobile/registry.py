"""Where each app screen lives, by its name: ``app.go("checkout")`` instead of importing the screen.

The same pattern as the kiosk's ``kiosk.app.routes``: screen name -> ``"module:Class"``,
the module imported when a screen of it is first shown, so screens never import each
other. Each screen's layout is ``mobile/kv/<name>.kv``. ``NEEDS_ACCOUNT`` screens send a
signed-out shopper to ``sign_in`` first, which comes back to them afterwards.
"""
from __future__ import annotations

import importlib
from pathlib import Path

KV_DIR = Path(__file__).resolve().parent / "kv"

ROUTES: dict[str, str] = {
    "catalog": "mobile.screens.catalog:CatalogScreen",
    "product": "mobile.screens.product:ProductScreen",
    "cart": "mobile.screens.cart:CartScreen",
    "handoff": "mobile.screens.handoff:HandoffScreen",
    "checkout": "mobile.screens.checkout:CheckoutScreen",
    "receipt": "mobile.screens.receipt:ReceiptScreen",
    "orders": "mobile.screens.orders:OrdersScreen",
    "my_fit": "mobile.screens.my_fit:MyFitScreen",
    "my_data": "mobile.screens.my_data:MyDataScreen",
    "sign_in": "mobile.screens.account:SignInScreen",
    "sign_up": "mobile.screens.account:SignUpScreen",
    "settings": "mobile.screens.settings:SettingsScreen",
}
NEEDS_ACCOUNT = frozenset({"cart", "handoff", "checkout", "receipt", "orders", "my_fit", "my_data"})


def kv_file(name: str) -> Path:
    return KV_DIR / f"{name}.kv"


def screen_class(name: str) -> type:
    """The class of the screen called ``name``; LookupError naming the known screens if there is none."""
    try:
        module, _, attribute = ROUTES[name].partition(":")
    except KeyError:
        raise LookupError(f"no app screen called {name!r}; known screens: {sorted(ROUTES)}") from None
    cls: type = getattr(importlib.import_module(module), attribute)
    return cls
