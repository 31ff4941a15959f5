"""Every message of the app has its Chinese translation, and the CJK font is there to draw it."""
from __future__ import annotations

from pathlib import Path

from mobile import theme
from omnifit.i18n import Catalog, extract_messages, untranslated

MOBILE = Path(__file__).resolve().parents[2] / "mobile"


def test_every_message_has_a_chinese_translation() -> None:
    messages = extract_messages(MOBILE)
    assert len(messages) > 150  # the extraction found the app's strings, .kv files included
    assert untranslated(Catalog.load("mobile", "mobile", "zh_CN"), messages) == []


def test_translations_keep_their_fields() -> None:
    catalog = Catalog.load("mobile", "mobile", "zh_CN")
    for message, text in catalog.messages.items():
        fields = {part.split("}")[0] for part in message.split("{")[1:]}
        assert fields == {part.split("}")[0] for part in text.split("{")[1:]}, message


def test_the_cjk_font_draws_chinese() -> None:
    from PIL import ImageFont

    assert theme.CJK_FONT.is_file(), "apt-get install fonts-wqy-microhei (Makefile APT_PACKAGES)"
    font = ImageFont.truetype(str(theme.CJK_FONT), 40)
    box = font.getmask("\uffff").getbbox()  # the font's "no glyph" box
    for text in ("购物车", "我的尺码", "¥"):
        assert all(font.getmask(ch).getbbox() != box for ch in text), text
