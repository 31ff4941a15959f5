"""The shopper's body scan: *Scan my body* → the scan → the body's measurements → tops and bottoms.

The scan runs on the body rig's depth source (the synthetic booth by default) in the kiosk's work
process, as the foot scan does; the garments' size screen then sizes each top or pair of trousers on
these measurements with ``tryon.fit`` (the ``fit`` screen).
"""
from __future__ import annotations

import pygame

from kiosk.app import text, ui
from kiosk.app.progress import ScanProgressScreen
from kiosk.app.scanner import BODY_STAGES, BodyScan, scan_body
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _

# The figures shown, in the order a tailor reads them (``scanning.types.BodyMeasurements``, millimetres).
BODY_FIGURES = (
    ("height", N_("Height")),
    ("chest_girth", N_("Chest")),
    ("waist_girth", N_("Waist")),
    ("hip_girth", N_("Hips")),
    ("inseam", N_("Inside leg")),
    ("shoulder_width", N_("Shoulders")),
    ("arm_length", N_("Arm length")),
)


class BodyScanScreen(ScanProgressScreen):
    """Runs a body scan with a progress bar; a failure says why (or how to stand), with *Try again*."""

    name = "body_scan"
    title = N_("Scanning your body")
    stages = BODY_STAGES
    first_stage = N_("Stand in the middle of the booth, arms a little away from your sides")
    scan_job = staticmethod(scan_body)

    def scanned(self, scan: BodyScan) -> None:
        self.app.session.body = scan.body
        self.app.session.body_summary = scan.summary
        self.app.go("body", scan)


class BodyScreen(Screen):
    """The body's measurements, then tops or trousers sized on them."""

    name = "body"
    title = N_("Your measurements")

    def __init__(self, app, scan: BodyScan) -> None:
        super().__init__(app)
        self.scan = scan

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        return ui.button_row([(_("Scan again"), "again"), (_("Choose tops"), "tops"), (_("Choose trousers"), "bottoms")],
                             height - 130, width)

    def on_action(self, action: str) -> None:
        if action == "again":
            self.app.go("body_scan")
        elif action in ("tops", "bottoms"):
            self.app.go("products", action)

    def draw_body(self, surface: pygame.Surface) -> None:
        summary = self.scan.summary
        width, _height = surface.get_size()
        column = min(520, width // 2)
        for row, (key, label) in enumerate(BODY_FIGURES):
            if key not in summary:
                continue
            y = 130 + row * 58
            ui.draw_text(surface, _(label), (80, y))
            ui.draw_text(surface, _("{value} cm", value=text.number(summary[key] / 10, 1)), (column, y))
        good = self.scan.watertight and not self.scan.flags
        quality = _("complete 3D model of your body") if good else _("the 3D model has small gaps")
        ui.draw_text(surface, _("Scanned in {seconds} s: {quality}", seconds=text.number(self.scan.seconds, 1),
                                quality=quality), (80, 130 + len(BODY_FIGURES) * 58 + 10), size=ui.SMALL_PX,
                     colour=ui.MUTED if good else ui.WARNING)
        ui.draw_paragraph(surface, _("Next: tops and trousers in the size that fits you."),
                          pygame.Rect(80, 130 + len(BODY_FIGURES) * 58 + 60, width - 160, 80), colour=ui.MUTED)
