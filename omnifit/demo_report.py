"""The demo's report: one HTML page with its pictures beside it, for people who were not at the terminal.

:class:`Showcase` collects what the journey saw (scans, size advice, the AR frame, the pairing
QR code, kiosk screenshots, the receipt) while it runs; :meth:`Showcase.render` draws the
meshes and the fit map (moderngl offscreen, the scanning rig's renderer) and
:meth:`Showcase.write` puts ``index.html``, ``timings.svg`` and ``images/`` into the report
folder, replacing an earlier report only once the new one is complete.
"""
from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from omnifit.demo import DemoReport, Step
    from scanning.sources.render import MeshRenderer

# (mesh in metres, per-vertex RGB (n, 3) or None for skin, offset along y in metres)
Part = tuple[Any, "NDArray[np.float64] | None", float]
Cameras = dict[str, tuple[tuple[float, float, float], str, str]]
Image = NDArray[Any]  # (H, W, 3) uint8 BGR, as OpenCV reads and writes it

BRAND = "Omnifit"
VIEW_SIZE = (480, 400)  # width, height of one rendered view, pixels
SKIN = (0.86, 0.74, 0.64)  # the scans' colour outside any fit zone
VERDICT_COLOURS = {  # RGB 0..1; what a shopper reads at a glance: green fits, warm is too small, blue too big
    "good": (0.18, 0.62, 0.36),
    "tight": (0.85, 0.27, 0.27),
    "short": (0.85, 0.27, 0.27),
    "roomy": (0.23, 0.49, 0.85),
    "long": (0.23, 0.49, 0.85),
}
VERDICT_WORDS = {"good": "fits well", "tight": "snug", "short": "short", "roomy": "roomy", "long": "long"}
ZONE_WORDS = {"toe_room": "Toe room", "ball": "Ball of the foot", "instep": "Instep", "heel": "Heel",
              "chest": "Chest", "waist": "Waist", "hip": "Hip", "length": "Length", "inseam": "Inside leg"}
FOOT_FIGURES = (("length_mm", "Length"), ("width_mm", "Width"), ("ball_girth_mm", "Ball girth"),
                ("instep_girth_mm", "Instep girth"), ("instep_height_mm", "Instep height"),
                ("arch_height_mm", "Arch height"), ("heel_width_mm", "Heel width"), ("toe_height_mm", "Toe height"))
BODY_FIGURES = (("height_mm", "Height"), ("chest_girth_mm", "Chest"), ("waist_girth_mm", "Waist"),
                ("hip_girth_mm", "Hips"), ("inseam_mm", "Inside leg"), ("shoulder_width_mm", "Shoulder width"),
                ("arm_length_mm", "Arm length"))
# Where each shoe zone sits on a foot in its canonical frame (heel at x = 0, toes toward +x, sole on
# z = 0), as fractions of the foot's length: the stations shoe lasts are graded at.
FOOT_ZONES = {"heel": (0.0, 0.2), "instep": (0.38, 0.58), "ball": (0.63, 0.8), "toe_room": (0.86, 1.01)}
FOOT_TOP_M = 0.09  # above this the scan is ankle and leg, which no shoe zone covers


@dataclass
class Picture:
    """One image of the report: its file under ``images/`` and what a reader is told about it."""

    file: str
    title: str
    caption: str
    layout: str = ""  # "small" for a QR code, "" for the usual width


@dataclass
class Advice:
    """A size recommendation as the report shows it."""

    product: str
    size: str
    confidence: float
    explanation: str
    zones: list[dict[str, Any]]
    extra: str = ""


@dataclass
class Showcase:
    """What the journey saw, kept for the report. Images are written into ``staging`` as they come."""

    staging: Path
    store: str = ""
    feet: Any = None  # scanning.pipeline.ScanResult of both feet
    body: Any = None  # scanning.pipeline.ScanResult of the body
    shoe: Advice | None = None
    garment: Advice | None = None
    ar: list[Picture] = field(default_factory=list)
    qr: Picture | None = None
    receipt: Picture | None = None
    sale: str = ""  # what was paid, how, and the order
    kiosk: list[Picture] = field(default_factory=list)
    renders: dict[str, list[Picture]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # said on the page and by the demo: what stood in for what

    @classmethod
    def beside(cls, target: Path) -> Showcase:
        """A showcase staging its files in a fresh folder beside ``target`` (so the swap is a rename)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
        (staging / "images").mkdir()
        return cls(staging)

    def save_png(self, name: str, data: bytes | Image) -> str:
        """Write a PNG (encoded bytes, or a BGR / grey array) as ``images/<name>.png``; returns the relative path."""
        import cv2

        relative = f"images/{name}.png"
        path = self.staging / relative
        if isinstance(data, bytes):
            path.write_bytes(data)
        elif not cv2.imwrite(str(path), data):
            raise OSError(f"could not write {path}")
        return relative

    def save_file(self, name: str, source: Path) -> str:
        relative = f"images/{name}"
        shutil.copyfile(source, self.staging / relative)
        return relative

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    # ------------------------------------------------------------------ renders

    def render(self) -> int:
        """Draw the scans from three sides and the fit map on the foot; returns how many images were drawn."""
        from scanning.sources.render import shared_renderer

        renderer = shared_renderer()
        if self.feet is not None:
            left, right = self.feet.reconstruction.parts["left"], self.feet.reconstruction.parts["right"]
            feet = [(left, None, 0.07), (right, None, -0.07)]  # left foot on the left, seen from above
            self.renders["feet"] = self._views(renderer, "feet", feet, FOOT_CAMERAS)
            if self.shoe is not None:
                length = self.feet.measurements["right"].length_mm / 1000
                colours = fit_map_colours(right.vertices, length, {z["zone"]: z["verdict"] for z in self.shoe.zones})
                self.renders["fit"] = self._views(renderer, "fit-map", [(right, colours, 0.0)], FIT_CAMERAS)
        if self.body is not None:
            body = self.body.reconstruction.parts["body"]
            self.renders["body"] = self._views(renderer, "body", [(body, None, 0.0)], BODY_CAMERAS)
        return sum(len(pictures) for pictures in self.renders.values())

    def _views(self, renderer: MeshRenderer, name: str, parts: Sequence[Part], cameras: Cameras) -> list[Picture]:
        pictures = []
        for view, (direction, title, caption) in cameras.items():
            image = render_view(renderer, parts, np.asarray(direction, dtype=float))
            pictures.append(Picture(self.save_png(f"{name}-{view}", image), title, caption))
        return pictures

    # ------------------------------------------------------------------ the page

    def write(self, report: DemoReport, target: Path) -> Path:
        """Write the page and the chart, then swap the folder into place as ``target``; returns index.html."""
        from scanning.files import replace_folder

        (self.staging / "timings.svg").write_text(timings_svg(report.steps), encoding="utf-8")
        (self.staging / "index.html").write_text(self.page(report), encoding="utf-8")
        os.chmod(self.staging, 0o755)  # mkdtemp makes it private; the report is for sharing
        replace_folder(self.staging, target)
        return target / "index.html"

    def page(self, report: DemoReport) -> str:
        when = dt.datetime.now(dt.UTC).strftime("%d %B %Y, %H:%M UTC")
        sections = [self._summary(report), self._feet_section(), self._body_section(), self._ar_section(),
                    self._kiosk_section(), self._checkout_section(report), self._timings_section(report)]
        store = f" · {_e(self.store)}" if self.store else ""
        return _PAGE.format(brand=BRAND, when=_e(when), store=store, css=_CSS,
                            body="\n".join(s for s in sections if s), database=_e(_redact(report.db_url)),
                            target=_e(report.target))

    def _summary(self, report: DemoReport) -> str:
        verdict = ("Every step of the journey worked." if report.ok else
                   "The journey stopped at a step that failed; the steps below say which and why.")
        facts = []
        if self.shoe:
            facts.append(f"Recommended shoe: <b>{_e(self.shoe.product)}</b>, size <b>{_e(self.shoe.size)}</b>")
        if self.garment:
            facts.append(f"Recommended garment: <b>{_e(self.garment.product)}</b>, size <b>{_e(self.garment.size)}</b>")
        if self.sale:
            facts.append(f"Sale: <b>{_e(self.sale)}</b>")
        for key, words in (("kiosk_to_phone_ms", "Kiosk to phone, live"), ("phone_to_kiosk_ms", "Phone to kiosk, live")):
            if key in report.figures:
                facts.append(f"{words}: <b>{report.figures[key]:.0f} ms</b>")
        if "checkout_s" in report.figures:
            facts.append(f"Checkout, from payment to captured: <b>{report.figures['checkout_s']:.1f} s</b>")
        total = sum(step.ms for step in report.steps) / 1000
        facts.append(f"Whole journey: <b>{total:.0f} s</b> in {len(report.steps)} steps")
        notes = "".join(f"<p class='note'>{_e(note)}</p>" for note in self.notes)
        status = "ok" if report.ok else "failed"
        return (f"<section><h2>At a glance</h2><p class='status {status}'>{verdict}</p>"
                f"<ul class='facts'>{''.join(f'<li>{fact}</li>' for fact in facts)}</ul>{notes}</section>")

    def _feet_section(self) -> str:
        if self.feet is None:
            return ""
        left, right = self.feet.measurements["left"], self.feet.measurements["right"]
        rows = [(label, f"{getattr(left, key):.1f} mm", f"{getattr(right, key):.1f} mm") for key, label in FOOT_FIGURES]
        quality = self.feet.reconstruction.quality
        parts = [
            "<section><h2>1 · The foot scan</h2>",
            "<p>Four depth cameras under and around the kiosk's glass plate captured both feet; the scanner fused "
            "them into closed 3D surfaces and measured them the way a shoe fitter would.</p>",
            _gallery(self.renders.get("feet", [])),
            _table(("Measurement", "Left foot", "Right foot"), rows),
            f"<p class='small'>Surfaces closed (watertight): {'yes' if all(quality.watertight.values()) else 'no'}. "
            f"Scan to measurements: {self.feet.timing_s['scan_to_measurements']:.2f} s.</p>",
        ]
        if self.shoe:
            parts.append(_advice("Size advice", self.shoe, self.renders.get("fit", []),
                                 "Each zone of the foot is coloured by how the recommended size fits it there."))
        return "".join(parts) + "</section>"

    def _body_section(self) -> str:
        if self.body is None:
            return ""
        body = self.body.measurements["body"]
        rows = [(label, f"{getattr(body, key):.0f} mm") for key, label in BODY_FIGURES]
        unreliable = self.body.unreliable.get("body", {})
        caveat = ("<p class='small'>Not to be trusted from this scan: "
                  + "; ".join(f"{_e(k)} ({_e(v)})" for k, v in unreliable.items()) + ".</p>") if unreliable else ""
        advice = _advice("Garment advice", self.garment, [], "") if self.garment else ""
        return ("<section><h2>2 · The body scan</h2><p>The fitting booth's depth cameras captured the whole body; the "
                "same scanner measured it for clothing sizes.</p>" + _gallery(self.renders.get("body", []))
                + _table(("Measurement", "Body"), rows) + caveat + advice + "</section>")

    def _ar_section(self) -> str:
        if not self.ar:
            return ""
        return ("<section><h2>3 · The AR mirror</h2><p>The mirror finds the person's feet in the camera picture and "
                "draws the recommended shoe on them, in 3D, with the legs in front where they should be.</p>"
                + _gallery(self.ar) + "</section>")

    def _kiosk_section(self) -> str:
        if not self.kiosk:
            return ""
        return ("<section><h2>4 · On the kiosk's screen</h2><p>A scripted shopper walked through the touch screen in "
                "the same run, against the same cloud service: these are the screens they saw, in the store's "
                "language.</p>"
                + _gallery(self.kiosk) + "</section>")

    def _checkout_section(self, report: DemoReport) -> str:
        pictures = [p for p in (self.qr, self.receipt) if p is not None]
        if not pictures:
            return ""
        live = [s for s in report.steps if "sees it live" in s.name]
        live_text = "".join(f"<li>{_e(s.name)}: {_e(s.detail)}</li>" for s in live)
        return ("<section><h2>5 · Phone, checkout and receipt</h2><p>The shopper scanned the kiosk's QR code with "
                "their phone; the cart then lived on both screens at once, and the kiosk took the payment.</p>"
                + (f"<ul>{live_text}</ul>" if live_text else "") + _gallery(pictures) + "</section>")

    def _timings_section(self, report: DemoReport) -> str:
        rows = "".join(
            f"<tr class='{'ok' if s.ok else 'failed'}'><td>{i + 1}</td><td>{_e(s.name)}</td>"
            f"<td class='num'>{s.ms / 1000:.2f} s</td><td>{'ok' if s.ok else 'FAILED'}</td><td class='small'>{_e(s.detail)}</td></tr>"
            for i, s in enumerate(report.steps))
        return ("<section><h2>6 · How long each step took</h2>"
                "<figure class='wide'><img src='timings.svg' alt='Bar chart of the time each step took'>"
                "<figcaption>Each bar is one step of the journey, in the order it ran.</figcaption></figure>"
                "<details><summary>Every step, with what it did</summary><table><thead><tr><th>#</th><th>Step</th>"
                f"<th>Time</th><th>Result</th><th>Detail</th></tr></thead><tbody>{rows}</tbody></table></details>"
                "</section>")


# ---------------------------------------------------------------------- rendering

# view name → (direction from the object toward the camera, title, caption)
FOOT_CAMERAS: Cameras = {
    "top": ((0.0, 0.0, 1.0), "From above", "Both feet seen from above, toes at the top."),
    "side": ((0.0, -1.0, 0.25), "From the side", "The outer side of the right foot, the left one behind it."),
    "front": ((1.0, -0.6, 0.6), "From the front", "Both feet from the front and a little above."),
}
FIT_CAMERAS: Cameras = {
    "top": ((0.0, 0.0, 1.0), "Fit map, from above", "The right foot from above."),
    "side": ((0.15, 1.0, 0.45), "Fit map, from the side", "The right foot from its inner side."),
}
BODY_CAMERAS: Cameras = {
    "front": ((0.0, 1.0, 0.1), "Front", "The body scan from the front."),
    "side": ((1.0, 0.0, 0.1), "Side", "From the right."),
    "back": ((0.0, -1.0, 0.1), "Back", "From behind."),
}


def fit_map_colours(vertices: NDArray[np.float64], length_m: float, verdicts: dict[str, str]) -> NDArray[np.float64]:
    """Per-vertex RGB (n, 3) in [0, 1]: each shoe zone in its verdict's colour, the rest skin.

    vertices : (n, 3) float, metres, the foot's canonical frame (heel at x = 0, sole on z = 0).
    """
    colours = np.tile(np.asarray(SKIN), (len(vertices), 1))
    along = vertices[:, 0] / length_m
    below_ankle = vertices[:, 2] < FOOT_TOP_M
    for zone, (start, end) in FOOT_ZONES.items():
        if zone in verdicts:
            inside = (along >= start) & (along < end) & below_ankle
            if zone == "instep" and inside.any():  # the instep is the top of the midfoot, not its sole
                inside &= vertices[:, 2] > 0.45 * vertices[inside, 2].max()
            colours[inside] = VERDICT_COLOURS.get(verdicts[zone], SKIN)
    return colours


def render_view(renderer: MeshRenderer, parts: Sequence[Part], direction: NDArray[np.float64],
                size: tuple[int, int] = VIEW_SIZE) -> Image:
    """One view of meshes on white, BGR uint8 (height, width, 3).

    parts : :data:`Part` each.
    direction : (3,) from the scene toward the camera; the camera looks back at the scene's centre.
    """
    import cv2

    from scanning.sources.frame import Intrinsics
    from scanning.sources.render import SceneMesh

    scene, points = [], []
    for mesh, colours, offset in parts:
        vertices = np.asarray(mesh.vertices, dtype=np.float64) + np.array([0.0, offset, 0.0])
        colours = colours if colours is not None else np.tile(np.asarray(SKIN), (len(vertices), 1))
        scene.append(SceneMesh(vertices, np.asarray(mesh.faces), np.asarray(colours, dtype=np.float64)))
        points.append(vertices)
    every = np.vstack(points)
    centre = 0.5 * (every.min(axis=0) + every.max(axis=0))
    radius = float(np.linalg.norm(every - centre, axis=1).max())
    toward = direction / np.linalg.norm(direction)
    distance = 4.0 * radius  # far enough for a gentle perspective
    pose = look_at(centre + toward * distance, centre)
    camera = (every - pose[:3, 3]) @ pose[:3, :3]  # the points in the camera's frame
    u, v = camera[:, 0] / camera[:, 2], camera[:, 1] / camera[:, 2]
    width, height = size
    scale = 2  # rendered large and shrunk: smooth edges against the white page
    focal = 0.9 * scale * min(width / np.ptp(u), height / np.ptp(v))  # the scene fills 90 % of the frame
    cx = scale * width / 2 - focal * (u.min() + u.max()) / 2
    cy = scale * height / 2 - focal * (v.min() + v.max()) / 2
    intrinsics = Intrinsics(focal, focal, cx, cy, width * scale, height * scale)
    view = renderer.render(scene, intrinsics, pose, near_far=(distance - 1.5 * radius, distance + 1.5 * radius))
    colour = np.where(view.depth[..., None] > 0, view.colour, 255).astype(np.uint8)
    small = cv2.resize(colour, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2BGR)


def changed_region(before: Image, after: Image, *, width: int = 480) -> Image | None:
    """What the mirror drew, close up: the box around the pixels that differ between the
    two (H, W, 3) pictures, with a margin, scaled to ``width``; None when nothing changed."""
    import cv2

    if before.shape != after.shape:
        return None
    changed = np.abs(before.astype(np.int16) - after.astype(np.int16)).max(axis=2) > 40
    rows, cols = np.nonzero(changed)
    if len(rows) < 20:
        return None
    height, full_width = changed.shape
    margin = max(20, int(0.35 * max(np.ptp(rows), np.ptp(cols))))
    top, bottom = max(0, rows.min() - margin), min(height, rows.max() + margin)
    left, right = max(0, cols.min() - margin), min(full_width, cols.max() + margin)
    crop = after[top:bottom, left:right]
    scale = width / crop.shape[1]
    return cv2.resize(crop, (width, max(1, round(crop.shape[0] * scale))), interpolation=cv2.INTER_CUBIC)


def look_at(eye: NDArray[np.float64], target: NDArray[np.float64]) -> NDArray[np.float64]:
    """(4, 4) camera-to-world pose of a camera at ``eye`` looking at ``target``, OpenCV axes
    (x right, y down, z forward), with the world's +z up in the picture."""
    forward = (target - eye) / np.linalg.norm(target - eye)
    up = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.99 else np.array([1.0, 0.0, 0.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    return pose


# ---------------------------------------------------------------------- the chart


def timings_svg(steps: Sequence[Step]) -> str:
    """A horizontal bar per step (seconds), labelled in words, as a standalone SVG document."""
    label_w, bar_w, row_h, top = 470, 400, 24, 40
    longest = max((s.ms for s in steps), default=1.0) or 1.0
    height = top + row_h * len(steps) + 30
    rows = []
    for i, step in enumerate(steps):
        y = top + i * row_h
        width = max(1.0, bar_w * step.ms / longest)
        name = step.name if len(step.name) <= 72 else step.name[:71] + "…"
        colour = "#2e7d57" if step.ok else "#c62828"
        rows.append(
            f"<g><title>{_e(step.name)}: {step.ms / 1000:.3f} s</title>"
            f"<text x='{label_w - 8}' y='{y + 16}' text-anchor='end'>{_e(name)}</text>"
            f"<rect x='{label_w}' y='{y + 4}' width='{width:.1f}' height='{row_h - 8}' rx='3' fill='{colour}'/>"
            f"<text x='{label_w + width + 6:.1f}' y='{y + 16}' class='v'>{_seconds(step.ms)}</text></g>")
    total = sum(s.ms for s in steps) / 1000
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{label_w + bar_w + 80}' height='{height}' "
            f"viewBox='0 0 {label_w + bar_w + 80} {height}' font-family='Helvetica, Arial, sans-serif' font-size='12'>"
            "<style>text{fill:#263238}.v{fill:#546e7a}</style>"
            f"<rect width='100%' height='100%' fill='#ffffff'/>"
            f"<text x='0' y='22' font-size='15' font-weight='bold'>Time per step (whole journey {total:.1f} s)</text>"
            + "".join(rows) + "</svg>\n")


def _seconds(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


# ---------------------------------------------------------------------- HTML pieces


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _redact(url: str) -> str:
    """A database URL without its password."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return url


def _table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _gallery(pictures: Sequence[Picture]) -> str:
    figures = "".join(
        f"<figure class='{_e(p.layout)}'><a href='{_e(p.file)}'><img src='{_e(p.file)}' alt='{_e(p.title)}'></a>"
        f"<figcaption><b>{_e(p.title)}</b> {_e(p.caption)}</figcaption></figure>" for p in pictures)
    return f"<div class='gallery'>{figures}</div>" if figures else ""


def _advice(heading: str, advice: Advice, pictures: Sequence[Picture], legend_text: str) -> str:
    rows = [(ZONE_WORDS.get(z["zone"], z["zone"]), VERDICT_WORDS.get(z["verdict"], z["verdict"]),
             f"{z['ease_mm']:+.0f} mm", f"{z['target_ease_mm']:+.0f} mm") for z in advice.zones]
    legend = "".join(
        f"<span class='key'><i style='background:{_hex(VERDICT_COLOURS[v])}'></i>{VERDICT_WORDS[v]}</span>"
        for v in ("good", "tight", "roomy"))
    return (f"<h3>{_e(heading)}: {_e(advice.product)}</h3>"
            f"<p class='advice'>Size <b>{_e(advice.size)}</b> · confidence {advice.confidence:.0%}. {_e(advice.explanation)}</p>"
            + (f"<p class='small'>{_e(advice.extra)}</p>" if advice.extra else "")
            + (f"<p>{_e(legend_text)} {legend}</p>" if pictures else "") + _gallery(pictures)
            + _table(("Zone", "Fit", "Room (item minus body)", "Designed room"), rows))


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


_CSS = """
body{margin:0;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#263238;background:#f4f6f8}
header{background:#12343b;color:#fff;padding:28px 40px}
header h1{margin:0;font-size:30px;letter-spacing:.5px}header p{margin:6px 0 0;color:#b9d3d8}
.brand{color:#f5b041}
main{max-width:1120px;margin:0 auto;padding:10px 24px 40px}
section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);margin:22px 0;padding:18px 26px}
h2{color:#12343b;border-bottom:2px solid #e3e9ec;padding-bottom:6px}
h3{color:#12343b;margin-top:26px}
.status.ok{color:#1b6e45;font-weight:bold}.status.failed{color:#c62828;font-weight:bold}
.facts li{margin:4px 0}.note{background:#fff8e1;border-left:4px solid #f5b041;padding:8px 12px}
.gallery{display:flex;flex-wrap:wrap;gap:14px;margin:12px 0}
figure{margin:0;flex:1 1 300px;max-width:360px}figure.wide{max-width:100%;flex-basis:100%}
figure.small{flex:0 1 220px}
figure img{width:100%;border:1px solid #dfe6e9;border-radius:6px;background:#fff}
figcaption{font-size:13px;color:#455a64;margin-top:4px}
table{border-collapse:collapse;margin:12px 0;font-size:14px}
th,td{border-bottom:1px solid #e3e9ec;padding:6px 12px;text-align:left;vertical-align:top}
th{background:#eef3f5}td.num{text-align:right;white-space:nowrap}tr.failed td{color:#c62828}
.small{font-size:12px;color:#607d8b}.advice{font-size:16px}
.key{margin-right:14px;white-space:nowrap}.key i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px}
details summary{cursor:pointer;color:#12343b;margin:8px 0}
footer{color:#78909c;font-size:12px;text-align:center;padding:10px 0 30px}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{brand} store journey report</title><style>{css}</style></head>
<body><header><h1><span class="brand">{brand}</span> · a shopper's visit, start to finish</h1>
<p>Store journey report · {when}{store}</p></header>
<main>
{body}
</main>
<footer>Made by <code>omnifit demo</code> against a real {brand} cloud service ({target}) on {database}.
The feet and the body are synthetic shoppers scanned through the scanner's virtual cameras; the payment
went through the sandbox card network.</footer>
</body></html>
"""
