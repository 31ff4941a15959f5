"""My fit: both feet's measurements from the last store scan, each drawn as a footprint to scale."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile import pictures
from mobile.i18n import tr
from mobile.screens.base import AppScreen, build


def measurement_names() -> dict[str, str]:
    return {
        "length": tr._("Length"), "width": tr._("Width"), "ball_girth": tr._("Ball girth"),
        "instep_girth": tr._("Instep girth"), "instep_height": tr._("Instep height"),
        "arch_height": tr._("Arch height"), "heel_width": tr._("Heel width"), "toe_height": tr._("Toe height"),
        "height": tr._("Height"), "chest_girth": tr._("Chest"), "waist_girth": tr._("Waist"),
        "hip_girth": tr._("Hips"), "inseam": tr._("Inseam"), "shoulder_width": tr._("Shoulder width"),
        "arm_length": tr._("Arm length"),
    }


def sole_half_width(t: float) -> float:
    """Half the sole's width at ``t`` (0 heel .. 1 toe) as a share of the foot's width: narrow heel, widest at the ball."""
    t = min(max(t, 0.0), 1.0)
    rise = min(max((t - 0.08) / 0.62, 0.0), 1.0)
    return float(math.sin(math.pi * t) ** 0.42 * (0.66 + 0.34 * rise * rise * (3 - 2 * rise)) / 2)


class FootPrint(BoxLayout):
    """A sole outline to scale from the scan's length and width (mm); the right foot mirrors the left."""

    title = StringProperty("")
    length_mm = NumericProperty(0.0)
    width_mm = NumericProperty(0.0)
    mirrored = BooleanProperty(False)
    picture = StringProperty("")  # the foot rendered from these measurements, once it is ready
    outline = ListProperty([])
    fill_vertices = ListProperty([])

    def on_kv_post(self, base_widget: Any) -> None:
        self.bind(pos=self._shape, size=self._shape, length_mm=self._shape, width_mm=self._shape)
        self._shape()

    def _shape(self, *_args: Any) -> None:
        if self.length_mm <= 0 or self.width_mm <= 0:
            self.outline, self.fill_vertices = [], []
            return
        room_w, room_h = self.width - dp(24), self.height - dp(64)
        scale = min(room_h / self.length_mm, room_w / (self.width_mm * 1.1))
        base_y = self.y + dp(46) + (room_h - self.length_mm * scale) / 2
        side = -1.0 if self.mirrored else 1.0
        steps = 40
        lateral = [(i / steps, 1.0) for i in range(steps + 1)]
        medial = [(1 - i / steps, -1.0) for i in range(1, steps)]
        points: list[float] = []
        for t, edge in lateral + medial:
            # the medial (big-toe) side runs straighter than the lateral one
            half = sole_half_width(t) * (0.9 if edge < 0 else 1.08)
            points += [self.center_x + side * edge * half * self.width_mm * scale, base_y + t * self.length_mm * scale]
        self.outline = points
        centre = [self.center_x, base_y + self.length_mm * scale / 2, 0.0, 0.0]
        rim = [v for x, y in zip(points[::2], points[1::2], strict=True) for v in (x, y, 0.0, 0.0)]
        self.fill_vertices = centre + rim + points[:2] + [0.0, 0.0]


class MyFitScreen(AppScreen):
    summary = StringProperty("")
    _rendering: tuple[str, ...] = ()

    def on_kv_post(self, base_widget: Any) -> None:
        self.app.bind(fit_profile=self._draw, lang=self._draw)

    def show(self, **params: Any) -> None:
        super().show()
        self.app.call(lambda client: client.get_fit_profile(), done=self.app._profile_loaded, failed=self.app._no_profile)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        profile = self.app.fit_profile
        feet, table = self.ids.feet, self.ids.table
        feet.clear_widgets()
        table.clear_widgets()
        if profile is None:
            self.summary = tr._("No scan yet. Scan your feet at an Omnifit kiosk, then tap Continue on my phone.")
            return
        self.summary = tr._("From your last scan in store. Sizes on every product page come from these figures.")
        feet_figures = {side: values for side, values in (("left", profile.left_foot), ("right", profile.right_foot))
                        if values.get("length")}
        for side, values in feet_figures.items():
            picture = pictures.foot_picture_path(side, values)
            feet.add_widget(build("FootPrint", title=tr._("Left foot") if side == "left" else tr._("Right foot"),
                                  length_mm=values.get("length", 0.0), width_mm=values.get("width", 0.0),
                                  mirrored=side == "right", picture=str(picture) if picture.is_file() else ""))
        wanted = tuple(str(pictures.foot_picture_path(side, values)) for side, values in feet_figures.items())
        if wanted != self._rendering and not all(Path(path).is_file() for path in wanted):
            self._rendering = wanted  # once per scan, however often the screen is drawn meanwhile
            self.app.render_in_process(pictures.render_foot_pictures, feet_figures, done=self._draw)
        names = measurement_names()
        table.add_widget(build("MeasureRow", name="", left_text=tr._("Left"), right_text=tr._("Right"), bold=True))
        for key in ("length", "width", "ball_girth", "instep_girth", "instep_height", "arch_height", "heel_width", "toe_height"):
            if key in profile.left_foot or key in profile.right_foot:
                table.add_widget(build("MeasureRow",
                    name=names[key], left_text=_mm(profile.left_foot.get(key)), right_text=_mm(profile.right_foot.get(key))))
        for key, value in profile.body.items():
            table.add_widget(build("MeasureRow", name=names.get(key, key), left_text=_mm(value), right_text=""))


def _mm(value: float | None) -> str:
    return f"{value:.1f} mm" if value else "—"
