"""The cart, live: it follows ``watch()``, so what a kiosk changes shows here without a tap."""
from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from cloud.client import CartLine
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build


def fulfilment_text(line: CartLine, store_name: str) -> str:
    if line.fulfilment.value == "ship_to_home":
        low, high = line.delivery_days
        return tr._("Delivered to your home in {low} to {high} days", low=low, high=high)
    return tr._("Pick up at {store}", store=store_name)


class CartScreen(AppScreen):
    subtotal_text = StringProperty("")
    summary = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        self._rows: dict[str, Any] = {}
        self.app.bind(cart=self._draw, lang=self._draw, store_name=self._draw)

    def show(self, **params: Any) -> None:
        super().show()
        self._draw()

    def _row(self, line_id: str) -> Any:
        """The row of ``line_id``, made once: a live cart changes rows in place, it does not rebuild them."""
        row = self._rows.get(line_id)
        if row is None:
            row = build("CartLineRow")
            row.ids.less.bind(on_release=lambda _b: self.app.set_quantity(row.line.line_id, row.line.quantity - 1))
            row.ids.more.bind(on_release=lambda _b: self.app.set_quantity(row.line.line_id, row.line.quantity + 1))
        return row

    def _draw(self, *_args: Any) -> None:
        cart = self.app.cart
        lines = cart.lines if cart is not None else ()
        rows = {}
        for line in lines:
            row = rows[line.line_id] = self._row(line.line_id)
            row.line = line
            row.name, row.quantity, row.price = line.name, line.quantity, tr.money(line.unit_price)
            row.detail = f"{line.colour} · {tr._('Size {size}', size=line.size_label)}"
            row.fulfilment = fulfilment_text(line, self.app.store_name)
            row.shipped = line.fulfilment.value == "ship_to_home"
        box = self.ids.lines
        if list(reversed(box.children)) != list(rows.values()):
            box.clear_widgets()
            for row in rows.values():
                box.add_widget(row)
        self._rows = rows
        count = sum(line.quantity for line in lines)
        self.summary = tr._("Items: {count}", count=count) if lines else tr._("Your cart is empty")
        self.subtotal_text = tr.money(cart.subtotal) if cart is not None and lines else ""

    def checkout(self) -> None:
        if self.app.cart is None or not self.app.cart.lines:
            self.error = tr._("Your cart is empty")
            return
        if self.app.pending_changes:
            self.error = tr._("Some changes are still waiting to be sent. Checkout opens when you are back online.")
            return
        self.app.go("checkout")
