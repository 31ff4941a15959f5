"""Drawing and touch widgets for the kiosk: theme, text, buttons, a PIN/amount keypad and a text keyboard.

Everything is sized for a touch screen used standing up: targets at least 88 px
high (about 15 mm on a 21" 1280x800 panel), body text 34 px, prices always with
their currency. Widgets draw onto any ``pygame.Surface`` and answer taps with the
action they stand for, so screens stay plain state machines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pygame

BACKGROUND = (16, 24, 32)
PANEL = (32, 44, 56)
TEXT = (240, 244, 248)
MUTED = (160, 172, 184)
ACCENT = (0, 168, 150)
ACCENT_DOWN = (0, 120, 108)
DANGER = (208, 72, 64)
WARNING = (232, 176, 48)
DISABLED = (72, 84, 96)
GOOD = (72, 184, 96)

TITLE_PX = 60
BODY_PX = 34
SMALL_PX = 26
BUTTON_HEIGHT = 96


# One face for both languages: WenQuanYi Micro Hei has Latin and CJK glyphs (Debian fonts-wqy-microhei,
# installed by ``make``); pygame's bundled face has no Chinese and draws boxes.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# pygame draws its bundled face at 0.6875 of the size asked; this scale keeps the kiosk's sizes as they were.
_CJK_SCALE = 0.72


class Fonts:
    """The kiosk's font at its few sizes, made once (the bundled face where the CJK font is missing)."""

    _cache: dict[int, pygame.font.Font] = {}

    @classmethod
    def get(cls, size_px: int) -> pygame.font.Font:
        font = cls._cache.get(size_px)
        if font is None:
            if CJK_FONT.is_file():
                font = pygame.font.Font(str(CJK_FONT), max(8, int(size_px * _CJK_SCALE)))
            else:
                font = pygame.font.Font(None, size_px)
            cls._cache[size_px] = font
        return font


DRAWN: list[str] = []
"""Every line of text drawn since the frame began (the app clears it): what scripts' ``expect`` reads."""


def draw_text(surface: pygame.Surface, text: str, pos: tuple[int, int], *, size: int = BODY_PX,
              colour: tuple[int, int, int] = TEXT, anchor: str = "topleft") -> pygame.Rect:
    """One line of text; ``anchor`` is a ``pygame.Rect`` attribute name (``center``, ``midtop`` ...)."""
    DRAWN.append(text)
    rendered = Fonts.get(size).render(text, True, colour)
    rect = rendered.get_rect(**{anchor: pos})
    surface.blit(rendered, rect)
    return rect


def fit_text(text: str, width_px: int, size: int = BODY_PX) -> str:
    """``text`` cut short with an ellipsis so that one line of it fits in ``width_px``."""
    font = Fonts.get(size)
    if font.size(text)[0] <= width_px:
        return text
    while text and font.size(text + "\u2026")[0] > width_px:
        text = text[:-1]
    return text + "\u2026"


def wrap_text(text: str, width_px: int, size: int = BODY_PX) -> list[str]:
    """``text`` broken into lines no wider than ``width_px`` (words longer than a line stay whole).

    Latin text breaks at spaces; Chinese, which has none, between any two characters.
    """
    font = Fonts.get(size)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word, spaced in _words(paragraph):
            candidate = f"{line}{' ' if spaced and line else ''}{word}"
            if line and font.size(candidate)[0] > width_px:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef" or "\u3000" <= char <= "\u303f"


def _words(paragraph: str) -> list[tuple[str, bool]]:
    """(word, whether a space came before it): Latin words between spaces, each Chinese character on its own."""
    words: list[tuple[str, bool]] = []
    for chunk in paragraph.split(" "):
        spaced, word = True, ""
        for char in chunk:
            if _is_cjk(char):
                if word:
                    words.append((word, spaced))
                    spaced, word = False, ""
                words.append((char, spaced))
                spaced = False
            else:
                word += char
        if word:
            words.append((word, spaced))
    return words


def draw_paragraph(surface: pygame.Surface, text: str, rect: pygame.Rect, *, size: int = BODY_PX,
                   colour: tuple[int, int, int] = TEXT, centred: bool = False) -> int:
    """Wrapped text inside ``rect`` from its top; returns the y below the last line drawn."""
    y = rect.top
    step = int(Fonts.get(size).get_linesize() * 1.1)
    for line in wrap_text(text, rect.width, size):
        if y + step > rect.bottom:
            break
        if centred:
            draw_text(surface, line, (rect.centerx, y), size=size, colour=colour, anchor="midtop")
        else:
            draw_text(surface, line, (rect.left, y), size=size, colour=colour)
        y += step
    return y


@dataclass
class Button:
    """A tappable rectangle that stands for ``action``; disabled buttons draw grey and ignore taps."""

    label: str
    rect: pygame.Rect
    action: str
    enabled: bool = True
    colour: tuple[int, int, int] = ACCENT
    text_size: int = BODY_PX

    def hit(self, pos: tuple[int, int]) -> bool:
        return self.enabled and self.rect.collidepoint(pos)

    def draw(self, surface: pygame.Surface, pressed: bool = False) -> None:
        colour = DISABLED if not self.enabled else (ACCENT_DOWN if pressed else self.colour)
        pygame.draw.rect(surface, colour, self.rect, border_radius=14)
        draw_text(surface, self.label, self.rect.center, size=self.text_size,
                  colour=TEXT if self.enabled else MUTED, anchor="center")


def button_row(labels_actions: list[tuple[str, str]], top: int, width: int, *, margin: int = 40,
               gap: int = 24, height: int = BUTTON_HEIGHT) -> list[Button]:
    """Buttons side by side across ``width`` (the screen), equal widths."""
    count = len(labels_actions)
    each = (width - 2 * margin - gap * (count - 1)) // max(count, 1)
    return [Button(label, pygame.Rect(margin + i * (each + gap), top, each, height), action)
            for i, (label, action) in enumerate(labels_actions)]


class _KeyWidget:
    """What keypads and keyboards share: taps on their keys and the Enter / Backspace keys."""

    buttons: list[Button]

    def press(self, action: str) -> str | None:
        raise NotImplementedError

    def typed(self, event: pygame.event.Event) -> str | None:
        """A key other than Enter and Backspace."""
        raise NotImplementedError

    def tap(self, pos: tuple[int, int]) -> str | None:
        for button in self.buttons:
            if button.hit(pos):
                return self.press(button.action)
        return None

    def key(self, event: pygame.event.Event) -> str | None:
        if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            return "ok"
        if event.key == pygame.K_BACKSPACE:
            return self.press("del")
        return self.typed(event)

    def draw(self, surface: pygame.Surface) -> None:
        for button in self.buttons:
            button.draw(surface)


@dataclass
class Keypad(_KeyWidget):
    """A 3x4 digit pad for PINs, phone digits and amounts; ``value`` holds what was typed.

    ``decimal`` adds a point key (amounts); ``masked`` shows dots (PINs).
    Taps and the keyboard's digit keys both type; ``OK`` is reported as the action ``"ok"``.
    """

    origin: tuple[int, int]
    max_length: int = 8
    masked: bool = False
    decimal: bool = False
    value: str = ""
    key_size: int = 100
    gap: int = 14
    buttons: list[Button] = field(default_factory=list)

    def __post_init__(self) -> None:
        left, top = self.origin
        labels = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "." if self.decimal else "Del", "0", "OK"]
        step = self.key_size + self.gap
        self.buttons = [
            Button(label, pygame.Rect(left + (i % 3) * step, top + (i // 3) * step, self.key_size, self.key_size),
                   "ok" if label == "OK" else ("del" if label == "Del" else label), colour=PANEL if label != "OK" else ACCENT,
                   text_size=TITLE_PX if label not in ("Del", "OK") else BODY_PX)
            for i, label in enumerate(labels)
        ]
        if self.decimal:
            self.buttons.append(Button("Del", pygame.Rect(left + 3 * step, top, self.key_size, self.key_size), "del", colour=PANEL))

    @property
    def width(self) -> int:
        return (4 if self.decimal else 3) * (self.key_size + self.gap) - self.gap

    def shown(self) -> str:
        return "\u2022" * len(self.value) if self.masked else self.value

    def press(self, action: str) -> str | None:
        """Apply a key; returns ``"ok"`` when OK was pressed, else None."""
        if action == "ok":
            return "ok"
        if action == "del":
            self.value = self.value[:-1]
        elif len(self.value) < self.max_length and (action.isdigit() or (action == "." and self._point_allowed())):
            self.value += action
        return None

    def _point_allowed(self) -> bool:
        return self.decimal and "." not in self.value

    def typed(self, event: pygame.event.Event) -> str | None:
        if event.unicode and (event.unicode.isdigit() or event.unicode == "."):
            return self.press(event.unicode)
        return None


_KEY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl@", "zxcvbnm-_.")
# Passwords and email addresses need these; the "#+=" key swaps the letter rows for them.
_SYMBOL_ROWS = ("1234567890", "!@#$%^&*()", "-_=+[]{};:", "'\"/\\,.?<>~")


@dataclass
class TextKeyboard(_KeyWidget):
    """An on-screen keyboard for staff ids, passwords and shopper ids (a physical keyboard works too).

    It types into ``fields[focus]``; ``Next`` moves to the next field, ``Done`` is the action ``"ok"``.
    """

    origin: tuple[int, int]
    field_names: tuple[str, ...]
    masked: frozenset[str] = frozenset()
    key_size: int = 76
    gap: int = 8
    shift: bool = False
    symbols: bool = False
    focus: int = 0
    values: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = {name: self.values.get(name, "") for name in self.field_names}
        self._layout()

    def _layout(self) -> None:
        left, top = self.origin
        step = self.key_size + self.gap
        self.buttons = []
        for row, keys in enumerate(_SYMBOL_ROWS if self.symbols else _KEY_ROWS):
            for col, char in enumerate(keys):
                label = char.upper() if self.shift and not self.symbols else char
                rect = pygame.Rect(left + col * step, top + row * step, self.key_size, self.key_size)
                self.buttons.append(Button(label, rect, f"char:{label}", colour=PANEL))
        bottom = top + len(_KEY_ROWS) * step
        specials = (("Shift", "shift", 1.5), ("abc" if self.symbols else "#+=", "symbols", 1.5), ("Space", "char: ", 2),
                    ("Del", "del", 1.5), ("Next", "next", 1.5), ("Done", "ok", 2))
        x = left
        for label, action, span in specials:
            width = int(span * step - self.gap)
            self.buttons.append(Button(label, pygame.Rect(x, bottom, width, self.key_size), action,
                                       colour=ACCENT if action == "ok" else PANEL))
            x += width + self.gap

    @property
    def focused(self) -> str:
        return self.field_names[self.focus]

    def shown(self, name: str) -> str:
        value = self.values[name]
        return "\u2022" * len(value) if name in self.masked else value

    def press(self, action: str) -> str | None:
        if action == "ok":
            return "ok"
        if action == "next":
            self.focus = (self.focus + 1) % len(self.field_names)
        elif action == "shift":
            self.shift = not self.shift
            self._layout()
        elif action == "symbols":
            self.symbols = not self.symbols
            self._layout()
        elif action == "del":
            self.values[self.focused] = self.values[self.focused][:-1]
        elif action.startswith("char:") and len(self.values[self.focused]) < 128:
            self.values[self.focused] += action[5:]
        return None

    def typed(self, event: pygame.event.Event) -> str | None:
        if event.key == pygame.K_TAB:
            return self.press("next")
        if event.unicode and event.unicode.isprintable():
            return self.press(f"char:{event.unicode}")
        return None


def draw_field(surface: pygame.Surface, label: str, value: str, rect: pygame.Rect, *, focused: bool) -> None:
    """A labelled input box; the focused one has an accent border and a caret."""
    draw_text(surface, label, (rect.left, rect.top - 8), size=SMALL_PX, colour=MUTED, anchor="bottomleft")
    pygame.draw.rect(surface, PANEL, rect, border_radius=10)
    pygame.draw.rect(surface, ACCENT if focused else DISABLED, rect, width=3, border_radius=10)
    shown = value + ("|" if focused else "")
    draw_text(surface, shown, (rect.left + 16, rect.centery), size=BODY_PX, anchor="midleft")


def image_surface(png: bytes) -> pygame.Surface:
    """A PNG (e.g. a QR code) as a pygame surface."""
    import io

    return pygame.image.load(io.BytesIO(png), "image.png")
