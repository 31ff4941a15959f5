"""My orders: the shopper's own orders, newest first, a page at a time; each opens its receipt."""
from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from mobile.i18n import tr
from mobile.screens.base import AppScreen, build

PAGE_SIZE = 10


class OrdersScreen(AppScreen):
    next_page = StringProperty("")
    empty = BooleanProperty(False)

    def on_kv_post(self, base_widget: Any) -> None:
        self._orders: list[Any] = []
        self.app.bind(lang=self._draw)

    def show(self, **params: Any) -> None:
        super().show()
        self._orders, self.next_page = [], ""
        self._load("")

    def more(self) -> None:
        if self.next_page:
            self._load(self.next_page)

    def _load(self, token: str) -> None:
        self.working = True
        self.app.call(lambda client: client.list_orders(page_size=PAGE_SIZE, page_token=token), done=self._loaded,
                      failed=self.fail)

    def _loaded(self, page: Any) -> None:
        self.working = False
        self._orders.extend(page.orders)
        self.next_page = page.next_page_token
        self.empty = not self._orders
        self._draw()

    def _draw(self, *_args: Any) -> None:
        rows = self.ids.rows
        rows.clear_widgets()
        for order in self._orders:
            count = sum(line.quantity for line in order.lines)
            row = build("OrderRow",
                title=tr._("Order {order}", order=order.order_id), total=tr.money(order.total),
                detail=f"{tr.when(order.created_at_ms)} · {order.store_name} · {tr._('Items: {count}', count=count)}",
                intent_id=order.intent_id,
            )
            row.bind(on_release=lambda row: self.app.go("receipt", intent_id=row.intent_id))
            rows.add_widget(row)
