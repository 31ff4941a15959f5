"""The base of every kiosk screen: taps to actions, background jobs with callbacks, a common frame."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pygame

from kiosk.app import text, ui
from kiosk.app.text import N_, _

if TYPE_CHECKING:
    from cloud.client import SyncClient
    from kiosk.app.app import KioskApp
    from kiosk.app.worker import Outcome

Done = Callable[[Any, BaseException | None], None]
TAP_EVENTS = (pygame.MOUSEBUTTONUP, pygame.FINGERUP)


class Screen:
    """One screen of the state machine.

    Subclasses give ``title``, build their buttons in :meth:`layout` (called on every
    frame and tap, so buttons always match the state), act in :meth:`on_action`, and
    draw their body in :meth:`draw_body`. Jobs started with :meth:`call` or
    :meth:`run_blocking` report to their callback only while this screen is showing.
    """

    name = "screen"
    title = ""  # English, marked with text.N_; translated when drawn
    staff_only = False  # admin screens: leaving admin mode (sign-out, idle) drops them
    language_button = True  # shopper screens: the corner button switches zh_CN <-> en

    def __init__(self, app: KioskApp) -> None:
        self.app = app
        self.busy: dict[int, str] = {}  # job id -> what the shopper is told while it runs
        self._callbacks: dict[int, tuple[Done, Callable[[str, float], None] | None]] = {}
        self._watching: dict[int, Callable[[Any], None]] = {}
        self.entered_at = time.monotonic()

    # --- life cycle --------------------------------------------------------------------------
    def enter(self) -> None:
        """Called when the screen is shown (start loading here)."""

    def layout(self) -> list[ui.Button]:
        return []

    def corner_buttons(self) -> list[ui.Button]:
        """Buttons every shopper screen has: the language switch, top right."""
        if self.staff_only or not self.language_button:
            return []
        width, _height = self.app.surface.get_size()
        other = text.other_language()
        return [ui.Button(text.language_name(other), pygame.Rect(width - 190, 12, 170, 72), f"lang:{other}",
                          colour=ui.PANEL, text_size=ui.SMALL_PX)]

    def buttons(self) -> list[ui.Button]:
        """Every button on screen now: the screen's own and the corner ones."""
        return self.layout() + self.corner_buttons()

    def widgets(self) -> list:
        """Keypads and keyboards showing now; their keys take taps through :meth:`on_tap`."""
        return []

    def on_action(self, action: str) -> None:
        """A button (or its keyboard shortcut) was pressed."""

    def on_tap(self, pos: tuple[int, int]) -> None:
        """A tap that hit no button (keypads and keyboards take theirs here)."""

    def on_key(self, event: pygame.event.Event) -> None:
        """A key press no button took."""

    def update(self, now: float) -> None:
        """Called once per frame (countdowns, timeouts)."""

    def draw_body(self, surface: pygame.Surface) -> None:
        """Everything between the title bar and the bottom edge."""

    # --- events ------------------------------------------------------------------------------
    def handle(self, event: pygame.event.Event) -> None:
        if event.type in TAP_EVENTS:
            pos = self._event_pos(event)
            for button in self.buttons():
                if button.hit(pos):
                    if button.action.startswith("lang:"):
                        text.set_language(button.action.split(":", 1)[1])
                    else:
                        self.on_action(button.action)
                    return
            self.on_tap(pos)
        elif event.type == pygame.KEYDOWN:
            self.on_key(event)

    def _event_pos(self, event: pygame.event.Event) -> tuple[int, int]:
        if event.type == pygame.FINGERUP:  # fingers come normalised to 0..1
            width, height = self.app.surface.get_size()
            return int(event.x * width), int(event.y * height)
        return event.pos

    # --- background work ---------------------------------------------------------------------
    def call(self, make: Callable[[SyncClient], Awaitable[Any]], done: Done, *, waiting: str = N_("One moment"),
             staff: bool = False) -> int:
        """Run a cloud call off the UI thread; ``done(value, error)`` runs on the UI thread after."""
        return self.track(self.app.worker.call(make, staff=staff), done, waiting)

    def track(self, job: int, done: Done, waiting: str) -> int:
        """Route a job started elsewhere (e.g. the worker's staff sign-in) to ``done`` like :meth:`call`'s."""
        self._callbacks[job] = (done, None)
        self.busy[job] = waiting
        return job

    def run_blocking(self, work: Callable[..., Any], done: Done, *, waiting: str = N_("One moment"),
                     progress: Callable[[str, float], None] | None = None) -> int:
        """Run heavy work in the kiosk's work process (``work`` picklable: a function or a partial of one).

        With ``progress``, ``work`` is called as ``work(report)`` and each report reaches ``progress``.
        """
        job = self.app.worker.run_blocking(work, reports_progress=progress is not None)
        self._callbacks[job] = (done, progress)
        self.busy[job] = waiting
        return job

    def owns(self, job: int) -> bool:
        return job in self._callbacks

    def watch(self, make: Callable[[SyncClient], Any], on_event: Callable[[Any], None], ended: Done) -> int:
        """Follow a stream while this screen shows: ``on_event(item)`` per item; ``ended(None, error)`` if it breaks."""
        job = self.app.worker.watch(make)
        self._callbacks[job] = (ended, None)
        self._watching[job] = on_event
        return job

    def leave(self) -> None:
        """The screen is replaced: its watches stop (calls in flight finish, their answers are dropped)."""
        for job in self._watching:
            self.app.worker.cancel(job)
        self._watching.clear()

    def deliver(self, outcome: Outcome) -> None:
        done, on_progress = self._callbacks[outcome.job]
        if outcome.progress is not None:
            if on_progress is not None:
                on_progress(*outcome.progress)
            return
        if outcome.event is not None:
            self._watching[outcome.job](outcome.event)
            return
        del self._callbacks[outcome.job]
        self.busy.pop(outcome.job, None)
        self._watching.pop(outcome.job, None)
        done(outcome.value, outcome.error)

    # --- drawing -----------------------------------------------------------------------------
    def draw_button(self, surface: pygame.Surface, button: ui.Button) -> None:
        button.draw(surface)

    def draw(self, surface: pygame.Surface) -> None:
        surface.fill(ui.BACKGROUND)
        width, _height = surface.get_size()
        if self.title:
            ui.draw_text(surface, ui.fit_text(_(self.title), width - 720, ui.TITLE_PX), (40, 28), size=ui.TITLE_PX)
        self.app.draw_status(surface)
        self.draw_body(surface)
        for button in self.buttons():
            self.draw_button(surface, button)
        if self.busy:
            waiting = _(next(iter(self.busy.values()))).rstrip(".\u2026")
            dots = "." * (1 + int(time.monotonic() * 2) % 3)
            rect = pygame.Rect(0, 0, min(width - 80, 760), 96)
            rect.midbottom = (width // 2, surface.get_height() - 140)
            pygame.draw.rect(surface, ui.PANEL, rect, border_radius=16)
            ui.draw_text(surface, waiting + dots, rect.center, anchor="center")
