"""Where each kiosk screen lives, by its name: ``app.go("checkout")`` instead of importing the screen.

A screen module knows only its own screens; it names the screen it goes to and the
app builds it from here. Modules are imported when a screen of theirs is first shown,
so importing one screen module never pulls in the others (no circle of imports).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.app.screen import Screen

# screen name -> "module:Class"; the name is also the class's ``name`` (a test checks they agree).
ROUTES: dict[str, str] = {
    "attract": "kiosk.app.shopper:AttractScreen",
    "scan": "kiosk.app.shopper:ScanScreen",
    "feet": "kiosk.app.shopper:FeetScreen",
    "body_scan": "kiosk.app.body:BodyScanScreen",
    "body": "kiosk.app.body:BodyScreen",
    "products": "kiosk.app.shopper:ProductsScreen",
    "fit": "kiosk.app.shopper:FitScreen",
    "cart": "kiosk.app.shopper:CartScreen",
    "mirror": "kiosk.app.mirror:MirrorScreen",
    "pair": "kiosk.app.shopper:PairingScreen",
    "checkout": "kiosk.app.checkout:CheckoutScreen",
    "paying": "kiosk.app.checkout:PayingScreen",
    "pay_card": "kiosk.app.checkout:CardScreen",
    "receipt": "kiosk.app.checkout:ReceiptScreen",
    "pay_face": "kiosk.app.facepay:FacePayScreen",
    "face_enroll": "kiosk.app.facepay:FaceEnrollScreen",
    "staff_sign_in": "kiosk.app.admin:StaffSignInScreen",
    "admin_home": "kiosk.app.admin:AdminHomeScreen",
    "admin_rig": "kiosk.app.admin:RigStatusScreen",
    "admin_outbox": "kiosk.app.admin:OutboxScreen",
    "admin_face": "kiosk.app.admin:FaceDataScreen",
    "admin_payments": "kiosk.app.admin:PaymentsScreen",
    "admin_find_payment": "kiosk.app.admin:FindPaymentScreen",
    "admin_refund": "kiosk.app.admin:RefundScreen",
    "admin_calibrate": "kiosk.app.calibration:CalibrationScreen",
    "admin_stock": "kiosk.app.admin:StockScreen",
    "admin_health": "kiosk.app.admin:HealthScreen",
}


def screen_class(name: str) -> type[Screen]:
    """The class of the screen called ``name``; KeyError naming the known screens if there is none."""
    try:
        module, _, attribute = ROUTES[name].partition(":")
    except KeyError:
        raise KeyError(f"no kiosk screen called {name!r}; known screens: {sorted(ROUTES)}") from None
    cls: type[Screen] = getattr(importlib.import_module(module), attribute)
    return cls
