"""One product: picture, colours, the size run with stock here, stock in every store, the size advice, add to cart."""
from __future__ import annotations

import asyncio
from typing import Any

from kivy.properties import DictProperty, ListProperty, ObjectProperty, StringProperty

from cloud.client import Cart, Product, QueuedMutation, SyncClient
from mobile import fit, pictures
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build


class ProductScreen(AppScreen):
    product = ObjectProperty(None, allownone=True)
    product_id = StringProperty("")
    colour = StringProperty("")
    size_label = StringProperty("")
    picture = StringProperty("")
    stock_here = DictProperty({})  # sku -> on hand at the shopper's store
    stock_by_store = ListProperty([])  # (store name, on hand of the chosen variant)
    advice = ObjectProperty(None, allownone=True)  # tryon.fit SizeRecommendation
    advice_text = StringProperty("")
    advice_detail = StringProperty("")
    availability_text = StringProperty("")

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(lang=self._draw, fit_profile=lambda *_: self._advise(), store_id=lambda *_: self._load_stock(),
                      stores=lambda *_: self._load_stock())

    def show(self, **params: Any) -> None:
        super().show()
        product_id = params.get("product_id", self.product_id)
        if product_id != self.product_id or self.product is None:
            self.product_id, self.product, self.size_label, self.advice, self.advice_text = product_id, None, "", None, ""
            self.stock_here, self.stock_by_store = {}, []
            self.working = True
            self.app.call(lambda client: client.get_product(product_id), done=self._loaded, failed=self.fail)

    def _loaded(self, product: Product) -> None:
        self.working = False
        self.product = product
        self.colour = product.variants[0].colour if product.variants else ""
        found = pictures.existing_picture(product.product_id, product.category)
        self.picture = str(found) if found else ""
        self._load_stock()
        self._advise()
        self._draw()

    def _load_stock(self) -> None:
        product, store_id = self.product, self.app.store_id
        if product is None or not store_id:
            return
        skus = [v.sku for v in product.variants]
        stores = list(self.app.stores)

        async def everywhere(client: SyncClient) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
            levels = await asyncio.gather(*(client.stock(store.store_id, skus) for store in stores))
            by_store = {store.store_id: level for store, level in zip(stores, levels, strict=True)}
            return by_store.get(store_id, {}), by_store

        self.app.call(everywhere, done=self._stocked, failed=self.fail)

    def _stocked(self, levels: tuple[dict[str, int], dict[str, dict[str, int]]]) -> None:
        self.stock_here, self._by_store = levels
        self._draw()

    def _advise(self) -> None:
        product, profile = self.product, self.app.fit_profile
        if product is None or profile is None:
            self.advice = None
            self._draw()
            return

        async def advise(_client: SyncClient) -> Any:
            return await self.app.run_blocking(fit.recommend, product.product_id, product.category, profile)

        self.app.call(advise, done=self._advised, failed=self.fail)

    def _advised(self, advice: Any) -> None:
        self.advice = advice
        if advice is not None and not self.size_label:
            self.size_label = advice.size_label
        self._draw()

    def variant(self) -> Any:
        if self.product is None:
            return None
        return next((v for v in self.product.variants if v.colour == self.colour and v.size_label == self.size_label), None)

    def pick(self, colour: str | None = None, size: str | None = None) -> None:
        if colour is not None:
            self.colour = colour
        if size is not None:
            self.size_label = size
        self._draw()

    def _draw(self, *_args: Any) -> None:
        product = self.product
        if product is None or "sizes" not in self.ids:
            return
        self._draw_colours(product)
        self._draw_sizes(product)
        self._draw_stock()
        self.availability_text = self.availability()
        advice = self.advice
        self.advice_detail = ""
        if advice is not None:
            self.advice_text = tr._("We recommend size {size}", size=advice.size_label)
            self.advice_detail = tr._("Confidence {percent}%", percent=round(advice.confidence * 100)) + " · " + advice.explanation
        elif not self.app.signed_in:
            self.advice_text = tr._("Sign in to see the size that fits you.")
        elif self.app.fit_profile is None:
            self.advice_text = tr._("Scan your feet at an Omnifit kiosk to get your size.")
        else:
            self.advice_text = tr._("Your scan has no measurements for this kind of product.")

    def _draw_colours(self, product: Product) -> None:
        box = self.ids.colours
        box.clear_widgets()
        for colour in dict.fromkeys(v.colour for v in product.variants):
            chip = build("Chip", text=colour, group=f"colour-{id(self)}", allow_no_selection=False,
                                state="down" if colour == self.colour else "normal")
            chip.bind(on_release=lambda chip: self.pick(colour=chip.text))
            box.add_widget(chip)

    def _draw_sizes(self, product: Product) -> None:
        grid = self.ids.sizes
        grid.clear_widgets()
        recommended = self.advice.size_label if self.advice is not None else ""
        for variant in product.variants:
            if variant.colour != self.colour:
                continue
            chip = build("SizeChip", text=variant.size_label, group=f"size-{id(self)}",
                                    in_stock=self.stock_here.get(variant.sku, 0) > 0,
                                    recommended=variant.size_label == recommended,
                                    state="down" if variant.size_label == self.size_label else "normal")
            chip.bind(on_release=lambda chip: self.pick(size=chip.text))
            grid.add_widget(chip)

    def _draw_stock(self) -> None:
        variant = self.variant()
        by_store = getattr(self, "_by_store", {})
        self.stock_by_store = [
            (store.name, by_store.get(store.store_id, {}).get(variant.sku, 0) if variant else 0)
            for store in self.app.stores
        ]
        rows = self.ids.stock_rows
        rows.clear_widgets()
        if variant is None:
            return
        for name, on_hand in self.stock_by_store:
            if on_hand:
                text = tr._("{store}: {count} in stock", store=name, count=on_hand)
            else:
                text = tr._("{store}: none in this size", store=name)
            rows.add_widget(build("Caption", text=text))

    def availability(self) -> str:
        variant = self.variant()
        if variant is None:
            return tr._("Choose a size")
        if self.stock_here.get(variant.sku, 0) > 0:
            return tr._("In stock at {store}: pick it up today", store=self.app.store_name)
        store = next((s for s in self.app.stores if s.store_id == self.app.store_id), None)
        if store is not None and store.ship_days[1]:
            low, high = store.ship_days
            return tr._("Not at {store} in this size: delivered to your home in {low} to {high} days",
                        store=store.name, low=low, high=high)
        return tr._("Not at {store} in this size: we deliver it to your home", store=self.app.store_name)

    def add(self) -> None:
        variant = self.variant()
        if variant is None:
            self.error = tr._("Choose a size first.")
            return
        self.working = True
        self.app.add_to_cart(variant.sku, done=self._added)

    def _added(self, result: Cart | QueuedMutation) -> None:
        self.working = False
        if isinstance(result, QueuedMutation):
            self.app.say(tr._("Saved on this phone; it goes to your cart when you are back online."))
        else:
            line = result.lines[-1] if result.lines else None
            if line is not None and line.fulfilment.value == "ship_to_home":
                self.app.say(tr._("Added. Delivered to your home in {low} to {high} days.",
                                  low=line.delivery_days[0], high=line.delivery_days[1]))
            else:
                self.app.say(tr._("Added to your cart."))
