"""What several shopper screens do to the shopper's cart: start it, keep the scan with it, add a line."""
from __future__ import annotations

from cloud.client import QueuedMutation
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _


def _feet_mm(feet) -> dict[str, dict[str, float] | None]:
    return {"left_foot": feet.left.to_mm_dict() if feet.left is not None else None,
            "right_foot": feet.right.to_mm_dict() if feet.right is not None else None}


def save_fit_profile(screen: Screen, cart_id: str) -> None:
    """Keep a new scan with the cart already started (and, after pairing, with the shopper's profile)."""
    feet = screen.app.session.feet
    if feet is not None:
        screen.app.background(lambda client: client.put_fit_profile(cart_id=cart_id, **_feet_mm(feet)),
                              _("keep your scan with the cart"))


def add_to_cart(screen: Screen, sku: str) -> None:
    """Start the cart if there is none yet (and keep the scan with it), then add the line."""
    app = screen.app
    cart = app.session.cart

    feet = app.session.feet

    async def add(client):
        current = cart
        if current is None:
            current = await client.create_cart(app.store_id)
            if feet is not None:  # the scan goes with the cart, and with the shopper once they pair
                await client.put_fit_profile(cart_id=current.cart_id, **_feet_mm(feet))
        return current, await client.add_line(current.cart_id, sku)

    def added(value, error) -> None:
        if error is not None:
            app.fail(error, _("add that to your cart"))
            return
        started, result = value
        if isinstance(result, QueuedMutation):
            app.session.cart = started
            app.session.queued_lines += 1
            app.notify(_("Added. The store's system is unreachable, so the cart will sync when it is back."), "warning")
        else:
            app.session.cart = result
        app.go("cart")

    screen.call(add, added, waiting=N_("Adding to your cart"))
