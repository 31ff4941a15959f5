"""``KioskApp``: the kiosk's window, its screen state machine, the shopper's session and admin mode.

One loop on the main thread reads touch, mouse and keyboard events, hands them to
the current screen, drains the outcomes of background jobs (cloud calls, scans)
into the screens that asked, and draws. Nothing in the loop waits on the network.
Without input for ``shopper_idle_s`` the shopper's session is dropped and the
attract screen comes back; admin mode signs the staff member out after ``staff_idle_s``.

The same object drives headless runs (``SDL_VIDEODRIVER=dummy``): :meth:`tap`,
:meth:`type_text` and :meth:`press_key` inject real pygame events, :meth:`wait_for`
runs the loop until a screen shows, :meth:`screenshot` saves what is on screen.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygame

from kiosk.app import pictures, text, ui
from kiosk.app.config import KioskConfig
from kiosk.app.errors import describe_error, is_offline
from kiosk.app.routes import screen_class
from kiosk.app.text import _
from kiosk.app.worker import Worker

if TYPE_CHECKING:
    from cloud.client import Cart, PairingCode, Product, Session
    from kiosk.app.screen import Screen
    from tryon.fit import Feet

_LOGGER = logging.getLogger(__name__)
FRAME_S = 1 / 30
NOTICE_S = 6.0


@dataclass
class ShopperSession:
    """What the kiosk knows about the shopper in front of it; dropped when they leave (idle)."""

    feet: Feet | None = None
    scan_summary: dict[str, Any] = field(default_factory=dict)
    body: Any = None  # scanning.types.BodyMeasurements of the body scan, what garments are sized on
    body_summary: dict[str, float] = field(default_factory=dict)
    scans: int = 0
    cart: Cart | None = None

    queued_lines: int = 0  # lines kept in the outbox while the cloud was unreachable
    product: Product | None = None
    pairing: PairingCode | None = None


@dataclass
class StaffSession:
    staff_id: str
    session: Session


@dataclass
class Notice:
    """A banner over the screen it was raised on; it does not follow the shopper to the next screen."""

    text: str
    level: str  # "info", "warning" or "error"
    until: float
    frame: int  # raised in this frame: a screen that says something and moves on takes it along


class KioskApp:
    """The kiosk. ``run()`` for a store; ``step()`` and the injection helpers for tests and scripts."""

    def __init__(self, config: KioskConfig, *, screenshot_dir: Path | None = None) -> None:
        self.config = config
        text.set_language(config.lang)
        pygame.display.init()  # no audio: a kiosk makes no sound, and headless machines have no sound card
        pygame.font.init()
        pygame.display.set_caption("Omnifit kiosk")
        flags = pygame.FULLSCREEN if config.fullscreen else 0
        self.surface = pygame.display.set_mode(config.size, flags)
        config.data_dir.mkdir(parents=True, exist_ok=True)
        tls = config.tls_root_cert.read_bytes() if config.tls_root_cert else None
        self.worker = Worker(list(config.targets), device_token=config.device_token,
                             store_path=config.outbox_path, tls_root_cert=tls,
                             device_token_file=config.device_token_file).start(warm_up=config.warm_up)
        pictures.configure(self.worker, config.data_dir / "pictures")
        self.store_id = config.store_id
        self.store_name = ""
        self.store_timezone = "Asia/Shanghai"  # until the cloud says the store's own
        self.last_depth_fill: dict[str, float] | None = None  # the last scan's cameras: share of pixels with depth
        self.session = ShopperSession()
        self.staff: StaffSession | None = None
        self.online: bool | None = None  # unknown until the first cloud call answers
        self.notice: Notice | None = None
        self.last_input = time.monotonic()
        self.running = True
        self.screenshot_dir = screenshot_dir
        self._shots = 0
        self._frame = 0
        self._shopper_language = config.lang
        self._background: dict[int, str] = {}  # app-level jobs: what failing would mean, for the notice
        self.screen: Screen = screen_class("attract")(self)
        self._show(self.screen)

    # --- navigation --------------------------------------------------------------------------
    def go(self, screen: Screen | str, *args: Any, **kwargs: Any) -> None:
        """Show ``screen``: a screen's name (``kiosk.app.routes``) built with ``args``, or a screen already built.

        Jobs of the screen it replaces report to nobody.
        """
        if isinstance(screen, str):
            screen = screen_class(screen)(self, *args, **kwargs)
        _LOGGER.debug("screen %s -> %s", self.screen.name, screen.name)
        if self.notice is not None and self.notice.frame != self._frame:
            self.notice = None  # raised on the screen being left, for that screen only
        self.screen.leave()
        self.screen = screen
        self._show(screen)

    def _show(self, screen: Screen) -> None:
        screen.enter()
        if self.screenshot_dir is not None:
            self.step([])
            self.screenshot(self.screenshot_dir / f"{self._shots:03d}-{screen.name}.png")

    def reset_session(self) -> None:
        """The shopper left: forget their scan, cart and pairing code; back to the attract screen."""
        self.session = ShopperSession()
        self.go("attract")

    def sign_in_staff(self, staff_id: str, session: Session, *, adopt_token: bool = False) -> None:
        """Enter admin mode as ``staff_id``; ``adopt_token`` when the session did not come from the sign-in screen."""
        if adopt_token:
            self.worker.adopt_staff_token(session.token)
        self.staff = StaffSession(staff_id, session)
        self._shopper_language = text.language()
        text.set_language("en")  # staff screens are written in one language; the shopper's comes back after

    def sign_out_staff(self, reason: str = "") -> None:
        """Leave admin mode: the staff token is dropped from memory and the shopper screens return."""
        self.staff = None
        self.worker.sign_out_staff()
        text.set_language(self._shopper_language)
        self.notify(reason or _("Signed out."))
        self.go("attract")

    def background(self, make, doing: str) -> int:
        """A cloud call that outlives the screen that started it; a failure still reaches the screen as a notice."""
        job = self.worker.call(make)
        self._background[job] = doing
        return job

    def notify(self, text: str, level: str = "info") -> None:
        _LOGGER.info("notice (%s) on %s: %s", level, self.screen.name, text)
        self.notice = Notice(text, level, time.monotonic() + NOTICE_S, self._frame)

    def fail(self, error: BaseException, doing: str) -> None:
        """Tell the person at the kiosk what went wrong while ``doing`` something (translated), in words."""
        self.notify(_("Could not {doing}: {why}", doing=doing, why=describe_error(error, staff=self.staff is not None)),
                    "error")

    # --- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        clock = pygame.time.Clock()
        try:
            while self.running:
                self.step(pygame.event.get())
                pygame.display.flip()
                clock.tick(30)
        finally:
            self.close()

    def step(self, events: list[pygame.event.Event] | None = None) -> None:
        """One frame: events to the screen, finished jobs to their screens, timeouts, drawing."""
        self._frame += 1
        for event in pygame.event.get() if events is None else events:
            self._guarded("handle an event", lambda event=event: self._dispatch(event))
        self._drain_outcomes()
        now = time.monotonic()
        self._check_idle(now)
        if self.notice is not None and now > self.notice.until:
            self.notice = None
        self._guarded("update", lambda: self.screen.update(now))
        ui.DRAWN.clear()
        self._guarded("draw", lambda: self.screen.draw(self.surface))
        self._draw_notice(self.surface)

    def _guarded(self, what: str, action: Callable[[], None]) -> None:
        """Run one screen step; a bug in a screen sends the kiosk back to the start instead of crashing it.

        The attract screen failing is not recoverable here: it is raised, so the supervisor restarts the app.
        """
        try:
            action()
        except Exception as exc:  # the shopper in front of the kiosk sees a fresh start, the log sees the bug
            if self.screen.name == "attract":
                raise
            _LOGGER.exception("screen %s failed to %s", self.screen.name, what)
            if self.staff is not None:
                text.set_language(self._shopper_language)
            self.staff = None
            self.worker.sign_out_staff()
            self.reset_session()
            self.fail(exc, _("finish that step; please start again"))

    def _dispatch(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
            return
        if event.type in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP, pygame.FINGERDOWN, pygame.FINGERUP,
                          pygame.KEYDOWN):
            self.last_input = time.monotonic()
        if event.type == pygame.KEYDOWN and event.key == pygame.K_F12 and not self.staff:
            self.go("staff_sign_in")
            return
        if event.type == pygame.MOUSEBUTTONUP and event.button != 1:
            return
        self.screen.handle(event)

    def _drain_outcomes(self) -> None:
        while not self.worker.outcomes.empty():
            outcome = self.worker.outcomes.get_nowait()
            if outcome.cloud:
                self._note_cloud(outcome.error)
            doing = self._background.pop(outcome.job, None) if outcome.progress is None else None
            if doing is not None and outcome.error is not None:
                self.fail(outcome.error, doing)
            if not self.screen.owns(outcome.job):
                continue  # the screen that asked is gone; its answer is no longer wanted
            try:
                self.screen.deliver(outcome)
            except Exception as exc:  # a screen's bug must not take the kiosk down in front of a shopper
                _LOGGER.exception("screen %s failed handling job %d", self.screen.name, outcome.job)
                self.fail(exc, _("finish that step"))

    def _note_cloud(self, error: BaseException | None) -> None:
        online = not is_offline(error)
        if online != self.online:
            _LOGGER.info("cloud is %s", "reachable" if online else "unreachable")
        self.online = online

    def _check_idle(self, now: float) -> None:
        idle = now - self.last_input
        if self.screen.staff_only:
            if idle > self.config.staff_idle_s:
                self.last_input = now
                self.sign_out_staff(_("Admin mode closed after inactivity."))
        elif self.screen.name != "attract" and idle > self.config.shopper_idle_s and not self.screen.busy:
            self.last_input = now
            self.reset_session()

    # --- drawing shared by every screen ------------------------------------------------------
    def draw_status(self, surface: pygame.Surface) -> None:
        """Top-right: store, cloud reachability and mutations waiting to sync; the staff member in admin mode."""
        width, _height = surface.get_size()
        parts = [self.store_name] if self.store_name else []
        if self.online is False:  # what still works, not a status word
            parts.append(_("Offline: browsing and your cart still work; paying waits for the connection"))
        pending = self.pending_mutations()
        if pending:
            parts.append(_("{count} change(s) waiting to sync", count=pending))
        if self.staff is not None:
            parts.append(_("staff: {staff_id}", staff_id=self.staff.staff_id))
        colour = ui.WARNING if self.online is False else ui.MUTED
        right = width - 210 if self.screen.corner_buttons() else width - 32
        line = ui.fit_text("  \u00b7  ".join(parts), right - 40 - (width // 2 if self.screen.title else 0), ui.SMALL_PX)
        ui.draw_text(surface, line, (right, 20), size=ui.SMALL_PX, colour=colour, anchor="topright")

    def face_camera_ready(self) -> bool:
        return self.config.face_photo is not None

    def pending_mutations(self) -> int:
        client = self.worker.device
        return client.pending_mutations if client is not None else 0

    def _draw_notice(self, surface: pygame.Surface) -> None:
        if self.notice is None:
            return
        width, _height = surface.get_size()
        colour = {"error": ui.DANGER, "warning": ui.WARNING}.get(self.notice.level, ui.ACCENT_DOWN)
        lines = ui.wrap_text(self.notice.text, width - 160)[:3]
        line_px = ui.Fonts.get(ui.BODY_PX).get_linesize()
        # Over the title bar: the buttons at the bottom stay visible and tappable under a notice.
        rect = pygame.Rect(40, 10, width - 80, 32 + line_px * len(lines))
        pygame.draw.rect(surface, colour, rect, border_radius=14)
        for i, line in enumerate(lines):
            ui.draw_text(surface, line, (rect.left + 40, rect.top + 16 + i * line_px), colour=(255, 255, 255))

    # --- headless driving (tests, --script) --------------------------------------------------
    def find_button(self, label: str) -> ui.Button:
        """A button (or keypad / keyboard key) on the current screen by its label, as shown or in English."""
        buttons = self.screen.buttons() + [key for widget in self.screen.widgets() for key in widget.buttons]
        for button in buttons:
            if text.translates(button.label, label):
                return button
        shown = ", ".join(repr(b.label) for b in buttons)
        raise LookupError(f"no button {label!r} on screen {self.screen.name}; buttons: {shown}")

    def tap(self, label: str | tuple[int, int]) -> None:
        """Touch a button by its label (or a point), as a finger would: down, then up."""
        if isinstance(label, str):
            button = self.find_button(label)
            if not button.enabled:
                raise LookupError(f"button {label!r} on screen {self.screen.name} is disabled")
            pos = button.rect.center
        else:
            pos = label
        self.step([pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1),
                   pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1)])

    def press_key(self, key: int, unicode: str = "") -> None:
        self.step([pygame.event.Event(pygame.KEYDOWN, key=key, unicode=unicode, mod=0)])

    def type_text(self, text: str) -> None:
        for char in text:
            self.press_key(pygame.key.key_code(char) if char.isalnum() else 0, char)

    def wait_for(self, predicate: Callable[[], bool] | str, timeout_s: float = 30.0) -> None:
        """Run the loop until ``predicate()`` holds (or the screen named so shows); TimeoutError after."""
        check = (lambda: self.screen.name == predicate) if isinstance(predicate, str) else predicate
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                notice = f"; notice: {self.notice.text}" if self.notice else ""
                raise TimeoutError(f"still on screen {self.screen.name} after {timeout_s} s{notice}")
            self.step([])
            time.sleep(FRAME_S / 3)
        self.step([])

    def shows(self, wanted: str) -> bool:
        """Whether ``wanted`` is among the text drawn in the latest frame (a line, or across wrapped lines)."""
        return any(wanted in line for line in ui.DRAWN) or wanted in " ".join(ui.DRAWN) or wanted in "".join(ui.DRAWN)

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Run the loop until the current screen has no job running."""
        self.wait_for(lambda: not self.screen.busy, timeout_s)

    def screenshot(self, path: Path | str) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.surface, str(path))
        self._shots += 1
        return path

    def close(self) -> None:
        self.screen.leave()
        self.worker.stop()
        pygame.display.quit()
