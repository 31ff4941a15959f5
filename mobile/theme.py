"""The brand's look: colours, the CJK-capable font, spacing; used by the ``.kv`` rules as ``theme``."""
from __future__ import annotations

import logging
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

# Debian's fonts-wqy-microhei (Makefile APT_PACKAGES): one face with Latin and all of GB 18030's Hanzi.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_NAME = "OmnifitSans"

INK = (0.08, 0.13, 0.24, 1)  # the brand's navy: headers, prices
ACCENT = (1.0, 0.42, 0.29, 1)  # coral: primary buttons, the cart badge
ACCENT_DOWN = (0.85, 0.33, 0.22, 1)
PAGE = (0.96, 0.96, 0.97, 1)  # background behind the cards
CARD = (1, 1, 1, 1)
TEXT = (0.12, 0.13, 0.16, 1)
MUTED = (0.45, 0.47, 0.52, 1)
LINE = (0.88, 0.89, 0.91, 1)
GOOD = (0.11, 0.58, 0.36, 1)
WARN = (0.86, 0.52, 0.05, 1)
BAD = (0.8, 0.18, 0.18, 1)
OFFLINE = (0.24, 0.24, 0.27, 1)
SOFT_ACCENT = (1.0, 0.93, 0.9, 1)


def register_fonts() -> str:
    """Make the CJK font Kivy's default (so no label can fall back to one without Hanzi); returns its name.

    Without the font package the app still runs in English, and says in the log that Chinese
    will not show.
    """
    from kivy.core.text import LabelBase

    if not CJK_FONT.is_file():
        _LOGGER.error("%s is missing (apt-get install fonts-wqy-microhei): Chinese text will not show", CJK_FONT)
        return "Roboto"
    LabelBase.register(FONT_NAME, str(CJK_FONT), fn_bold=str(CJK_FONT))
    LabelBase.register("Roboto", str(CJK_FONT), fn_bold=str(CJK_FONT))
    return FONT_NAME
