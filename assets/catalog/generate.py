"""Generate the catalog seed (``stores.json``, ``products.json``, ``stock.json``) deterministically.

``python -m assets.catalog.generate`` rewrites the three files next to this module;
``--check`` only compares and exits 1 when the committed files are stale. Shoe size rows come
from the brand gradings (``tryon.fit.lasts``), so the catalog and the fit engine agree on every
last. Stock is drawn from a hash of (store, SKU), never from a random state, so the output is
byte-identical on every machine: central sizes are stocked deeper than the ends of a run, some
sizes are missing in some stores (the endless aisle ships them from another store) and some
products are not carried by a store at all.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from assets.catalog.seed import SEED_DIR

CURRENCY = "CNY"
SECONDARY_CURRENCY = "USD"
SECONDARY_PER_PRIMARY = "0.1380"  # USD per CNY, the rate the catalog quotes
INCH_MM = 25.4

STORES = (
    {"store_id": "sh-jingan", "name": "Omnifit Shanghai Jing'an", "city": "Shanghai", "timezone": "Asia/Shanghai"},
    {"store_id": "bj-sanlitun", "name": "Omnifit Beijing Sanlitun", "city": "Beijing", "timezone": "Asia/Shanghai"},
    {"store_id": "sz-futian", "name": "Omnifit Shenzhen Futian", "city": "Shenzhen", "timezone": "Asia/Shanghai"},
)

COLOURS = {
    "BLK": "Black", "WHT": "White", "NVY": "Navy", "GRY": "Heather Grey", "CRL": "Coral",
    "OLV": "Olive", "BRN": "Chestnut Brown", "TAN": "Tan", "BRG": "Burgundy", "SND": "Sand",
    "IND": "Indigo", "SKY": "Sky Blue", "CRM": "Cream", "RST": "Rust", "SGE": "Sage",
}

# product_id, name, brand, last code, price (CNY fen), colour codes, description
SHOES = (
    ("ka-swift-m", "Swift Runner", "Kestrel Athletics", "KA-RUN-M", 69900, ("BLK", "WHT", "NVY"), "Light neutral daily running shoe with a foam midsole."),
    ("ka-swift-w", "Swift Runner", "Kestrel Athletics", "KA-RUN-W", 69900, ("CRL", "WHT"), "Light neutral daily running shoe with a foam midsole."),
    ("ka-swift-wide-m", "Swift Runner Wide", "Kestrel Athletics", "KA-RUN-M-WIDE", 72900, ("BLK", "GRY"), "The Swift Runner on the wide last for broader forefeet."),
    ("ka-tempo-m", "Tempo Trainer", "Kestrel Athletics", "KA-RUN-M", 89900, ("SKY", "BLK"), "Firm, responsive shoe for intervals and race days."),
    ("ka-tempo-w", "Tempo Trainer", "Kestrel Athletics", "KA-RUN-W", 89900, ("SKY", "CRM"), "Firm, responsive shoe for intervals and race days."),
    ("ka-ridge-u", "Ridgeline Trail", "Kestrel Athletics", "KA-TRAIL-U", 109900, ("OLV", "RST"), "Lugged trail runner with a rock plate and a roomy toe box."),
    ("ka-ridge-wp-u", "Ridgeline Trail Waterproof", "Kestrel Athletics", "KA-TRAIL-U", 129900, ("BLK",), "The Ridgeline with a waterproof membrane for wet trails."),
    ("mv-aubert-m", "Aubert Oxford", "Maison Verlaine", "MV-OXF-M", 189900, ("BRN", "BLK"), "Goodyear-welted calf leather oxford on an almond-toe last."),
    ("mv-rivage-m", "Rivage Cap-Toe Oxford", "Maison Verlaine", "MV-OXF-M", 209900, ("BLK", "BRG"), "Cap-toe oxford in polished calf with a leather sole."),
    ("mv-colline-m", "Colline Derby", "Maison Verlaine", "MV-DERBY-M-WIDE", 169900, ("TAN", "BRN"), "Open-laced suede derby on a round, wide last."),
    ("mv-elise-w", "Elise Pump", "Maison Verlaine", "MV-PUMP-W", 159900, ("BLK", "BRG", "CRM"), "Pointed nappa pump with a 70 mm heel."),
    ("mv-margaux-w", "Margaux Loafer", "Maison Verlaine", "MV-LOAF-W", 139900, ("BRN", "BLK"), "Square-toe penny loafer in soft calf."),
    ("tf-summit-m", "Summit Hiker", "Tundra Forge", "TF-HIKE-M", 149900, ("BRN", "OLV"), "Waterproof leather hiking boot with a stiff shank."),
    ("tf-summit-w", "Summit Hiker", "Tundra Forge", "TF-HIKE-W", 149900, ("BRN", "SGE"), "Waterproof leather hiking boot with a stiff shank."),
    ("tf-basalt-m", "Basalt Mid", "Tundra Forge", "TF-HIKE-M", 119900, ("GRY", "BLK"), "Mid-cut synthetic hiker for day walks."),
    ("tf-cirque-w", "Cirque Mid", "Tundra Forge", "TF-HIKE-W", 119900, ("GRY", "SKY"), "Mid-cut synthetic hiker for day walks."),
    ("tf-ember-u", "Ember Chelsea", "Tundra Forge", "TF-CHELSEA-U", 129900, ("TAN", "BLK"), "Pull-on suede chelsea boot with a lug sole."),
    ("lc-halo-u", "Halo Court", "Lumen Court", "LC-CUP-U", 59900, ("WHT", "BLK", "CRM"), "Leather cupsole court sneaker."),
    ("lc-halo-hi-u", "Halo Court High", "Lumen Court", "LC-CUP-U", 66900, ("WHT", "NVY"), "High-top version of the Halo Court."),
    ("lc-vela-w", "Vela Slim", "Lumen Court", "LC-SLIM-W", 55900, ("WHT", "SND"), "Slim low-profile sneaker on a narrow last."),
    ("lc-grind-m", "Grind Skate", "Lumen Court", "LC-SKATE-M", 49900, ("BLK", "BRG"), "Vulcanised canvas skate shoe with a wide toe."),
    ("sw-cloud-m", "Cloudstep Walker", "Sora Walk", "SW-COMF-M-XW", 79900, ("GRY", "BLK"), "Cushioned walking shoe on an extra-wide, deep last."),
    ("sw-cloud-w", "Cloudstep Walker", "Sora Walk", "SW-COMF-W", 79900, ("GRY", "SKY"), "Cushioned walking shoe."),
    ("sw-cloud-wide-w", "Cloudstep Walker Wide", "Sora Walk", "SW-COMF-W-WIDE", 79900, ("GRY", "BLK"), "Cushioned walking shoe on the wide last."),
    ("sw-drift-u", "Drift Knit Slip-On", "Sora Walk", "SW-SLIP-U", 45900, ("BLK", "SGE", "SND"), "Stretch-knit slip-on with a removable footbed."),
)

# Body-measurement ranges (mm) per letter size: (chest, waist, hip, height), each (min, max).
LETTER_CHARTS = {
    "men": {
        "XS": ((840, 890), (700, 750), (860, 900), (1620, 1700)),
        "S": ((890, 940), (750, 800), (900, 940), (1680, 1750)),
        "M": ((940, 1000), (800, 860), (940, 990), (1730, 1800)),
        "L": ((1000, 1060), (860, 920), (990, 1040), (1780, 1850)),
        "XL": ((1060, 1120), (920, 990), (1040, 1090), (1830, 1900)),
        "XXL": ((1120, 1190), (990, 1070), (1090, 1150), (1860, 1940)),
    },
    "women": {
        "XS": ((780, 820), (600, 640), (860, 900), (1540, 1620)),
        "S": ((820, 870), (640, 690), (900, 950), (1580, 1660)),
        "M": ((870, 920), (690, 740), (950, 1000), (1620, 1700)),
        "L": ((920, 980), (740, 800), (1000, 1060), (1650, 1730)),
        "XL": ((980, 1040), (800, 860), (1060, 1120), (1680, 1760)),
        "XXL": ((1040, 1110), (860, 930), (1120, 1190), (1700, 1780)),
    },
}
LETTER_CHARTS["unisex"] = LETTER_CHARTS["men"]
# Garment inseam (mm) of letter-sized trousers, by size.
LETTER_INSEAM_MM = {"XS": 760, "S": 780, "M": 800, "L": 815, "XL": 825, "XXL": 830}
# Waist sizes (inches) and inseam lengths (inches) of trousers sold by waist and leg.
WAIST_RUNS = {"men": (28, 29, 30, 31, 32, 33, 34, 36, 38, 40), "women": (24, 25, 26, 27, 28, 29, 30, 32, 34)}
LEG_RUNS = {"men": (30, 32, 34), "women": (30, 32)}
# Hip minus waist of the body a waist size is cut for (mm): (low, high).
HIP_OVER_WAIST_MM = {"men": (110, 170), "women": (230, 300)}

# product_id, name, brand, category, gender, chart ("letter", "letter_inseam", "waist_leg"),
# ease (chest, waist, hip) mm, price (CNY fen), colour codes, description
CLOTHING = (
    ("hp-crew-m", "Everyday Crew Tee", "Harbor & Pine", "tops", "men", "letter", (100, 120, 100), 12900, ("WHT", "BLK", "NVY"), "Regular-fit cotton jersey tee."),
    ("hp-slimcrew-m", "Slim Crew Tee", "Harbor & Pine", "tops", "men", "letter", (50, 60, 60), 12900, ("WHT", "GRY"), "Slim-fit cotton jersey tee."),
    ("hp-oxford-m", "Oxford Shirt", "Harbor & Pine", "tops", "men", "letter", (120, 140, 110), 39900, ("SKY", "WHT"), "Button-down shirt in washed oxford cloth."),
    ("hp-merino-m", "Merino Crew Sweater", "Harbor & Pine", "tops", "men", "letter", (90, 110, 90), 69900, ("NVY", "OLV", "GRY"), "Fine-gauge merino wool crewneck."),
    ("hp-hoodie-u", "Loopback Hoodie", "Harbor & Pine", "tops", "unisex", "letter", (200, 220, 180), 45900, ("GRY", "BLK", "SGE"), "Oversized heavyweight loopback cotton hoodie."),
    ("ka-dryline-m", "Dryline Run Tee", "Kestrel Athletics", "tops", "men", "letter", (60, 70, 60), 24900, ("BLK", "SKY"), "Quick-dry mesh running tee."),
    ("ka-dryline-w", "Dryline Run Tee", "Kestrel Athletics", "tops", "women", "letter", (50, 60, 60), 24900, ("CRL", "BLK"), "Quick-dry mesh running tee."),
    ("ka-windshell-u", "Windshell Jacket", "Kestrel Athletics", "tops", "unisex", "letter", (180, 200, 170), 79900, ("BLK", "RST"), "Packable ripstop wind jacket."),
    ("qy-blouse-w", "Silk Blend Blouse", "Qingyi Studio", "tops", "women", "letter", (90, 110, 100), 59900, ("CRM", "BLK"), "Relaxed silk-blend blouse with a stand collar."),
    ("qy-rib-w", "Rib Knit Top", "Qingyi Studio", "tops", "women", "letter", (20, 20, 30), 29900, ("BLK", "CRM", "SGE"), "Close-fitting ribbed knit top."),
    ("qy-boxy-w", "Boxy Cotton Tee", "Qingyi Studio", "tops", "women", "letter", (140, 180, 140), 14900, ("WHT", "SND"), "Boxy cropped tee in heavy cotton."),
    ("qy-poplin-w", "Poplin Shirt", "Qingyi Studio", "tops", "women", "letter", (100, 120, 100), 39900, ("WHT", "SKY"), "Crisp cotton poplin shirt."),
    ("fl-straight-m", "Straight Jean", "Fieldline Denim", "bottoms", "men", "waist_leg", (0, 10, 60), 59900, ("IND", "BLK"), "Straight-leg rigid selvedge denim."),
    ("fl-slim-m", "Slim Jean", "Fieldline Denim", "bottoms", "men", "waist_leg", (0, 5, 40), 59900, ("IND",), "Slim-leg stretch denim."),
    ("fl-chino-m", "Everyday Chino", "Fieldline Denim", "bottoms", "men", "waist_leg", (0, 10, 70), 45900, ("SND", "NVY", "OLV"), "Cotton twill chino with a tapered leg."),
    ("fl-highrise-w", "High Rise Straight Jean", "Fieldline Denim", "bottoms", "women", "waist_leg", (0, 10, 50), 59900, ("IND", "BLK"), "High-rise straight jean in comfort stretch."),
    ("fl-wideleg-w", "Wide Leg Trouser", "Fieldline Denim", "bottoms", "women", "waist_leg", (0, 15, 90), 52900, ("BLK", "SND"), "Pleated wide-leg trouser in wool blend."),
    ("ka-stride-m", "Stride Jogger", "Kestrel Athletics", "bottoms", "men", "letter_inseam", (0, 0, 90), 39900, ("BLK", "GRY"), "Tapered jogger with an elastic waist."),
    ("ka-pace-w", "Pace Tight", "Kestrel Athletics", "bottoms", "women", "letter_inseam", (0, -30, -60), 34900, ("BLK", "NVY"), "Compressive full-length running tight."),
    ("hp-canvas-m", "Canvas Short", "Harbor & Pine", "bottoms", "men", "letter", (0, 10, 70), 29900, ("SND", "OLV"), "Washed canvas short with a 23 cm inseam."),
    ("qy-pleat-w", "Pleated Midi Skirt", "Qingyi Studio", "bottoms", "women", "letter", (0, 10, 120), 44900, ("BLK", "SGE"), "Sunray-pleated midi skirt."),
    ("qy-culotte-w", "Cropped Culotte", "Qingyi Studio", "bottoms", "women", "letter", (0, 15, 100), 42900, ("BLK", "CRM"), "Cropped wide culotte in crepe."),
)


def _colours(codes: tuple[str, ...]) -> list[dict]:
    return [{"code": code, "name": COLOURS[code]} for code in codes]


def _shoe(pid: str, name: str, brand: str, last_code: str, price: int, colours: tuple[str, ...], text: str) -> dict:
    # Lazily: the fit engine's gradings are needed only to generate, not to load, the seed.
    from tryon.fit.lasts import brand_grading, last_profile, shoe_size_seeds

    sizes = shoe_size_seeds(brand, last_code)
    gender = last_profile(brand_grading(brand), last_code).gender
    return {
        "product_id": pid, "name": name, "brand": brand, "category": "shoes", "gender": gender,
        "description": text, "price_minor": price, "colours": _colours(colours),
        "model_uri": f"assets/shoes/{pid}.glb", "last_code": last_code,
        "shoe_sizes": [asdict(s) for s in sizes],
    }


def _letter_rows(gender: str, category: str, with_inseam: bool) -> list[dict]:
    rows = []
    for label, (chest, waist, hip, height) in LETTER_CHARTS[gender].items():
        row = {
            "size_label": label,
            "chest_min_mm": float(chest[0]) if category == "tops" else 0.0,
            "chest_max_mm": float(chest[1]) if category == "tops" else 0.0,
            "waist_min_mm": float(waist[0]), "waist_max_mm": float(waist[1]),
            "hip_min_mm": float(hip[0]), "hip_max_mm": float(hip[1]),
            "inseam_mm": float(LETTER_INSEAM_MM[label]) if with_inseam else 0.0,
        }
        if category == "tops":
            row |= {"height_min_mm": float(height[0]), "height_max_mm": float(height[1])}
        rows.append(row)
    return rows


def _waist_leg_rows(gender: str) -> list[dict]:
    waists = WAIST_RUNS[gender]
    hip_low, hip_high = HIP_OVER_WAIST_MM[gender]
    rows = []
    for i, waist in enumerate(waists):
        # A waist size covers the body waists halfway to its neighbours (1- or 2-inch steps).
        below = (waist - waists[i - 1]) / 2 if i else 0.5
        above = (waists[i + 1] - waist) / 2 if i + 1 < len(waists) else 1.0
        low, high = round((waist - below) * INCH_MM, 1), round((waist + above) * INCH_MM, 1)
        rows.extend(
            {
                "size_label": f"W{waist}L{leg}", "chest_min_mm": 0.0, "chest_max_mm": 0.0,
                "waist_min_mm": low, "waist_max_mm": high,
                "hip_min_mm": round(low + hip_low, 1), "hip_max_mm": round(high + hip_high, 1),
                "inseam_mm": round(leg * INCH_MM, 1),
            }
            for leg in LEG_RUNS[gender]
        )
    return rows


def _garment(pid, name, brand, category, gender, chart, ease, price, colours, text) -> dict:
    rows = _waist_leg_rows(gender) if chart == "waist_leg" else _letter_rows(gender, category, chart == "letter_inseam")
    return {
        "product_id": pid, "name": name, "brand": brand, "category": category, "gender": gender,
        "description": text, "price_minor": price, "colours": _colours(colours),
        "model_uri": f"assets/garments/{pid}.png",
        "size_chart": {
            "rows": rows,
            "ease_chest_mm": float(ease[0]), "ease_waist_mm": float(ease[1]), "ease_hip_mm": float(ease[2]),
        },
    }


def _unit(*parts: str) -> float:
    """A number in [0, 1) fixed by ``parts``: the same on every machine and Python version."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _stock_rows(products: list[dict]) -> list[dict]:
    rows = []
    for store in STORES:
        sid = store["store_id"]
        for index, product in enumerate(products):
            # Every third product skips one store in turn, so each product is carried somewhere.
            if index % 3 == 0 and index // 3 % len(STORES) == STORES.index(store):
                continue
            labels = [s["size_label"] for s in product.get("shoe_sizes", ())] or [
                r["size_label"] for r in product["size_chart"]["rows"]
            ]
            for colour in product["colours"]:
                for position, label in enumerate(labels):
                    sku = f"{product['product_id']}-{colour['code']}-{label}"
                    # 0 at the middle of the run, 1 at either end: the ends sell thinner.
                    edge = abs(2 * position / max(len(labels) - 1, 1) - 1)
                    draw = _unit(sid, sku)
                    if draw < 0.12 + 0.45 * edge:
                        continue  # this store does not stock this variant
                    on_hand = 0 if draw > 0.95 else 1 + int(_unit(sku, sid, "depth") * (7 - 5 * edge))
                    # The store keeps more of the sizes that sell most: below this it asks for more.
                    safety = 2 if edge <= 0.4 else 1
                    rows.append({"store_id": sid, "sku": sku, "on_hand": on_hand, "safety_stock": safety,
                                 "reorder_quantity": 3 * safety + 2})
    return rows


def _json_text(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _rows_text(rows: list[dict]) -> str:
    """One row per line: diffs of stock changes stay readable."""
    return "[\n" + ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n"


def build_catalog() -> dict[str, str]:
    """The three seed files' text by file name."""
    products = [_shoe(*spec) for spec in SHOES] + [_garment(*spec) for spec in CLOTHING]
    return {
        "stores.json": _json_text(list(STORES)),
        "products.json": _json_text(
            {
                "currency": CURRENCY,
                "secondary_currency": SECONDARY_CURRENCY,
                "secondary_per_primary": SECONDARY_PER_PRIMARY,
                "products": products,
            }
        ),
        "stock.json": _rows_text(_stock_rows(products)),
    }


def stale_files(folder: Path = SEED_DIR) -> list[str]:
    """Names of the seed files in ``folder`` that differ from what the generator makes now."""
    stale = []
    for name, text in build_catalog().items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assets.catalog.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SEED_DIR, help="folder to write (default: this package)")
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in build_catalog().items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
