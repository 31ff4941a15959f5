"""The message catalogs and locale formatting that the kiosk and the mobile app share."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from omnifit.errors import OmnifitError
from omnifit.i18n import Catalog, check_language, extract_messages, untranslated
from payments.money import Money

PO = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Size {size} fits you"
msgstr "{size} 码适合您"

#, fuzzy
msgid "Back"
msgstr "返回（待校）"

msgid "Pay with face"
msgstr ""
'''


@pytest.fixture
def po_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.po"
    path.write_text(PO, encoding="utf-8")
    return path


def test_translates_and_fills_fields(po_file: Path) -> None:
    catalog = Catalog.from_file(po_file, "zh_CN")
    assert catalog.gettext("Size {size} fits you", size="43") == "43 码适合您"


def test_fuzzy_and_empty_translations_show_the_source(po_file: Path) -> None:
    catalog = Catalog.from_file(po_file, "zh_CN")
    assert catalog.gettext("Back") == "Back"
    assert catalog.gettext("Pay with face") == "Pay with face"
    assert untranslated(catalog, ["Back", "Size {size} fits you", "Back"]) == ["Back"]


@pytest.mark.parametrize(("given", "expected"), [("zh_CN", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_cn", "zh_CN"), ("EN", "en")])
def test_language_names_are_normalised(given: str, expected: str) -> None:
    assert check_language(given) == expected


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(OmnifitError, match="'fr' is not available; expected one of"):
        check_language("fr")


def test_money_numbers_and_dates_follow_the_locale() -> None:
    zh, en = Catalog("zh_CN"), Catalog("en")
    price = Money.parse("1299.50", "CNY")
    assert zh.money(price) == "¥1,299.50"
    assert en.money(price) == "CN¥1,299.50"
    assert en.money(Money.parse("1200", "JPY")) == "¥1,200"
    assert zh.number(1234.5, digits=1) == "1,234.5"
    noon_utc = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    assert zh.datetime(noon_utc, "Asia/Shanghai").startswith("2026年12月7日 20:00")
    assert en.time(noon_utc, "Asia/Shanghai") == "8:00\u202fPM"
    with pytest.raises(ValueError, match="timezone-aware"):
        zh.datetime(dt.datetime(2026, 12, 7, 12, 0), "Asia/Shanghai")


def test_a_package_without_a_catalog_shows_the_source_strings() -> None:
    assert Catalog.load("omnifit", "nothing", "zh_CN").gettext("Back") == "Back"


def test_extracts_calls_from_python_and_kv(tmp_path: Path) -> None:
    (tmp_path / "screen.py").write_text('x = _("Size {size} fits you", size=3)\ny = _("Back")\nz = other("No")\n')
    (tmp_path / "screen.kv").write_text('<A>:\n    Button:\n        text: app._("Pay with face")\n        hint: _("It\'s here")\n')
    assert extract_messages(tmp_path) == ["Size {size} fits you", "Back", "Pay with face", "It's here"]
