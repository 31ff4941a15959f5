"""A scan running in the kiosk's work process, as the shopper sees it: the stage and a progress bar.

The foot scan and the body scan differ only in the work they send and what they do with the result;
a failure says why (or how to stand) with *Try again* and *Back* on both.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

import pygame

from kiosk.app import ui
from kiosk.app.errors import describe_error
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _


class ScanProgressScreen(Screen):
    """Runs ``scan_job(config, shopper)`` with a progress bar; subclasses say what a finished scan leads to."""

    stages: ClassVar[dict[str, str]] = {}  # the scan's stage names and the words shown for them
    first_stage: ClassVar[str] = ""
    # A module-level function (picklable, for the work process), stored so the class does not bind it.
    scan_job: ClassVar[Callable[..., Any]]

    def __init__(self, app) -> None:
        super().__init__(app)
        self.stage = self.first_stage
        self.fraction = 0.0
        self.failed: str | None = None

    def enter(self) -> None:
        self.failed = None
        self.fraction = 0.0
        shopper = self.app.session.scans
        self.app.session.scans += 1
        job = functools.partial(type(self).scan_job, self.app.config, shopper)
        self.run_blocking(job, self._finished, waiting=N_("Hold still"), progress=self._progress)

    def _progress(self, stage: str, fraction: float) -> None:
        self.stage = self.stages.get(stage, stage)
        self.fraction = fraction

    def _finished(self, scan: Any, error: BaseException | None) -> None:
        if error is not None:
            self.failed = describe_error(error)
            return
        if not scan.watertight or scan.flags:
            self.app.notify(_("The scan is usable but not perfect; scan again for a sharper model."), "warning")
        self.scanned(scan)

    def scanned(self, scan: Any) -> None:
        raise NotImplementedError

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        if self.failed is None:
            return []
        return ui.button_row([(_("Try again"), "again"), (_("Back"), "back")], height - 260, width,
                             margin=min(200, width // 8))

    def on_action(self, action: str) -> None:
        if action == "again":
            self.enter()
        elif action == "back":
            self.app.reset_session()

    def draw_body(self, surface: pygame.Surface) -> None:
        width, height = surface.get_size()
        if self.failed is not None:
            ui.draw_paragraph(surface, _("The scan did not work: {why}", why=self.failed),
                              pygame.Rect(120, 200, width - 240, 240), centred=True)
            return
        ui.draw_paragraph(surface, _(self.stage), pygame.Rect(80, height // 3 - 40, width - 160, 80), centred=True)
        bar = pygame.Rect(0, 0, width - 320, 48)
        bar.center = (width // 2, height // 3 + 80)
        pygame.draw.rect(surface, ui.PANEL, bar, border_radius=24)
        done = bar.copy()
        done.width = max(48, int(bar.width * self.fraction))
        pygame.draw.rect(surface, ui.ACCENT, done, border_radius=24)
        ui.draw_text(surface, f"{int(self.fraction * 100)} %", bar.center, anchor="center")
