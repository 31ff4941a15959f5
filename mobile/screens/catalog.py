"""The shop: categories, search, brand / size / in-stock filters, and a grid of product cards."""
from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from cloud.client import Product, SyncClient
from mobile import pictures
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build

PAGE_SIZE = 100
CATEGORY_ORDER = ("shoes", "tops", "bottoms")  # the brand leads with its shoes


class CatalogScreen(AppScreen):
    query = StringProperty("")
    category = StringProperty("")
    brand = StringProperty("")
    size_label = StringProperty("")
    in_stock_only = BooleanProperty(False)
    brands = ListProperty([])
    sizes = ListProperty([])
    products = ListProperty([])
    count = NumericProperty(0)
    stale = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._loaded = False
        self._pictures_asked = False

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(lang=lambda *_: self._draw(), store_id=lambda *_: self.in_stock_only and self.search())

    def show(self, **params: Any) -> None:
        super().show()
        if not self._loaded:
            self._loaded = True
            self.search()

    def set_filter(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.search()

    def pick_brand(self, text: str) -> None:
        brand = "" if text == tr._("All brands") else text
        if brand != self.brand:
            self.set_filter(brand=brand)

    def pick_size(self, text: str) -> None:
        size = {tr._("Size {size}", size=s): s for s in self.sizes}.get(text, "")
        if size != self.size_label:
            self.set_filter(size_label=size)

    def search(self) -> None:
        filters = dict(query=self.query.strip(), category=self.category or None, brand=self.brand, size=self.size_label,
                       in_stock=self.in_stock_only, store_id=self.app.store_id)
        self.working = True
        self.app.call(lambda client: _find(client, **filters), done=self._found, failed=self.fail)

    def _found(self, found: tuple[list[Product], bool, list[str], list[str]]) -> None:
        products, self.stale, brands, sizes = found
        self.working = False
        self.error = ""
        if not self.brands:
            self.brands = brands
        if not self.sizes:
            self.sizes = sizes
        self.products = products
        self.count = len(products)
        self._draw()
        if not self._pictures_asked:
            self._pictures_asked = True
            self.app.render_pictures(products, done=self._draw)

    def _draw(self, *_args: Any) -> None:
        grid = self.ids.grid
        grid.clear_widgets()
        for product in self.products:
            picture = pictures.existing_picture(product.product_id, product.category)
            card = build("ProductCard",
                product_id=product.product_id, brand=product.brand.upper(), name=product.name,
                price=tr.money(product.price), source=str(picture) if picture else "",
            )
            card.bind(on_release=lambda card: self.app.go("product", product_id=card.product_id))
            grid.add_widget(card)


async def _find(client: SyncClient, *, query: str, category: str | None, brand: str, size: str, in_stock: bool,
                store_id: str) -> tuple[list[Product], bool, list[str], list[str]]:
    """The products matching every filter, whether they came from the offline copy, and the brands and sizes to offer."""
    page = await client.list_products(query, category=category, brand=brand, store_id=store_id if in_stock else "",
                                      in_stock_only=in_stock and bool(store_id), page_size=PAGE_SIZE)
    products = sorted(page.products, key=lambda p: (CATEGORY_ORDER.index(p.category) if p.category in CATEGORY_ORDER
                                                    else len(CATEGORY_ORDER), p.brand, p.name))
    if size:
        products = [p for p in products if any(v.size_label == size for v in p.variants)]
        if in_stock and store_id and products:
            skus = [v.sku for p in products for v in p.variants if v.size_label == size]
            levels = await client.stock(store_id, skus)
            products = [p for p in products if any(levels.get(v.sku, 0) > 0 for v in p.variants if v.size_label == size)]
    everything = await client.list_products(page_size=PAGE_SIZE)
    brands = sorted({p.brand for p in everything.products})
    sizes = sorted({v.size_label for p in everything.products for v in p.variants}, key=_size_order)
    return products, page.stale, brands, sizes


def _size_order(label: str) -> tuple[int, float, str]:
    letters = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
    if label in letters:
        return (1, float(letters.index(label)), label)
    try:
        return (0, float(label), label)
    except ValueError:
        return (2, 0.0, label)
