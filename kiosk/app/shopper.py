"""The shopper's screens: attract → scan → your feet → choose a shoe → size advice → cart → pairing QR.

Cart changes go through the device's ``SyncClient``: while the cloud is unreachable
they wait in its outbox (the cart screen says so) and replay exactly once later;
the catalog comes from its cache then.
"""
from __future__ import annotations

import functools
import time

import pygame

from cloud.client import ChangeKind, Fulfilment, Product, ProductPage, QueuedMutation
from kiosk.app import ui
from kiosk.app.errors import describe_error
from kiosk.app.scanner import STAGES, FootScan, recommend, scan_feet
from kiosk.app.screen import Screen

PRODUCTS_PER_PAGE = 6


class AttractScreen(Screen):
    """What passers-by see: one big invitation. Staff reach admin mode from the corner button (or F12)."""

    name = "attract"

    def enter(self) -> None:
        if not self.app.store_name:
            self.call(lambda client: client.list_stores(), self._stores, waiting="Connecting to the store")

    def _stores(self, stores, error) -> None:
        if error is not None:
            return  # the status line shows OFFLINE; shopping still works from the saved catalog
        by_id = {store.store_id: store for store in stores}
        if not self.app.store_id and stores:
            self.app.store_id = stores[0].store_id
        store = by_id.get(self.app.store_id)
        if store is None:
            self.app.notify(f"This kiosk is set up for store {self.app.store_id!r}, which the cloud does not know; "
                            "ask staff to check its configuration.", "error")
        else:
            self.app.store_name = f"{store.name}, {store.city}"

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        main = pygame.Rect(0, 0, 560, 140)
        main.center = (width // 2, height // 2 + 40)
        browse = main.move(0, 170).inflate(-120, -40)
        staff = pygame.Rect(width - 160, height - 110, 130, 88)
        return [
            ui.Button("Scan my feet", main, "scan", text_size=ui.TITLE_PX),
            ui.Button("Browse shoes", browse, "browse", colour=ui.PANEL),
            ui.Button("Staff", staff, "staff", colour=ui.PANEL, text_size=ui.SMALL_PX),
        ]

    def on_action(self, action: str) -> None:
        if action == "scan":
            self.app.go("scan")
        elif action == "browse":
            self.app.go("products")
        elif action == "staff":
            self.app.go("staff_sign_in")

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        ui.draw_text(surface, "Find your perfect fit", (width // 2, height // 4), size=84, anchor="center")
        ui.draw_text(surface, "Step onto the platform: we measure both feet in seconds and tell you your size.",
                     (width // 2, height // 4 + 80), colour=ui.MUTED, anchor="center")


class ScanScreen(Screen):
    """Runs a foot scan on the kiosk's depth source with a progress bar; failures say what to change."""

    name = "scan"
    title = "Scanning your feet"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.stage = "Please stand still on the platform"
        self.fraction = 0.0
        self.failed: str | None = None

    def enter(self) -> None:
        self.failed = None
        self.fraction = 0.0
        shopper = self.app.session.scans
        self.app.session.scans += 1
        config = self.app.config
        self.run_blocking(functools.partial(scan_feet, config, shopper), self._scanned, waiting="Hold still",
                          progress=self._progress)

    def _progress(self, stage: str, fraction: float) -> None:
        self.stage = STAGES.get(stage, stage)
        self.fraction = fraction

    def _scanned(self, scan: FootScan | None, error) -> None:
        if error is not None:
            self.failed = describe_error(error)
            self.app.fail(error, "finish the scan")
            return
        self.app.session.feet = scan.feet
        self.app.session.scan_summary = scan.summary
        if not scan.watertight or scan.flags:
            self.app.notify("The scan is usable but not perfect: " + "; ".join(scan.flags[:2]), "warning")
        cart = self.app.session.cart
        if cart is not None:
            save_fit_profile(self, cart.cart_id)
        self.app.go("feet", scan)

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        if self.failed is None:
            return []
        return ui.button_row([("Try again", "again"), ("Back", "back")], height - 260, width, margin=200)

    def on_action(self, action: str) -> None:
        if action == "again":
            self.enter()
        elif action == "back":
            self.app.reset_session()

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        if self.failed is not None:
            ui.draw_paragraph(surface, "The scan did not work: " + self.failed,
                              pygame.Rect(120, 200, width - 240, 240), centred=True)
            return
        ui.draw_text(surface, self.stage, (width // 2, height // 3), anchor="center")
        bar = pygame.Rect(0, 0, width - 320, 48)
        bar.center = (width // 2, height // 3 + 80)
        pygame.draw.rect(surface, ui.PANEL, bar, border_radius=24)
        done = bar.copy()
        done.width = max(48, int(bar.width * self.fraction))
        pygame.draw.rect(surface, ui.ACCENT, done, border_radius=24)
        ui.draw_text(surface, f"{int(self.fraction * 100)} %", bar.center, anchor="center")


# What the results screen shows of each foot, in the order a shoe fitter reads them.
FOOT_FIGURES = (("length", "Length"), ("width", "Width"), ("ball_girth", "Ball girth"),
                ("instep_girth", "Instep girth"), ("arch_height", "Arch height"), ("heel_width", "Heel width"))


class FeetScreen(Screen):
    """The scan's measurements of both feet, before choosing shoes."""

    name = "feet"
    title = "Your feet"

    def __init__(self, app, scan: FootScan) -> None:
        super().__init__(app)
        self.scan = scan

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([("Scan again", "again"), ("Choose shoes", "shoes")], height - 130, width)

    def on_action(self, action: str) -> None:
        if action == "again":
            self.app.go("scan")
        elif action == "shoes":
            self.app.go("products")

    def draw_body(self, surface: pygame.Surface) -> None:
        summary = self.scan.summary
        sides = [side for side in ("left", "right") if side in summary]
        for column, side in enumerate(sides):
            ui.draw_text(surface, side.title(), (520 + column * 300, 120), colour=ui.MUTED, anchor="midtop")
        for row, (key, label) in enumerate(FOOT_FIGURES):
            y = 170 + row * 62
            ui.draw_text(surface, label, (80, y))
            for column, side in enumerate(sides):
                ui.draw_text(surface, f"{summary[side][key]:.0f} mm", (520 + column * 300, y), anchor="midtop")
        quality = "complete 3D model of both feet" if self.scan.watertight and not self.scan.flags else \
            "; ".join(self.scan.flags[:2]) or "the 3D model has gaps"
        ui.draw_text(surface, f"Scanned in {self.scan.seconds:.1f} s: {quality}", (80, 560), size=ui.SMALL_PX,
                     colour=ui.MUTED if self.scan.watertight and not self.scan.flags else ui.WARNING)


def _feet_mm(feet) -> dict[str, dict[str, float] | None]:
    return {"left_foot": feet.left.to_mm_dict() if feet.left is not None else None,
            "right_foot": feet.right.to_mm_dict() if feet.right is not None else None}


def save_fit_profile(screen: Screen, cart_id: str) -> None:
    """Keep a new scan with the cart already started (and, after pairing, with the shopper's profile)."""
    feet = screen.app.session.feet
    if feet is not None:
        screen.app.background(lambda client: client.put_fit_profile(cart_id=cart_id, **_feet_mm(feet)),
                              "keep your scan with the cart")


def _measurement_line(summary: dict[str, dict[str, float]]) -> str:
    parts = []
    for side in ("left", "right"):
        foot = summary.get(side)
        if foot:
            parts.append(f"{side.title()}: {foot['length']:.0f} mm long, {foot['width']:.0f} mm wide")
    return "   ".join(parts)


class ProductsScreen(Screen):
    """Shoes of this store's catalog, a page at a time (the saved copy while the cloud is unreachable)."""

    name = "products"
    title = "Choose a shoe"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.page: ProductPage | None = None
        self.tokens = [""]  # page tokens: the current page's is last

    def enter(self) -> None:
        self._load()

    def _load(self) -> None:
        token = self.tokens[-1]
        store = self.app.store_id
        self.call(lambda client: client.list_products(category="shoes", store_id=store, page_size=PRODUCTS_PER_PAGE,
                                                      page_token=token), self._loaded, waiting="Loading shoes")

    def _loaded(self, page: ProductPage | None, error) -> None:
        if error is not None:
            self.app.fail(error, "load the shoes")
            return
        self.page = page
        if page.stale:
            self.app.notify("Showing the saved catalog: the store's system is unreachable right now.", "warning")

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = []
        if self.page is not None:
            tile_w, tile_h = (width - 120) // 3, 170
            for i, product in enumerate(self.page.products):
                rect = pygame.Rect(40 + (i % 3) * (tile_w + 20), 190 + (i // 3) * (tile_h + 20), tile_w, tile_h)
                buttons.append(ui.Button(product.name, rect, f"product:{i}", colour=ui.PANEL))
        has_cart = self.app.session.cart is not None or self.app.session.queued_lines
        row = [("Back", "back"), ("Previous", "previous"), ("Next", "next")] + ([("My cart", "cart")] if has_cart else [])
        nav = ui.button_row(row, height - 130, width)
        nav[1].enabled = len(self.tokens) > 1
        nav[2].enabled = bool(self.page and self.page.next_page_token)
        return buttons + nav

    def on_action(self, action: str) -> None:
        if action.startswith("product:") and self.page is not None:
            self.app.session.product = self.page.products[int(action.split(":")[1])]
            self.app.go("fit", self.app.session.product)
        elif action == "next" and self.page is not None:
            self.tokens.append(self.page.next_page_token)
            self._load()
        elif action == "previous" and len(self.tokens) > 1:
            self.tokens.pop()
            self._load()
        elif action == "cart":
            self.app.go("cart")
        elif action == "back":
            self.app.reset_session()

    def draw_button(self, surface: pygame.Surface, button: ui.Button) -> None:
        if button.action.startswith("product:") and self.page is not None:
            _draw_product_tile(surface, self.page.products[int(button.action.split(":")[1])], button.rect)
        else:
            button.draw(surface)

    def draw_body(self, surface: pygame.Surface) -> None:
        summary = self.app.session.scan_summary
        text = _measurement_line(summary) if summary else "Tip: scan your feet first and we will tell you your size."
        ui.draw_text(surface, text, (40, 110), colour=ui.MUTED)


def _draw_product_tile(surface: pygame.Surface, product: Product, rect: pygame.Rect) -> None:
    """Brand, name and price (with its currency) over the tile's button."""
    pygame.draw.rect(surface, ui.PANEL, rect, border_radius=14)
    ui.draw_text(surface, f"{product.brand} \u00b7 {product.gender}", (rect.left + 20, rect.top + 18), size=ui.SMALL_PX,
                 colour=ui.MUTED)
    ui.draw_paragraph(surface, product.name, pygame.Rect(rect.left + 20, rect.top + 50, rect.width - 40, 70))
    ui.draw_text(surface, str(product.price), (rect.left + 20, rect.bottom - 18), colour=ui.ACCENT, anchor="bottomleft")


class FitScreen(Screen):
    """One shoe: the recommended size from the scan (``tryon.fit``), every size with stock, add to cart."""

    name = "fit"

    def __init__(self, app, product: Product) -> None:
        super().__init__(app)
        self.product = product
        self.title = product.name
        self.recommendation = None
        self.advice_error: str | None = None
        self.stock: dict[str, int] | None = None
        self.chosen: str | None = None  # sku
        self.colour = product.variants[0].colour if product.variants else ""

    def enter(self) -> None:
        feet = self.app.session.feet
        if feet is not None:
            product_id = self.product.product_id
            self.run_blocking(functools.partial(recommend, product_id, feet), self._advised,
                              waiting="Working out your size")
        skus = [v.sku for v in self.product.variants]
        store = self.app.store_id
        self.call(lambda client: client.stock(store, skus), self._stocked, waiting="Checking stock")

    def _advised(self, recommendation, error) -> None:
        if error is not None:
            self.advice_error = describe_error(error)
            return
        self.recommendation = recommendation
        if self.chosen is None:
            self.chosen = next((v.sku for v in self.variants() if v.size_label == recommendation.size_label), None)

    def _stocked(self, levels: dict[str, int] | None, error) -> None:
        if error is not None:
            self.stock = None  # unknown: sizes are still offered, delivery is decided by the cloud
            return
        self.stock = levels

    def colours(self) -> list[str]:
        return list(dict.fromkeys(v.colour for v in self.product.variants))

    def variants(self):
        """The sizes of the colour shown."""
        return [v for v in self.product.variants if v.colour == self.colour]

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = []
        for i, colour in enumerate(self.colours()[:5]):
            rect = pygame.Rect(40 + i * 230, 390, 220, 84)
            buttons.append(ui.Button(colour, rect, f"colour:{colour}", colour=ui.ACCENT_DOWN if colour == self.colour else ui.PANEL,
                                     text_size=ui.SMALL_PX))
        recommended = self.recommendation.size_label if self.recommendation else None
        sizes = self.variants()
        per_row = max(1, (width - 80) // 120)
        # Two rows of 84 px keys fit above the buttons; a long size run gets three rows of 60 px keys.
        rows = -(-len(sizes) // per_row)
        step, key_h = (96, 84) if rows <= 2 else (66, 60)
        for i, variant in enumerate(sizes[:per_row * (2 if rows <= 2 else 3)]):
            rect = pygame.Rect(40 + (i % per_row) * 120, 486 + (i // per_row) * step, 110, key_h)
            colour = ui.ACCENT_DOWN if variant.sku == self.chosen else (ui.GOOD if variant.size_label == recommended else ui.PANEL)
            buttons.append(ui.Button(variant.size_label, rect, f"size:{variant.sku}", colour=colour))
        nav = ui.button_row([("Back", "back"), ("Add to cart", "add")], height - 110, width)
        nav[1].enabled = self.chosen is not None and not self.busy
        return buttons + nav

    def on_action(self, action: str) -> None:
        if action.startswith("size:"):
            self.chosen = action.split(":", 1)[1]
        elif action.startswith("colour:"):
            self.colour = action.split(":", 1)[1]
            size = next((v.size_label for v in self.product.variants if v.sku == self.chosen), None)
            self.chosen = next((v.sku for v in self.variants() if v.size_label == size), None)
        elif action == "back":
            self.app.go("products")
        elif action == "add" and self.chosen:
            add_to_cart(self, self.chosen)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _ = surface.get_size()
        ui.draw_text(surface, f"{self.product.brand}  \u00b7  {self.product.price}", (40, 100), colour=ui.MUTED)
        if self.recommendation is not None:
            rec = self.recommendation
            ui.draw_text(surface, f"Your size: EU {rec.size_label}", (40, 150), size=ui.TITLE_PX, colour=ui.GOOD)
            ui.draw_text(surface, f"confidence {rec.confidence:.0%}", (520, 162), colour=ui.MUTED)
            ui.draw_paragraph(surface, rec.explanation, pygame.Rect(40, 218, width - 80, 70), size=ui.SMALL_PX)
        elif self.advice_error:
            ui.draw_paragraph(surface, self.advice_error, pygame.Rect(40, 160, width - 80, 120), colour=ui.WARNING)
        elif self.app.session.feet is None:
            ui.draw_paragraph(surface, "Scan your feet on the attract screen for a size recommendation; "
                              "or pick a size below.", pygame.Rect(40, 160, width - 80, 120), colour=ui.MUTED)
        chosen = next((v for v in self.product.variants if v.sku == self.chosen), None)
        if chosen is not None and self.recommendation is not None:
            zones = self.recommendation.size_fit(chosen.size_label).zones
            ui.draw_text(surface, "  \u00b7  ".join(f"{z.zone.value.replace('_', ' ')} {z.verdict.value}" for z in zones),
                         (40, 300), size=ui.SMALL_PX, colour=ui.GOOD if all(z.verdict.value == "good" for z in zones)
                         else ui.WARNING)
        if chosen is not None:
            where = ""
            if self.stock is not None:
                where = "in this store" if self.stock.get(chosen.sku, 0) > 0 else "not in this store: ships to your home"
            ui.draw_text(surface, f"Size {chosen.size_label}, {chosen.colour}: {where}", (40, 334))


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
            app.fail(error, "add that to your cart")
            return
        started, result = value
        if isinstance(result, QueuedMutation):
            app.session.cart = started
            app.session.queued_lines += 1
            app.notify("Added. The store's system is unreachable, so the cart will sync when it is back.", "warning")
        else:
            app.session.cart = result
        app.go("cart")

    screen.call(add, added, waiting="Adding to your cart")


class CartScreen(Screen):
    """The cart with prices and delivery, what is still waiting to sync, and the ways on: phone or pay."""

    name = "cart"
    title = "Your cart"

    def enter(self) -> None:
        cart = self.app.session.cart
        if cart is not None:  # the cart live: what the phone changes after pairing shows here at once
            self.watch(lambda client: client.watch(cart.cart_id), self._changed, self._watch_ended)

    def _changed(self, event) -> None:
        current = self.app.session.cart
        if current is None or event.cart.version >= current.version:
            self.app.session.cart = event.cart
        if not self.app.pending_mutations():
            self.app.session.queued_lines = 0

    def _watch_ended(self, _value, error) -> None:
        if error is not None:
            self.app.fail(error, "follow your cart live")

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        cart = self.app.session.cart
        buttons = []
        if cart is not None:
            for i, line in enumerate(cart.lines[:5]):
                buttons.append(ui.Button("Remove", pygame.Rect(width - 220, 150 + i * 100, 180, 88), f"remove:{line.line_id}",
                                         colour=ui.PANEL, text_size=ui.SMALL_PX))
        has_lines = bool(cart and cart.lines)
        nav = ui.button_row([("Keep shopping", "shop"), ("Continue on my phone", "pair"), ("Pay", "pay")], height - 130, width)
        nav[1].enabled = cart is not None
        nav[2].enabled = has_lines and not self.app.pending_mutations()
        return buttons + nav

    def on_action(self, action: str) -> None:
        cart = self.app.session.cart
        if action == "shop":
            self.app.go("products")
        elif action == "pair":
            self.app.go("pair")
        elif action == "pay":
            self.app.go("checkout")
        elif action.startswith("remove:") and cart is not None:
            line_id = action.split(":", 1)[1]
            self.call(lambda client: client.remove_line(cart.cart_id, line_id), self._removed, waiting="Removing")

    def _removed(self, result, error) -> None:
        if error is not None:
            self.app.fail(error, "remove that line")
        elif isinstance(result, QueuedMutation):
            self.app.notify("Removed here; it will sync when the store's system is back.", "warning")
        else:
            self.app.session.cart = result

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        cart = self.app.session.cart
        if cart is None:
            ui.draw_text(surface, "Your cart is empty.", (40, 160), colour=ui.MUTED)
            return
        for i, line in enumerate(cart.lines[:5]):
            y = 150 + i * 100
            ui.draw_text(surface, ui.fit_text(f"{line.quantity} x {line.name}  size {line.size_label}", width - 560),
                         (40, y + 8))
            delivery = ("in this store" if line.fulfilment is Fulfilment.STORE_PICKUP else
                        f"ships to your home in {line.delivery_days[0]}-{line.delivery_days[1]} days")
            ui.draw_text(surface, delivery, (40, y + 50), size=ui.SMALL_PX, colour=ui.MUTED)
            ui.draw_text(surface, str(line.unit_price), (width - 250, y + 44), anchor="midright")
        if len(cart.lines) > 5:
            ui.draw_text(surface, f"and {len(cart.lines) - 5} more", (40, 650), colour=ui.MUTED)
        pending = self.app.pending_mutations()
        if pending:
            ui.draw_text(surface, f"{pending} change(s) waiting to reach the store's system", (40, height - 200),
                         colour=ui.WARNING)
        ui.draw_text(surface, f"Total {cart.subtotal}", (width - 40, height - 200), size=ui.TITLE_PX, anchor="midright")


class PairingScreen(Screen):
    """A QR code the shopper's phone scans to take the cart (and the scan) along; it expires."""

    name = "pair"
    title = "Continue on your phone"

    def __init__(self, app) -> None:
        super().__init__(app)
        self.qr: pygame.Surface | None = None

    def enter(self) -> None:
        cart = self.app.session.cart
        self.call(lambda client: client.create_pairing_code(cart.cart_id), self._made, waiting="Making your code")
        self.watch(lambda client: client.watch(cart.cart_id), self._changed, lambda _value, _error: None)

    def _changed(self, event) -> None:
        """The phone claimed the code: the cart is the shopper's now; show it (card pay is open to it)."""
        if event.kind is ChangeKind.CLAIMED:
            self.app.session.cart = event.cart
            self.app.notify("Linked to your Omnifit account: your cart and scan are on your phone too.")
            self.app.go("cart")

    def _made(self, code, error) -> None:
        if error is not None:
            self.app.fail(error, "make a pairing code")
            return
        self.app.session.pairing = code
        self.qr = ui.image_surface(code.qr_png)

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([("Back to cart", "cart"), ("New code", "again"), ("Done", "done")], height - 130, width)

    def on_action(self, action: str) -> None:
        if action == "cart":
            self.app.go("cart")
        elif action == "again":
            self.qr = None
            self.enter()
        elif action == "done":
            self.app.reset_session()

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        code = self.app.session.pairing
        if self.qr is None or code is None:
            return
        side = min(height - 330, 480)
        qr = pygame.transform.scale(self.qr, (side, side))
        surface.blit(qr, (80, 120))
        left = 80 + side + 60
        text = ("Open the Omnifit app, tap \u201cScan kiosk code\u201d and point your camera at the code. "
                "Your cart and your foot scan move to your phone.")
        y = ui.draw_paragraph(surface, text, pygame.Rect(left, 140, width - left - 60, 240))
        ui.draw_text(surface, f"Or type: {code.code}", (left, y + 30), size=ui.TITLE_PX)
        left_s = max(0, code.expires_at_ms // 1000 - int(time.time()))
        validity = f"valid for {left_s // 60}:{left_s % 60:02d}" if left_s else "This code has expired: tap New code."
        ui.draw_text(surface, validity, (left, y + 110), colour=ui.WARNING if left_s < 60 else ui.MUTED)
