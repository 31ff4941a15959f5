"""Scripted app sessions for store QA and tests: the kiosk's verbs plus ``expect``.

A script is plain text, one step per line (``#`` starts a comment, except in ``type``)::

    wait catalog 20          # until the named screen shows (timeout in seconds, default 30)
    tap Sign in              # the button (or tab, chip, field by its hint) with this label
    type alice@example.com   # characters into the focused field
    key enter                # enter / tab / backspace / escape / select_all (typing then replaces it)
    idle 30                  # until the app's cloud calls are done
    expect Your cart 5       # until this text shows on the screen (default 10 s)
    expect "Size 42" 5       # quote a text that ends in a number
    screenshot 03-cart       # saves 03-cart.png into the screenshot folder
    sleep 0.5

Steps run inside the app's own loop, between frames. The run stops at the first step
that fails and says which one and why.
"""
from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnifit.errors import ErrorCode, OmnifitError

if TYPE_CHECKING:
    from mobile.app import ShopperApp

_LOGGER = logging.getLogger(__name__)
COMMANDS = ("wait", "tap", "type", "key", "screenshot", "sleep", "idle", "expect")
KEYS = ("enter", "return", "tab", "backspace", "escape", "select_all")
DEFAULT_WAIT_S = 30.0
DEFAULT_EXPECT_S = 10.0
POLL_S = 0.05


class ScriptError(OmnifitError):
    """A script line that cannot be run."""

    code = ErrorCode.INVALID_ARGUMENT


class StepFailed(Exception):
    """A step that ran and did not pass (a screen that never showed, a label not there)."""


@dataclass
class ScriptReport:
    ok: bool = True
    steps: list[dict[str, object]] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    first_frame_at: float | None = None  # time.monotonic() (system-wide) when the first screen was drawn

    def to_json_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "steps": self.steps, "screenshots": self.screenshots,
                "first_frame_at": self.first_frame_at}


def parse_script(text: str) -> list[tuple[int, str, str]]:
    """(line number, command, argument) per step; ScriptError on an unknown command or a bad argument."""
    steps = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip() if raw.lstrip().startswith("type ") else raw.split("#", 1)[0].strip()
        if not line:
            continue
        command, _, argument = line.partition(" ")
        if command not in COMMANDS:
            raise ScriptError(f"script line {number}: unknown step {command!r}; expected one of {list(COMMANDS)}",
                              line=number)
        argument = argument.strip()
        _check_argument(number, command, argument)
        steps.append((number, command, argument))
    return steps


def _check_argument(number: int, command: str, argument: str) -> None:
    def bad(expected: str) -> ScriptError:
        return ScriptError(f"script line {number}: {command} {argument!r}: expected {expected}", line=number)

    if command in ("tap", "type", "expect", "wait") and not argument:
        raise bad("an argument")
    if command == "key" and argument.lower() not in KEYS:
        raise bad(f"one of {list(KEYS)}")
    if command in ("sleep", "idle") and argument:
        try:
            float(argument)
        except ValueError:
            raise bad("seconds") from None
    if command == "wait":
        parts = argument.split()
        if len(parts) > 2 or (len(parts) == 2 and not _is_number(parts[1])):
            raise bad("SCREEN [SECONDS]")
    if command == "expect":
        try:
            split_expect(argument)
        except ValueError as exc:
            raise bad(f"TEXT [SECONDS] ({exc})") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_expect(argument: str) -> tuple[str, float]:
    """``TEXT [S]`` -> (text, seconds); a quoted TEXT may end in a number, an unquoted one's last number is S."""
    if argument.startswith(('"', "'")):
        parts = shlex.split(argument)
        if len(parts) > 2 or (len(parts) == 2 and not _is_number(parts[1])):
            raise ValueError("after the quoted text only the seconds may follow")
        return parts[0], float(parts[1]) if len(parts) == 2 else DEFAULT_EXPECT_S
    words = argument.rsplit(" ", 1)
    if len(words) == 2 and _is_number(words[1]):
        return words[0], float(words[1])
    return argument, DEFAULT_EXPECT_S


# --- what is on screen -------------------------------------------------------------------


def _shown(widget: Any) -> Iterator[Any]:
    """``widget`` and its descendants that are drawn (not faded out or folded to zero height)."""
    if getattr(widget, "opacity", 1) == 0 or widget.height <= 0:
        return
    yield widget
    for child in reversed(widget.children):  # Kivy keeps children last-added first
        yield from _shown(child)


def _layers(app: ShopperApp) -> list[Any]:
    """What is drawn, topmost first: open drop-downs and popups over the app's root."""
    from kivy.core.window import Window

    return [w for w in Window.children if w is not app.root] + [app.root]


def _plain(text: object) -> object:
    """Text as a reader sees it: a no-break space (how Chinese lines wrap, ``mobile.i18n``) is a space."""
    return text.replace("\u00a0", " ") if isinstance(text, str) else text


def _texts(app: ShopperApp) -> Iterator[tuple[str, Any]]:
    for layer in _layers(app):
        for widget in _shown(layer):
            for name in ("text", "hint_text"):
                value = getattr(widget, name, None)
                if isinstance(value, str) and value.strip() and not (name == "hint_text" and widget.text):
                    yield str(_plain(value)), widget


def visible_texts(app: ShopperApp) -> list[str]:
    return [text for text, _widget in _texts(app)]


def reveal(widget: Any) -> None:
    """Scroll every scroll view holding ``widget`` so that it is in sight, as a finger would before tapping."""
    from kivy.metrics import dp
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        content = parent.children[0] if isinstance(parent, ScrollView) and parent.children else None
        if content is not None and content.height > parent.height:  # a shorter page has nothing to scroll
            parent.scroll_to(widget, padding=dp(24), animate=False)
        parent = parent.parent


def find_text(app: ShopperApp, text: str) -> Any:
    """The first widget showing ``text`` (a part of its text), or None."""
    return next((widget for shown, widget in _texts(app) if text in shown), None)


def find_target(app: ShopperApp, label: str) -> Any:
    """The button, tab, chip or field (by hint) labelled ``label``, topmost layer first, then top to bottom."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.textinput import TextInput

    for layer in _layers(app):
        found = []
        for widget in _shown(layer):
            if isinstance(widget, TextInput) and label == _plain(widget.hint_text):
                found.append(widget)
            elif isinstance(widget, ButtonBehavior) and label in (_plain(getattr(widget, "text", None)),
                                                                  _plain(getattr(widget, "label", None))):
                found.append(widget)
            elif isinstance(widget, ButtonBehavior) and any(_plain(getattr(c, "text", None)) == label for c in widget.children):
                found.append(widget)
        if found:
            return max(found, key=lambda w: (w.to_window(w.x, w.top)[1], -w.to_window(w.x, w.y)[0]))
    raise StepFailed(f"nothing labelled {label!r} on screen {app.current_screen!r}; "
                     f"texts shown: {visible_texts(app)[:30]}")


# --- running -----------------------------------------------------------------------------


async def next_frames(count: int = 2) -> None:
    """Let Kivy run ``count`` frames (layout and drawing catch up)."""
    from kivy.clock import Clock

    for _ in range(count):
        ticked = asyncio.Event()
        Clock.schedule_once(lambda _dt, event=ticked: event.set(), 0)
        await ticked.wait()


async def save_screenshot(app: ShopperApp, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    await next_frames(3)
    app.root.export_to_png(str(path))
    return path


class ScreenRecorder:
    """Saves ``NN-<screen>.png`` of every screen the app shows (``--screenshot`` without a script)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.saved: list[str] = []
        self._shown = 0

    def start(self, app: ShopperApp) -> None:
        app.bind(current_screen=lambda _app, name: self._shot(app, name))
        self._shot(app, app.current_screen)

    def _shot(self, app: ShopperApp, name: str) -> None:
        self._shown += 1
        asyncio.ensure_future(self._save(app, self.folder / f"{self._shown:02d}-{name}.png"))

    async def _save(self, app: ShopperApp, path: Path) -> None:
        await asyncio.sleep(0.3)  # let the screen's first answers arrive
        self.saved.append(str(await save_screenshot(app, path)))


class ScriptRunner:
    """Plays a script inside the app's loop once it has started, then stops the app."""

    def __init__(self, app: ShopperApp, text: str, screenshot_dir: Path | None) -> None:
        self.app = app
        self.steps = parse_script(text)
        self.screenshot_dir = screenshot_dir
        self.report = ScriptReport()
        self.recorder = ScreenRecorder(screenshot_dir / "screens") if screenshot_dir is not None else None

    def start(self, app: ShopperApp) -> None:
        if self.recorder is not None:
            self.recorder.start(app)
        asyncio.ensure_future(self.run())

    async def run(self) -> None:
        try:
            for number, command, argument in self.steps:
                started = time.perf_counter()
                step: dict[str, object] = {"line": number, "step": f"{command} {argument}".strip()}
                try:
                    await self._step(command, argument)
                except (StepFailed, TimeoutError, ValueError, LookupError) as exc:
                    step["error"] = str(exc) or type(exc).__name__
                    self.report.ok = False
                step["ms"] = round((time.perf_counter() - started) * 1000, 1)
                step["screen"] = self.app.current_screen
                self.report.steps.append(step)
                if not self.report.ok:
                    break
        except Exception as exc:  # a crash in the app is a failed run with its reason, never a hang
            _LOGGER.exception("script stopped")
            self.report.ok = False
            self.report.steps.append({"line": 0, "step": "(app)", "error": f"{type(exc).__name__}: {exc}",
                                      "screen": self.app.current_screen})
        finally:
            if self.recorder is not None:
                self.report.screenshots.extend(self.recorder.saved)
            self.report.first_frame_at = self.app.first_frame_at
            self.app.stop()

    async def _until(self, done: Any, timeout_s: float, failure: Any) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise StepFailed(failure())
            await asyncio.sleep(POLL_S)

    async def _step(self, command: str, argument: str) -> None:
        app = self.app
        if command == "wait":
            name, _, timeout = argument.partition(" ")
            await self._until(lambda: app.current_screen == name and app.sm.current == name,
                              float(timeout or DEFAULT_WAIT_S),
                              lambda: f"screen {name!r} did not show; showing {app.current_screen!r}"
                                      + (f" ({app.notice})" if app.notice else ""))
            await next_frames()
        elif command == "idle":
            await self._until(lambda: app.busy == 0, float(argument or DEFAULT_WAIT_S),
                              lambda: f"{app.busy} cloud calls still running")
            await next_frames()
        elif command == "expect":
            text, timeout_s = split_expect(argument)
            await self._until(lambda: find_text(app, text) is not None, timeout_s,
                              lambda: f"{text!r} not on screen {app.current_screen!r} within {timeout_s:g} s; "
                                      f"texts shown: {visible_texts(app)[:40]}")
            reveal(find_text(app, text))
        elif command == "tap":
            self._tap(argument)
            await next_frames()
        elif command == "type":
            field_ = self._focused()
            if field_.selection_text:
                field_.delete_selection()
            field_.insert_text(argument)
            await next_frames(1)
        elif command == "key":
            self._key(argument.lower())
            await next_frames()
        elif command == "sleep":
            await asyncio.sleep(float(argument or 0))
        elif command == "screenshot":
            if self.screenshot_dir is None:
                raise StepFailed("a screenshot step needs --screenshot DIR")
            path = await save_screenshot(app, self.screenshot_dir / f"{argument or app.current_screen}.png")
            self.report.screenshots.append(str(path))

    def _tap(self, label: str) -> None:
        from kivy.uix.textinput import TextInput

        target = find_target(self.app, label)
        if getattr(target, "disabled", False):
            raise StepFailed(f"{label!r} is there but disabled")
        reveal(target)
        if isinstance(target, TextInput):
            target.focus = True
        else:
            target.trigger_action(duration=0)

    def _focused(self) -> Any:
        from kivy.uix.textinput import TextInput

        for layer in _layers(self.app):
            for widget in _shown(layer):
                if isinstance(widget, TextInput) and widget.focus:
                    return widget
        raise StepFailed(f"no field has the focus on screen {self.app.current_screen!r}; tap one by its hint first")

    def _key(self, name: str) -> None:
        if name == "escape":
            self.app.back()
            return
        field_ = self._focused()
        if name in ("enter", "return"):
            field_.dispatch("on_text_validate")
        elif name == "tab":
            following = field_.get_focus_next()
            if following is not None:
                following.focus = True
        elif name == "backspace":
            field_.do_backspace()
        elif name == "select_all":
            field_.select_all()
