"""The kiosk's touch widgets, amount parsing and payment journal on their own (no cloud needed)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pygame  # noqa: E402

from kiosk.app import ui  # noqa: E402
from kiosk.app.journal import PaymentJournal  # noqa: E402
from kiosk.app.script import ScriptError, parse_script  # noqa: E402
from omnifit.shared import REPO_ROOT  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def display():
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.display.quit()


def _tap(widget, label: str):
    key = next(b for b in widget.buttons if b.label == label)
    return widget.tap(key.rect.center)


def test_pin_keypad_types_digits_up_to_its_length_masks_them_and_reports_ok():
    pad = ui.Keypad((0, 0), max_length=4, masked=True)
    for label in "12345":
        assert _tap(pad, label) is None
    assert pad.value == "1234" and pad.shown() == "\u2022" * 4
    _tap(pad, "Del")
    assert pad.value == "123"
    assert _tap(pad, "OK") == "ok"
    assert all(b.rect.width >= 88 and b.rect.height >= 88 for b in pad.buttons)  # finger-sized


def test_amount_keypad_takes_one_decimal_point():
    pad = ui.Keypad((0, 0), decimal=True)
    for label in "12.5.0":
        _tap(pad, label)
    assert pad.value == "12.50"


def test_text_keyboard_types_into_the_focused_field_with_shift_and_next():
    keyboard = ui.TextKeyboard((0, 0), ("staff id", "password"), masked=frozenset({"password"}))
    _tap(keyboard, "Shift")
    _tap(keyboard, "A")
    _tap(keyboard, "Shift")
    _tap(keyboard, "l")
    _tap(keyboard, "Next")
    for label in "pw1":
        _tap(keyboard, label)
    assert keyboard.values == {"staff id": "Al", "password": "pw1"}
    assert keyboard.shown("password") == "\u2022\u2022\u2022" and keyboard.shown("staff id") == "Al"
    assert _tap(keyboard, "Done") == "ok"


def test_long_text_is_cut_to_fit_its_width_with_an_ellipsis():
    assert ui.fit_text("short", 500) == "short"
    cut = ui.fit_text("a refusal reason far too long for one line " * 5, 400, ui.SMALL_PX)
    assert cut.endswith("\u2026") and ui.Fonts.get(ui.SMALL_PX).size(cut)[0] <= 400


def test_journal_lists_newest_first_and_skips_a_torn_last_line(tmp_path: Path):
    journal = PaymentJournal(tmp_path / "payments.jsonl")
    journal.record("pi_1", "cart_1", 100, "CNY", "card")
    journal.record("pi_2", "cart_2", 250, "CNY", "face")
    with journal.path.open("a") as file:
        file.write('{"intent_id": "pi_3", "cart')  # power cut mid-write
    assert [entry.intent_id for entry in journal.recent()] == ["pi_2", "pi_1"]
    assert [entry.intent_id for entry in journal.recent(limit=1)] == ["pi_2"]
    assert PaymentJournal(tmp_path / "none.jsonl").recent() == []


def test_scripts_parse_and_unknown_steps_are_refused_with_their_line():
    steps = parse_script("# QA\nwait attract 5\ntap Scan my feet  # go\ntype a # b\n\nscreenshot x\n")
    assert steps == [(2, "wait", "attract 5"), (3, "tap", "Scan my feet"), (4, "type", "a # b"), (6, "screenshot", "x")]
    with pytest.raises(ScriptError, match="line 2"):
        parse_script("wait attract\njump\n")


def test_every_route_names_a_screen_of_that_name():
    from kiosk.app.routes import ROUTES, screen_class

    for name in ROUTES:
        assert screen_class(name).name == name
    with pytest.raises(KeyError, match="known screens"):
        screen_class("nowhere")


def test_no_screen_module_imports_another_screen_module():
    """Screens go to one another by name (``app.go("cart")``); only base classes are imported across modules."""
    import ast

    screen_modules = {"shopper", "checkout", "admin", "calibration", "mirror", "body"}
    allowed = {("calibration", "admin"), ("facepay", "checkout")}  # AdminScreen, PaymentAttempt
    for path in (REPO_ROOT / "kiosk" / "app").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kiosk.app."):
                target = node.module.rsplit(".", 1)[1]
                if target in screen_modules and path.stem != target:
                    assert (path.stem, target) in allowed, f"{path.name} imports kiosk.app.{target}"


def test_every_kiosk_string_has_a_chinese_translation_with_the_same_fields():
    import string

    from omnifit.i18n import Catalog, extract_messages, untranslated

    messages = extract_messages(REPO_ROOT / "kiosk" / "app", ("_", "N_"))
    catalog = Catalog.load("kiosk", "kiosk", "zh_CN")
    assert len(messages) > 150
    assert untranslated(catalog, messages) == []
    fields = string.Formatter()
    for message in messages:
        wanted = {name for _, name, _, _ in fields.parse(message) if name}
        got = {name for _, name, _, _ in fields.parse(catalog.gettext(message)) if name}
        assert got == wanted, f"{message!r} -> {catalog.gettext(message)!r}"


def test_switching_language_translates_words_money_and_store_times():
    from cloud.client import Money
    from kiosk.app import text

    try:
        text.set_language("zh_CN")
        assert text._("Your cart") == "您的购物车"
        assert text.money(Money(129950, "CNY")) == "¥1,299.50"
        assert text.when(1_767_225_600_000, "Asia/Shanghai").endswith("08:00:00")  # 2026-01-01 00:00 UTC
        assert text.translates("您的购物车", "Your cart") and text.translates("Your cart", "Your cart")
        text.set_language("en")
        assert text._("Your cart") == "Your cart" and text.money(Money(500, "USD")) == "$5.00"
        assert text.when(1_767_225_600_000, "America/New_York").startswith("Dec 31, 2025")
    finally:
        text.set_language("zh_CN")


def test_chinese_wraps_between_characters_and_latin_between_words():
    lines = ui.wrap_text("请站上测量台：几秒钟即可测量双脚，并告诉您合适的尺码。", 300)
    assert len(lines) > 1 and all(ui.Fonts.get(ui.BODY_PX).size(line)[0] <= 300 for line in lines)
    assert "".join(lines) == "请站上测量台：几秒钟即可测量双脚，并告诉您合适的尺码。"
    assert ui.wrap_text("two words", 2000) == ["two words"]


def test_keyboard_types_symbols_for_email_addresses_and_passwords():
    keyboard = ui.TextKeyboard((0, 0), ("email",))
    for label in ("a", "#+=", "!", "+", "abc", "b"):
        _tap(keyboard, label)
    assert keyboard.values["email"] == "a!+b"


def test_a_decline_is_told_in_plain_words_without_the_networks_code():
    from cloud.client import ClientError
    from kiosk.app import text
    from kiosk.app.checkout import declined_code
    from kiosk.app.errors import describe_decline, describe_error
    from omnifit.errors import ErrorCode

    refusal = ClientError("gateway sandbox declined confirm of intent pi_123: insufficient_funds",
                          code=ErrorCode.FAILED_PRECONDITION)
    text.set_language("en")
    try:
        assert declined_code(refusal) == "insufficient_funds"
        words = describe_decline("insufficient_funds")
        assert words.startswith("Your bank declined this card") and "insufficient" not in words
        shown = describe_error(ClientError("no cart ct_9 in store sh-jingan", code=ErrorCode.NOT_FOUND))
        assert "ct_9" not in shown and "sh-jingan" not in shown
        assert "ct_9" in describe_error(ClientError("no cart ct_9", code=ErrorCode.NOT_FOUND), staff=True)
    finally:
        text.set_language("zh_CN")
    assert describe_decline("insufficient_funds").startswith("您的银行拒绝了这张卡")


@pytest.mark.parametrize("arch_mm, category", [(0.0, "low arch"), (4.9, "low arch"), (9.0, "medium arch"),
                                               (15.0, "high arch")])
def test_the_arch_is_shown_as_a_category_not_a_bare_millimetre_figure(arch_mm, category):
    from kiosk.app.shopper import arch_category

    assert arch_category(arch_mm) == category


def test_size_advice_reads_in_plain_words_first():
    from kiosk.app import text
    from kiosk.app.shopper import fit_words, sureness
    from tryon.fit.results import FitVerdict, FitZone, ZoneFit

    zones = (ZoneFit(FitZone.TOE_ROOM, FitVerdict.ROOMY, 262.0, 288.0, 26.0, 12.0),
             ZoneFit(FitZone.BALL, FitVerdict.GOOD, 240.0, 242.0, 2.0, 0.0))
    text.set_language("en")
    try:
        assert fit_words("43", zones) == "Size 43 fits you; roomy at the toes"
        assert sureness(0.86) == "How sure we are: very sure (86 %)"
    finally:
        text.set_language("zh_CN")
    assert fit_words("43", zones) == "43 码适合您；脚趾处宽松"
