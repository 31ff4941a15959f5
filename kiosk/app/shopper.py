"""The shopper's screens: attract → scan → your feet → choose a shoe → size advice → cart → pairing QR.

Cart changes go through the device's ``SyncClient``: while the cloud is unreachable
they wait in its outbox (the cart screen says so) and replay exactly once later;
the catalog comes from its cache then.
"""
from __future__ import annotations

import functools
import logging
import time

import pygame

from cloud.client import ChangeKind, Fulfilment, Product, ProductPage, QueuedMutation
from kiosk.app import actions, pictures, text, ui
from kiosk.app.errors import describe_error
from kiosk.app.progress import ScanProgressScreen
from kiosk.app.scanner import STAGES, FootScan, recommend, scan_feet
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _

_LOGGER = logging.getLogger(__name__)
PRODUCTS_PER_PAGE = 6


class AttractScreen(Screen):
    """What passers-by see: one big invitation. Staff reach admin mode from the corner button (or F12)."""

    name = "attract"

    def enter(self) -> None:
        if not self.app.store_name:
            self.call(lambda client: client.list_stores(), self._stores, waiting=N_("Connecting to the store"))

    def _stores(self, stores, error) -> None:
        if error is not None:
            return  # the status line shows OFFLINE; shopping still works from the saved catalog
        by_id = {store.store_id: store for store in stores}
        if not self.app.store_id and stores:
            self.app.store_id = stores[0].store_id
        store = by_id.get(self.app.store_id)
        if store is None:  # the store id is for the log and staff; the shopper hears what to do
            _LOGGER.error("kiosk configured for store %r, which the cloud does not know", self.app.store_id)
            self.app.notify(_("This kiosk is not set up for a store yet; please ask a member of staff."), "error")
        else:
            self.app.store_name = f"{store.name}, {store.city}"
            self.app.store_timezone = store.timezone

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        main = pygame.Rect(0, 0, min(560, width - 160), 140)
        main.center = (width // 2, height // 2 + 40)
        body = main.move(0, 170).inflate(0, -40)
        body.width = (main.width - 20) // 2
        browse = body.move(body.width + 20, 0)
        staff = pygame.Rect(width - 160, height - 110, 130, 88)
        return [
            ui.Button(_("Scan my feet"), main, "scan", text_size=ui.TITLE_PX),
            ui.Button(_("Scan my body"), body, "body", colour=ui.PANEL),
            ui.Button(_("Browse shoes"), browse, "browse", colour=ui.PANEL),
            ui.Button(_("Staff"), staff, "staff", colour=ui.PANEL, text_size=ui.SMALL_PX),
        ]

    def on_action(self, action: str) -> None:
        if action == "scan":
            self.app.go("scan")
        elif action == "body":
            self.app.go("body_scan")
        elif action == "browse":
            self.app.go("products")
        elif action == "staff":
            self.app.go("staff_sign_in")

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        ui.draw_text(surface, _("Find your perfect fit"), (width // 2, height // 4), size=84, anchor="center")
        ui.draw_paragraph(surface, _("Step onto the platform: we measure both feet in seconds and tell you your size."),
                          pygame.Rect(80, height // 4 + 60, width - 160, 100), colour=ui.MUTED, centred=True)


class ScanScreen(ScanProgressScreen):
    """Runs a foot scan on the kiosk's depth source with a progress bar; failures say what to change."""

    name = "scan"
    title = N_("Scanning your feet")
    stages = STAGES
    first_stage = N_("Please stand still on the platform")
    scan_job = staticmethod(scan_feet)

    def scanned(self, scan: FootScan) -> None:
        self.app.session.feet = scan.feet
        self.app.session.scan_summary = scan.summary
        self.app.last_depth_fill = scan.depth_fill
        cart = self.app.session.cart
        if cart is not None:
            actions.save_fit_profile(self, cart.cart_id)
        self.app.go("feet", scan)


# What the results screen shows of each foot, in the order a shoe fitter reads them.
FOOT_FIGURES = (("length", N_("Length")), ("width", N_("Width")), ("ball_girth", N_("Ball girth")),
                ("instep_girth", N_("Instep girth")), ("arch_height", N_("Arch")), ("heel_width", N_("Heel width")))
# The plantar arch height a scanner sees (docs/measurements.md): flat feet read about 0-4 mm, high arches
# 15 mm and more. A bare "2 mm" reads as a broken scan to a shopper, so the arch is shown as a category.
ARCH_CATEGORIES = ((5.0, N_("low arch")), (15.0, N_("medium arch")), (float("inf"), N_("high arch")))


def arch_category(arch_height_mm: float) -> str:
    """``"low arch"``, ``"medium arch"`` or ``"high arch"`` (untranslated) for a plantar arch height."""
    return next(label for limit, label in ARCH_CATEGORIES if arch_height_mm < limit)


def foot_figure(key: str, value_mm: float) -> str:
    if key == "arch_height":
        return _(arch_category(value_mm))
    return _("{value} mm", value=text.number(value_mm))


class FeetScreen(Screen):
    """The scan's measurements of both feet, before choosing shoes."""

    name = "feet"
    title = N_("Your feet")

    def __init__(self, app, scan: FootScan) -> None:
        super().__init__(app)
        self.scan = scan
        self.views = [ui.image_surface(png) for png in scan.views if png]

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([(_("Scan again"), "again"), (_("Choose shoes"), "shoes")], height - 130, width)

    def on_action(self, action: str) -> None:
        if action == "again":
            self.app.go("scan")
        elif action == "shoes":
            self.app.go("products")

    def draw_body(self, surface: pygame.Surface) -> None:
        summary = self.scan.summary
        width, _height = surface.get_size()
        sides = [side for side in ("left", "right") if side in summary]
        first, step = (min(420, width * 2 // 5), min(240, width // 4))
        for column, side in enumerate(sides):
            ui.draw_text(surface, _(SIDES[side]), (first + column * step, 120), colour=ui.MUTED, anchor="midtop")
        for row, (key, label) in enumerate(FOOT_FIGURES):
            y = 170 + row * 62
            ui.draw_text(surface, _(label), (80, y))
            for column, side in enumerate(sides):
                ui.draw_text(surface, foot_figure(key, summary[side][key]), (first + column * step, y), anchor="midtop")
        if self.views:  # both feet turning, a turn every three seconds
            view = self.views[int(time.monotonic() * len(self.views) / 3.0) % len(self.views)]
            side = min(width - 160, 720) if width < _height else min(420, width - first - 2 * step - 40)
            spot = (width // 2 - side // 2, 640) if width < _height else (width - side - 40, 110)
            surface.blit(pygame.transform.smoothscale(view, (side, side)), spot)
        good = self.scan.watertight and not self.scan.flags
        quality = _("complete 3D model of both feet") if good else _("the 3D model has small gaps")
        ui.draw_text(surface, _("Scanned in {seconds} s: {quality}", seconds=text.number(self.scan.seconds, 1),
                                quality=quality), (80, 560), size=ui.SMALL_PX, colour=ui.MUTED if good else ui.WARNING)


SIDES = {"left": N_("Left"), "right": N_("Right")}


def _measurement_line(summary: dict[str, dict[str, float]]) -> str:
    parts = []
    for side in ("left", "right"):
        foot = summary.get(side)
        if foot:
            parts.append(_("{side}: {length} mm long, {width} mm wide", side=_(SIDES[side]),
                           length=text.number(foot["length"]), width=text.number(foot["width"])))
    return "   ".join(parts)


CATEGORIES = {"shoes": N_("Shoes"), "tops": N_("Tops"), "bottoms": N_("Bottoms")}
TITLES = {"shoes": N_("Choose a shoe"), "tops": N_("Choose a top"), "bottoms": N_("Choose trousers")}


class ProductsScreen(Screen):
    """This store's shoes, tops or bottoms, a page at a time (the saved copy while the cloud is unreachable)."""

    name = "products"

    def __init__(self, app, category: str = "shoes") -> None:
        super().__init__(app)
        self.category = category
        self.page: ProductPage | None = None
        self.tokens = [""]  # page tokens: the current page's is last

    @property
    def title(self) -> str:
        return TITLES[self.category]

    def enter(self) -> None:
        self._load()

    def _load(self) -> None:
        token = self.tokens[-1]
        store = self.app.store_id
        category = self.category
        self.call(lambda client: client.list_products(category=category, store_id=store, page_size=PRODUCTS_PER_PAGE,
                                                      page_token=token), self._loaded, waiting=N_("Loading products"))

    def _loaded(self, page: ProductPage | None, error) -> None:
        if error is not None:
            self.app.fail(error, _("load the products"))
            return
        self.page = page
        if page.stale:
            self.app.notify(_("Showing the saved catalog: the store's system is unreachable right now."), "warning")

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = []
        if self.page is not None:
            columns = 2 if width < height else 3
            tile_w = (width - 40 - 20 * columns) // columns
            tile_h = min(260, (height - 190 - 170) // -(-PRODUCTS_PER_PAGE // columns) - 20)
            for i, product in enumerate(self.page.products):
                rect = pygame.Rect(40 + (i % columns) * (tile_w + 20), 170 + (i // columns) * (tile_h + 20), tile_w, tile_h)
                buttons.append(ui.Button(product.name, rect, f"product:{i}", colour=ui.PANEL))
        has_cart = self.app.session.cart is not None or self.app.session.queued_lines
        row = [(_("Back"), "back"), (_("Previous"), "previous"), (_("Next"), "next")] + \
            ([(_("My cart"), "cart")] if has_cart else [])
        nav = ui.button_row(row, height - 130, width)
        nav[1].enabled = len(self.tokens) > 1
        nav[2].enabled = bool(self.page and self.page.next_page_token)
        tabs = [ui.Button(_(label), pygame.Rect(40 + i * 200, 96, 184, 64), f"category:{category}", text_size=ui.SMALL_PX,
                          colour=ui.ACCENT_DOWN if category == self.category else ui.PANEL)
                for i, (category, label) in enumerate(CATEGORIES.items())]
        return tabs + buttons + nav

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
        elif action.startswith("category:") and action != f"category:{self.category}":
            self.app.go("products", action.split(":", 1)[1])
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
        width, _height = surface.get_size()
        if self.category != "shoes":
            return
        line = _measurement_line(summary) if summary else _("Tip: scan your feet first and we will tell you your size.")
        ui.draw_text(surface, ui.fit_text(line, width - 680, ui.SMALL_PX), (640, 114), size=ui.SMALL_PX, colour=ui.MUTED)


GENDERS = {"men": N_("Men"), "women": N_("Women"), "unisex": N_("Unisex"), "kids": N_("Kids")}
GENDER_COLOURS = {"men": (52, 104, 192), "women": (192, 72, 132)}


def _draw_product_tile(surface: pygame.Surface, product: Product, rect: pygame.Rect) -> None:
    """Picture, a men / women badge (two tiles of one shoe told apart at a glance), brand, name, price."""
    pygame.draw.rect(surface, ui.PANEL, rect, border_radius=14)
    side = min(rect.height - 24, rect.width // 2 - 20)
    picture = pictures.tile(product, side)
    if picture is not None:
        surface.blit(picture, (rect.left + 12, rect.top + 12))
    left = rect.left + 24 + side
    inner = rect.right - left - 16
    badge = GENDER_COLOURS.get(product.gender, ui.DISABLED)
    label = _(GENDERS.get(product.gender, product.gender))
    box = ui.draw_text(surface, label, (left + 12, rect.top + 14), size=ui.SMALL_PX, colour=ui.TEXT)
    pygame.draw.rect(surface, badge, box.inflate(20, 8), border_radius=8)
    ui.draw_text(surface, label, (left + 12, rect.top + 14), size=ui.SMALL_PX)
    ui.draw_text(surface, ui.fit_text(product.brand, inner, ui.SMALL_PX), (left, rect.top + 52), size=ui.SMALL_PX,
                 colour=ui.MUTED)
    ui.draw_paragraph(surface, product.name, pygame.Rect(left, rect.top + 84, inner, rect.height - 130),
                      size=ui.SMALL_PX)
    ui.draw_text(surface, text.money(product.price), (left, rect.bottom - 14), colour=ui.ACCENT, anchor="bottomleft")


# A zone that does not fit well, in plain words: (zone, verdict) -> phrase; "good" zones say nothing.
ZONE_NAMES = {"toe_room": N_("the toes"), "ball": N_("the ball of the foot"), "instep": N_("the instep"),
              "heel": N_("the heel"), "chest": N_("the chest"), "waist": N_("the waist"), "hip": N_("the hips"),
              "length": N_("the length"), "inseam": N_("the leg length")}
VERDICT_WORDS = {"good": N_("good"), "tight": N_("snug"), "roomy": N_("roomy"), "short": N_("short"), "long": N_("long")}
VERDICTS = {"tight": N_("snug at {zone}"), "roomy": N_("roomy at {zone}"), "short": N_("short at {zone}"),
            "long": N_("long at {zone}")}


# Below this confidence the engine's best size already misfits a zone (``SizeRecommendation``): it is the
# closest the product has, and the shopper is told so rather than "fits you".
CLOSEST_ONLY = 0.05


def fit_words(size_label: str, zones, *, closest: bool = False) -> str:
    """"Size 43 fits you; roomy at the toes": the size and what is not just right about it."""
    notes = [_(VERDICTS[z.verdict.value], zone=_(ZONE_NAMES.get(z.zone.value, z.zone.value)))
             for z in zones if z.verdict.value != "good" and z.verdict.value in VERDICTS]
    head = (_("Size {size} is the closest we have for you", size=size_label) if closest
            else _("Size {size} fits you", size=size_label))
    return head + (_("; ") + _(", ").join(notes) if notes else "")


def sureness(confidence: float) -> str:
    """The confidence as the shopper reads it: how sure we are, in words and a percentage."""
    words = _("very sure") if confidence >= 0.8 else _("fairly sure") if confidence >= 0.6 else _("not very sure")
    return _("How sure we are: {words} ({percent} %)", words=words, percent=text.number(confidence * 100))


class FitScreen(Screen):
    """One shoe: the size for this shopper in plain words (``tryon.fit``), every size with stock, add to cart.

    The millimetres behind the advice are one tap away (*Details*), not in the shopper's face.
    """

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
        self.details = False

    def enter(self) -> None:
        # Shoes are sized on the feet, tops and trousers on the body, each from its own scan.
        session, shoes = self.app.session, self.product.category == "shoes"
        measurements = session.feet if shoes else session.body
        if measurements is not None:
            product_id = self.product.product_id
            self.run_blocking(functools.partial(recommend, product_id, measurements), self._advised,
                              waiting=N_("Working out your size"))
        skus = [v.sku for v in self.product.variants]
        store = self.app.store_id
        self.call(lambda client: client.stock(store, skus), self._stocked, waiting=N_("Checking stock"))

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

    def _grid_top(self) -> int:
        return 420 if not self.app.config.portrait else 760

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        buttons = []
        top = self._grid_top()
        colour_w = min(220, (width - 80) // 5 - 10)
        for i, colour in enumerate(self.colours()[:5]):
            rect = pygame.Rect(40 + i * (colour_w + 10), top, colour_w, 84)
            buttons.append(ui.Button(colour, rect, f"colour:{colour}", colour=ui.ACCENT_DOWN if colour == self.colour else ui.PANEL,
                                     text_size=ui.SMALL_PX))
        recommended = self.recommendation.size_label if self.recommendation else None
        sizes = self.variants()
        per_row = max(1, (width - 80) // 120)
        room = height - 140 - (top + 96)
        rows = -(-len(sizes) // per_row)
        key_h = max(self.app.config.min_target_px, min(84, room // max(rows, 1) - 12))
        for i, variant in enumerate(sizes):
            rect = pygame.Rect(40 + (i % per_row) * 120, top + 96 + (i // per_row) * (key_h + 12), 110, key_h)
            if rect.bottom > height - 130:
                break
            colour = ui.ACCENT_DOWN if variant.sku == self.chosen else (ui.GOOD if variant.size_label == recommended else ui.PANEL)
            buttons.append(ui.Button(variant.size_label, rect, f"size:{variant.sku}", colour=colour))
        row = [(_("Back"), "back")]
        if self.recommendation is not None:
            row.append((_("Hide details") if self.details else _("Details"), "details"))
        if self.app.config.mirror_camera:
            row.append((_("Try it on"), "mirror"))
        row.append((_("Add to cart"), "add"))
        nav = ui.button_row(row, height - 110, width)
        for button in nav[-2:]:
            if button.action in ("mirror", "add"):
                button.enabled = self.chosen is not None and not self.busy
        return buttons + nav

    def on_action(self, action: str) -> None:
        if action.startswith("size:"):
            self.chosen = action.split(":", 1)[1]
        elif action.startswith("colour:"):
            self.colour = action.split(":", 1)[1]
            size = next((v.size_label for v in self.product.variants if v.sku == self.chosen), None)
            self.chosen = next((v.sku for v in self.variants() if v.size_label == size), None)
        elif action == "details":
            self.details = not self.details
        elif action == "back":
            self.app.go("products", self.product.category)
        elif action == "mirror" and self.chosen:
            self.app.go("mirror", self.product, self.chosen)
        elif action == "add" and self.chosen:
            actions.add_to_cart(self, self.chosen)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        side = 260 if self.app.config.portrait else 150
        picture = pictures.tile(self.product, side, colour=self.colour)
        if picture is not None:
            surface.blit(picture, (width - side - 40, 100))
        text_w = width - side - 120
        ui.draw_text(surface, f"{self.product.brand}  \u00b7  {text.money(self.product.price)}", (40, 100), colour=ui.MUTED)
        chosen = next((v for v in self.product.variants if v.sku == self.chosen), None)
        rec = self.recommendation
        y = 150
        if rec is not None:
            shown = chosen.size_label if chosen is not None else rec.size_label
            zones = rec.size_fit(shown).zones
            good = shown == rec.size_label and rec.confidence >= CLOSEST_ONLY
            advice = fit_words(shown, zones, closest=not good) if shown == rec.size_label else \
                _("Size {size}: we would choose {best} for you", size=shown, best=rec.size_label)
            y = ui.draw_paragraph(surface, advice, pygame.Rect(40, y, text_w, 140), size=ui.TITLE_PX - 14,
                                  colour=ui.GOOD if good else ui.WARNING)
            ui.draw_text(surface, sureness(rec.confidence), (40, y + 4), size=ui.SMALL_PX, colour=ui.MUTED)
            y += 44
            if self.details:
                self._draw_details(surface, rec, shown, pygame.Rect(40, y, width - 80, self._grid_top() - y - 10))
        elif self.advice_error:
            ui.draw_paragraph(surface, self.advice_error, pygame.Rect(40, y, text_w, 120), colour=ui.WARNING)
        elif self.product.category != "shoes":
            ui.draw_paragraph(surface, _("Scan your body on the first screen for a size recommendation; or pick a "
                                         "size below, and try it on in the mirror."),
                              pygame.Rect(40, y, text_w, 120), colour=ui.MUTED)
        elif self.app.session.feet is None:
            ui.draw_paragraph(surface, _("Scan your feet on the first screen for a size recommendation; "
                                         "or pick a size below."), pygame.Rect(40, y, text_w, 120), colour=ui.MUTED)
        if chosen is not None and not self.details:
            where = ""
            if self.stock is not None:
                where = _("in this store") if self.stock.get(chosen.sku, 0) > 0 else _("not in this store: ships to your home")
            ui.draw_text(surface, ui.fit_text(_("Size {size}, {colour}: {where}", size=chosen.size_label,
                                                colour=chosen.colour, where=where), width - 80),
                         (40, self._grid_top() - 48), size=ui.SMALL_PX)

    def _draw_details(self, surface: pygame.Surface, rec, size_label: str, rect: pygame.Rect) -> None:
        """The millimetres: each zone's room (item minus foot) for the size shown, and the engine's own reason."""
        lines = [_("{zone}: {room} mm room ({verdict})", zone=_(ZONE_NAMES.get(z.zone.value, z.zone.value)),
                   room=text.number(z.ease_mm), verdict=_(VERDICT_WORDS[z.verdict.value]))
                 for z in rec.size_fit(size_label).zones]
        y = rect.top
        for line in lines:
            if y + 34 > rect.bottom:
                return
            ui.draw_text(surface, line, (rect.left, y), size=ui.SMALL_PX)
            y += 34
        ui.draw_paragraph(surface, rec.explanation, pygame.Rect(rect.left, y + 6, rect.width, rect.bottom - y - 6),
                          size=ui.SMALL_PX, colour=ui.MUTED)


class CartScreen(Screen):
    """The cart with prices and delivery, what is still waiting to sync, and the ways on: phone or pay."""

    name = "cart"
    title = N_("Your cart")

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
            self.app.fail(error, _("follow your cart live"))

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        cart = self.app.session.cart
        buttons = []
        if cart is not None:
            for i, line in enumerate(cart.lines[:self.rows()]):
                buttons.append(ui.Button(_("Remove"), pygame.Rect(width - 220, 150 + i * 120, 180, 88),
                                         f"remove:{line.line_id}", colour=ui.PANEL, text_size=ui.SMALL_PX))
        has_lines = bool(cart and cart.lines)
        nav = ui.button_row([(_("Keep shopping"), "shop"), (_("Continue on my phone"), "pair"), (_("Pay"), "pay")],
                            height - 130, width)
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
            self.call(lambda client: client.remove_line(cart.cart_id, line_id), self._removed, waiting=N_("Removing"))

    def rows(self) -> int:
        return max(1, (self.app.surface.get_height() - 400) // 120)

    def _removed(self, result, error) -> None:
        if error is not None:
            self.app.fail(error, _("remove that line"))
        elif isinstance(result, QueuedMutation):
            self.app.notify(_("Removed here; it will sync when the store's system is back."), "warning")
        else:
            self.app.session.cart = result

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        cart = self.app.session.cart
        if cart is None:
            ui.draw_text(surface, _("Your cart is empty."), (40, 160), colour=ui.MUTED)
            return
        rows = self.rows()
        for i, line in enumerate(cart.lines[:rows]):
            y = 150 + i * 120
            picture = pictures.line(line, 100)
            if picture is not None:
                surface.blit(picture, (40, y - 4))
            name = _("{quantity} x {name}, size {size}", quantity=line.quantity, name=line.name, size=line.size_label)
            ui.draw_text(surface, ui.fit_text(name, width - 720), (160, y + 8))
            delivery = (_("in this store") if line.fulfilment is Fulfilment.STORE_PICKUP else
                        _("ships to your home in {low}-{high} days", low=line.delivery_days[0], high=line.delivery_days[1]))
            ui.draw_text(surface, delivery, (160, y + 50), size=ui.SMALL_PX, colour=ui.MUTED)
            ui.draw_text(surface, text.money(line.unit_price), (width - 250, y + 44), anchor="midright")
        if len(cart.lines) > rows:
            ui.draw_text(surface, _("and {count} more", count=len(cart.lines) - rows), (40, 150 + rows * 120),
                         colour=ui.MUTED)
        pending = self.app.pending_mutations()
        if pending:
            ui.draw_text(surface, _("{count} change(s) waiting to reach the store's system", count=pending),
                         (40, height - 250), colour=ui.WARNING)
        ui.draw_text(surface, _("Total {amount}", amount=text.money(cart.subtotal)), (width - 40, height - 200),
                     size=ui.TITLE_PX, anchor="midright")


class PairingScreen(Screen):
    """A QR code the shopper's phone scans to take the cart (and the scan) along; it expires."""

    name = "pair"
    title = N_("Continue on your phone")

    def __init__(self, app) -> None:
        super().__init__(app)
        self.qr: pygame.Surface | None = None

    def enter(self) -> None:
        cart = self.app.session.cart
        self.call(lambda client: client.create_pairing_code(cart.cart_id), self._made, waiting=N_("Making your code"))
        self.watch(lambda client: client.watch(cart.cart_id), self._changed, lambda _value, _error: None)

    def _changed(self, event) -> None:
        """The phone claimed the code: the cart is the shopper's now; show it (card pay is open to it)."""
        if event.kind is ChangeKind.CLAIMED:
            self.app.session.cart = event.cart
            self.app.notify(_("Linked to your Omnifit account: your cart and scan are on your phone too."))
            self.app.go("cart")

    def _made(self, code, error) -> None:
        if error is not None:
            self.app.fail(error, _("make a pairing code"))
            return
        self.app.session.pairing = code
        self.qr = ui.image_surface(code.qr_png)

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([(_("Back to cart"), "cart"), (_("New code"), "again"), (_("Done"), "done")], height - 130,
                             width)

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
        side = min(height - 330, 480, width - 160)
        qr = pygame.transform.scale(self.qr, (side, side))
        surface.blit(qr, (80, 120))
        # Beside the code on a landscape screen, under it on a portrait one.
        left, top = (80 + side + 60, 140) if width > height else (80, 120 + side + 40)
        words = _("Open the Omnifit app, tap \u201cScan kiosk code\u201d and point your camera at the code. "
                  "Your cart and your foot scan move to your phone.")
        y = ui.draw_paragraph(surface, words, pygame.Rect(left, top, width - left - 60, 240))
        ui.draw_text(surface, _("Or type: {code}", code=code.code), (left, y + 30), size=ui.TITLE_PX)
        left_s = max(0, code.expires_at_ms // 1000 - int(time.time()))
        seconds = str(left_s % 60).zfill(2)
        validity = _("valid for {minutes}:{seconds}", minutes=left_s // 60, seconds=seconds) if left_s \
            else _("This code has expired: tap New code.")
        ui.draw_text(surface, validity, (left, y + 110), colour=ui.WARNING if left_s < 60 else ui.MUTED)
