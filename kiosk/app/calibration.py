"""Staff admin: the guided rig calibration, one ChArUco board capture at a time.

The screen lists the procedure's captures (``scanning.calibration.procedure``: one for
the foot rig, 13 for a six-camera body rig), tells staff where to put the board for the
current one (on the foot rig's glass platform, the double-sided board lying on the glass,
whose back print the plantar camera under it sees), takes it, and shows what each camera
saw; a capture in which a camera the
step needs sees too little of the board is marked for a retake, and any capture can be
taken again. *Calibrate* solves all of them together and saves the calibration only
when every camera's reprojection error is within the limit. Captures go into a capture
folder under the kiosk's data folder in the layout ``omnifit calibrate --source recorded``
reads (docs/calibration.md), so a calibration can be re-run or examined later.

Capturing, checking and solving run in the kiosk's work process; the screen only draws.
Only the synthetic rig can be captured from here: the kiosk has no live capture of a
RealSense rig without a calibration yet.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

import pygame

from kiosk.app import ui
from kiosk.app.admin import AdminScreen

LIST_TOP = 110
LIST_ROW = 34
PANEL_LEFT = 480
KEEP_SESSIONS = 5  # capture folders kept in the data folder (a six-camera body session: about 20 MB)


class CalibrationScreen(AdminScreen):
    """The guided calibration of the kiosk's rig (``config.rig``) through the synthetic cameras."""

    name = "admin_calibrate"

    def __init__(self, app, calibration_path: Path) -> None:
        from scanning.calibration.procedure import MAX_REPROJECTION_PX

        super().__init__(app)
        self.calibration_path = calibration_path
        self.folder = app.config.data_dir / "calibration-captures" / time.strftime("%Y%m%d-%H%M%S")
        self.steps: list = []  # scanning.calibration.procedure.CaptureStep, once the work process has made them
        self.checks: dict[str, object] = {}  # step name -> CaptureCheck of its latest take
        self.current = 0
        self.outcome = None  # (CalibrationOutcome, saved) of the latest solve; None once a capture changes
        self.limit_px = MAX_REPROJECTION_PX  # a camera above it keeps the calibration from being saved

    @property
    def title(self) -> str:
        return f"Calibrate the {self.app.config.rig} rig"

    def enter(self) -> None:
        from scanning.calibration.procedure import start_synthetic_captures

        self.run_blocking(functools.partial(start_synthetic_captures, self.folder, self.app.config.rig,
                                            keep_previous=KEEP_SESSIONS - 1),
                          self._started, waiting="Preparing the calibration")

    def _started(self, steps, error) -> None:
        if error is not None:
            self.app.fail(error, "start the calibration")
            return
        self.steps = steps

    # --- state -------------------------------------------------------------------------------
    def passed(self, step) -> bool:
        check = self.checks.get(step.name)
        return check is not None and check.ok

    @property
    def ready(self) -> bool:
        return bool(self.steps) and all(self.passed(step) for step in self.steps)

    # --- buttons -----------------------------------------------------------------------------
    def layout(self) -> list[ui.Button]:
        if not self.steps:
            return self.nav()
        width, height = self.app.surface.get_size()
        listed = [ui.Button(self._label(i, step), pygame.Rect(40, LIST_TOP + i * LIST_ROW, 300, LIST_ROW - 4),
                            f"select:{i}", colour=ui.ACCENT if i == self.current else ui.PANEL, text_size=ui.SMALL_PX)
                  for i, step in enumerate(self.steps)]
        taken = self.steps[self.current].name in self.checks
        actions = ui.button_row([("Previous", "previous"), ("Retake" if taken else "Capture", "capture"),
                                 ("Next", "next"), ("Calibrate", "calibrate")], height - 240, width - PANEL_LEFT + 40,
                                gap=16)
        for button in actions:
            button.rect.x += PANEL_LEFT - 40
            button.enabled = not self.busy
        actions[0].enabled &= self.current > 0
        actions[2].enabled &= self.current < len(self.steps) - 1
        actions[3].enabled &= self.ready
        return listed + actions + self.nav()

    def nav(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([("Rig status", "rig"), ("Admin home", "home"), ("Sign out", "sign_out")], height - 120,
                             width, margin=40, height=88)

    @staticmethod
    def _label(index: int, step) -> str:
        return f"{index + 1}. {step.name}"

    def on_action(self, action: str) -> None:
        if action.startswith("select:"):
            self.current = int(action.split(":", 1)[1])
        elif action in ("previous", "next"):
            self.current = max(0, min(len(self.steps) - 1, self.current + (1 if action == "next" else -1)))
        elif action == "capture" and not self.busy:
            self._capture(self.current)
        elif action == "calibrate" and self.ready and not self.busy:
            self._calibrate()
        elif action == "rig":
            self.app.go("admin_rig")
        else:
            super().on_action(action)

    # --- work --------------------------------------------------------------------------------
    def _capture(self, index: int) -> None:
        from scanning.calibration.procedure import take_synthetic_capture

        step = self.steps[index]
        self.run_blocking(functools.partial(take_synthetic_capture, self.folder, step),
                          functools.partial(self._captured, index), waiting=f"Capturing {step.name}")

    def _captured(self, index: int, check, error) -> None:
        step = self.steps[index]
        if error is not None:
            self.app.fail(error, f"take capture {step.name}")
            return
        self.checks[step.name] = check
        self.outcome = None  # the captures changed: an earlier result no longer stands
        if not check.ok:
            self.app.notify(f"Retake {step.name}: {check.problems[0]}.", "warning")
            return
        waiting = [i for i, s in enumerate(self.steps) if not self.passed(s)]
        if waiting:
            self.current = next((i for i in waiting if i > index), waiting[0])
            self.app.notify(f"Capture {step.name} is good; next: {self.steps[self.current].name}.")
        else:
            self.app.notify("Every capture is good: tap Calibrate.")

    def _calibrate(self) -> None:
        from scanning.calibration.procedure import calibrate_folder

        self.run_blocking(functools.partial(calibrate_folder, self.folder, self.calibration_path, self.limit_px),
                          self._calibrated, waiting="Solving the camera poses")

    def _calibrated(self, result, error) -> None:
        if error is not None:
            self.app.fail(error, "calibrate the rig")
            return
        self.outcome = result
        outcome, saved = result
        if saved:
            self.app.notify(f"Calibration saved to {self.calibration_path}.")
        else:
            self.app.notify(f"Not saved: {outcome.problems()[0]}. Retake the captures that camera is in.", "warning")

    # --- drawing -----------------------------------------------------------------------------
    def draw_body(self, surface: pygame.Surface) -> None:
        if not self.steps:
            return
        for index, step in enumerate(self.steps):
            check = self.checks.get(step.name)
            mark, colour = ("ok", ui.GOOD) if check is not None and check.ok else (
                ("retake", ui.WARNING) if check is not None else ("to take", ui.MUTED))
            ui.draw_text(surface, mark, (352, LIST_TOP + index * LIST_ROW + (LIST_ROW - 4) // 2), size=ui.SMALL_PX,
                         colour=colour, anchor="midleft")
        good = sum(self.passed(step) for step in self.steps)
        ui.draw_text(surface, f"{good} of {len(self.steps)} captures good", (40, LIST_TOP + len(self.steps) * LIST_ROW + 8),
                     size=ui.SMALL_PX, colour=ui.GOOD if good == len(self.steps) else ui.MUTED)
        width, _height = surface.get_size()
        panel = pygame.Rect(PANEL_LEFT, LIST_TOP, width - PANEL_LEFT - 40, 440)
        if self.outcome is not None:
            self._draw_outcome(surface, panel)
        else:
            self._draw_step(surface, panel)

    def _draw_step(self, surface: pygame.Surface, panel: pygame.Rect) -> None:
        step = self.steps[self.current]
        ui.draw_text(surface, f"Capture {self.current + 1} of {len(self.steps)}: {step.name}", panel.topleft)
        bottom = ui.draw_paragraph(surface, step.instruction, pygame.Rect(panel.left, panel.top + 50, panel.width, 170),
                                   size=ui.SMALL_PX)
        check = self.checks.get(step.name)
        if check is None:
            return
        from scanning.calibration.charuco import MIN_CORNERS

        for i, (camera, corners) in enumerate(sorted(check.corners.items())):
            colour = ui.GOOD if corners >= MIN_CORNERS else (ui.WARNING if camera in step.required else ui.MUTED)
            ui.draw_text(surface, f"{camera}: {corners} corners", (panel.left + (i % 2) * 360, bottom + 10 + (i // 2) * 34),
                         size=ui.SMALL_PX, colour=colour)
        if check.problems:
            top = bottom + 20 + ((len(check.corners) + 1) // 2) * 34
            ui.draw_paragraph(surface, "; ".join(check.problems), pygame.Rect(panel.left, top, panel.width,
                                                                              panel.bottom - top), size=ui.SMALL_PX,
                              colour=ui.WARNING)

    def _draw_outcome(self, surface: pygame.Surface, panel: pygame.Rect) -> None:
        outcome, saved = self.outcome
        errors = outcome.reprojection_px
        verdict = (f"Saved: every camera within {outcome.limit_px:.2f} px" if saved
                   else f"Not saved: {len(outcome.over_limit)} camera(s) above {outcome.limit_px:.2f} px")
        ui.draw_text(surface, verdict, panel.topleft, colour=ui.GOOD if saved else ui.WARNING)
        for i, (camera, error) in enumerate(errors.items()):
            over = camera in outcome.over_limit
            ui.draw_text(surface, f"{camera}: reprojection {error:.2f} px, "
                         f"{outcome.calibration.cameras[camera].corners} corners{'  (retake)' if over else ''}",
                         (panel.left, panel.top + 56 + i * 34), size=ui.SMALL_PX, colour=ui.WARNING if over else ui.TEXT)
        if saved:
            ui.draw_paragraph(surface, f"Written to {self.calibration_path}", pygame.Rect(
                panel.left, panel.top + 70 + len(errors) * 34, panel.width, 80), size=ui.SMALL_PX, colour=ui.MUTED)
