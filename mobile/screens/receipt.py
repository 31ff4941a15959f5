"""The e-receipt of a paid order: its QR code (the receipt's address), the lines, the total and the card."""
from __future__ import annotations

import io
from typing import Any

from kivy.core.image import Image as CoreImage
from kivy.properties import ObjectProperty, StringProperty

from cloud.client import Receipt
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build


def qr_texture(text: str) -> Any:
    """A Kivy texture of ``text`` as a QR code (black on white, sharp when scaled)."""
    import qrcode

    image = qrcode.make(text, border=2, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class ReceiptScreen(AppScreen):
    receipt = ObjectProperty(None, allownone=True)
    intent_id = StringProperty("")
    qr = ObjectProperty(None, allownone=True)
    when = StringProperty("")
    total = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(lang=self._draw)

    def show(self, **params: Any) -> None:
        super().show()
        intent_id = params.get("intent_id", self.intent_id)
        if intent_id != self.intent_id or self.receipt is None:
            self.intent_id, self.receipt, self.qr = intent_id, None, None
            self.working = True
            self.app.call(lambda client: client.get_receipt(intent_id), done=self._loaded, failed=self.fail)

    def _loaded(self, receipt: Receipt) -> None:
        self.working = False
        self.receipt = receipt
        self.qr = qr_texture(receipt.url)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        receipt = self.receipt
        rows = self.ids.lines
        rows.clear_widgets()
        if receipt is None:
            return
        self.when = tr.when(receipt.created_at_ms)
        self.total = tr.money(receipt.total)
        for line in receipt.lines:
            where = tr._("delivered to your home") if line.fulfilment == "ship_to_home" else tr._("picked up in store")
            rows.add_widget(build("Body", text=f"{line.quantity} × {line.description}  {tr.money(line.unit_price)}"))
            rows.add_widget(build("Caption", text=f"{line.sku} · {where}"))
