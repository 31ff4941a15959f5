"""The AR mirror screen: the shopper sees the chosen shoe (or garment), colour and size on themselves.

The mirror (``tryon.ar``: MediaPipe tracking, the moderngl shoe renderer or the garment warp,
compositing) runs in the kiosk's work process (:func:`run_mirror`); each composited picture
comes back through the worker's frame queue, newest wins, and this screen only draws it.
So the UI loop keeps its pace whatever the mirror costs, and the mirror never waits for the
screen. The camera is ``--mirror-camera``: ``camera:N``, or ``video:FILE`` played in a loop.
Until a person stands in view the screen says how to stand.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pygame

from kiosk.app import actions, pictures, text, ui
from kiosk.app.screen import Screen
from kiosk.app.text import N_, _

MIRROR_SIZE = (640, 360)  # camera pictures are cropped and scaled to this before tracking (16:9)
_FPS_WINDOW_S = 2.0


@dataclass(frozen=True)
class MirrorFrame:
    """One composited picture: BGR bytes of ``size`` (width, height), and whether a person is in view."""

    pixels: bytes
    size: tuple[int, int]
    person: bool
    overlay: bool
    notices: tuple[str, ...] = ()  # what the mirror could not do, in tryon.ar's words; the screen translates them
    credit: str = ""  # the licence line of a model drawn, which must show where it is shown


# tryon.ar.scene's messages, for the kiosk's catalog: the screen shows them in the shopper's language.
NOTICE_MESSAGES = (
    N_("No one in view: step in front of the mirror"),
    N_("Several people in view: one at a time, please"),
    N_("Your feet are not in view: step back so the mirror sees them"),
    N_("Your feet are cut by the frame: step back a little"),
    N_("Too close: step back so the mirror sees your whole body"),
    N_("Too far: step closer to the mirror"),
    N_("Your shoulders and hips are not in view: step back a little"),
)


def _looped(spec: str, size: tuple[int, int], job: int) -> Iterator:
    """Frames of ``spec`` (``camera:N`` or a video file), a file played again from the start when it ends,
    with time and index running on so the tracker's smoothing never sees time go back; until the UI stops it."""
    from kiosk.app.isolated import stop_requested
    from tryon.ar.sources import Frame, FrameSource

    index, offset = 0, 0.0
    while not stop_requested(job):
        last = 0.0
        for frame in FrameSource(spec, size=size):
            if stop_requested(job):
                return
            last = frame.time_s
            yield Frame(index, offset + frame.time_s, frame.image)
            index += 1
        if spec.startswith("camera:"):
            return  # a camera that stops sending is gone; the screen says so
        offset += last + 1 / 30


def _model_credit(sku: str) -> str:
    """The licence line of the real shoe model the mirror draws for ``sku``; "" for our own models."""
    from tryon.ar.catalog import REAL_SHOE_CREDIT, shoe_asset_for_sku
    from tryon.ar.errors import ArInputError

    try:
        _path, variant = shoe_asset_for_sku(sku)
    except ArInputError:  # a garment: our own models
        return ""
    return REAL_SHOE_CREDIT if variant is not None else ""


def run_mirror(spec: str, sku: str, job: int) -> dict:
    """The mirror loop in the work process; returns its figures (``tryon.ar.MirrorStats.summary``) when stopped."""
    from kiosk.app.isolated import send_frame
    from tryon.ar import BodyTracker, Mirror, build_tryon
    from tryon.ar.scene import MESSAGES
    from tryon.ar.tracking import TrackingState

    tryon = build_tryon(sku=sku)
    credit = _model_credit(sku)
    # One tracker: the kiosk has two cores, and the UI process needs one of them. The screen says what the
    # mirror cannot do in the shopper's language, so the frame carries no English words of its own.
    mirror = Mirror(tryon, [BodyTracker(static_image_mode=False, segmenter="pose")], pipelined=False, say_notices=False)

    def show(result) -> None:
        height, width = result.image.shape[:2]
        send_frame(job, MirrorFrame(result.image.tobytes(), (width, height),
                                    result.state is TrackingState.TRACKING, result.overlay,
                                    tuple(MESSAGES[notice] for notice in result.notices), credit))

    kind, _, where = spec.partition(":")
    source = where if kind == "video" else spec
    return mirror.run(_looped(source, MIRROR_SIZE, job), show).summary(skip=5)


class MirrorScreen(Screen):
    """The live mirror with the item on the shopper, and Change colour / Change size / Add to cart / Back."""

    name = "mirror"
    title = N_("Try it on")

    def __init__(self, app, product, sku: str) -> None:
        super().__init__(app)
        self.product = product
        self.sku = sku
        self.job: int | None = None
        self.frame: pygame.Surface | None = None
        self.person = False
        self.notices: tuple[str, ...] = ()
        self.credit = ""
        self.shown: list[float] = []  # when each new picture reached the screen (the shopper's fps)
        self.received = 0  # pictures shown since the screen opened
        self.stats: dict | None = None
        self.problem: str | None = None

    @property
    def variant(self):
        return next(v for v in self.product.variants if v.sku == self.sku)

    def enter(self) -> None:
        self._start()

    def _start(self) -> None:
        spec = self.app.config.mirror_camera
        if not spec:
            self.problem = _("The mirror camera is not set up on this kiosk; please ask a member of staff.")
            return
        self.problem, self.frame, self.person = None, None, False
        job = self.job = self.app.worker.run_streaming(functools.partial(run_mirror, spec, self.sku))
        self.track(job, lambda stats, error: self._ended(job, stats, error), N_("Starting the mirror"))
        self.busy.pop(job, None)  # the mirror runs for as long as the screen shows: no spinner

    def _ended(self, job: int, stats, error) -> None:
        if job != self.job:
            return  # a mirror this screen stopped (to change colour or size) finished: nothing to say
        self.job = None
        if error is not None:
            self.problem = _("The mirror stopped: {why}", why=str(error))
        else:
            self.stats = stats

    def _stop(self) -> None:
        if self.job is not None:
            self.app.worker.stop_streaming()
            self.job = None

    def leave(self) -> None:
        self._stop()
        super().leave()

    def fps(self) -> float:
        """New mirror pictures per second on screen over the last two seconds."""
        now = time.monotonic()
        recent = [t for t in self.shown if now - t <= _FPS_WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def update(self, now: float) -> None:
        if self.job is None:
            return
        latest = self.app.worker.latest_frame(self.job)
        if latest is None:
            return
        self.frame = self._fit(pygame.image.frombuffer(latest.pixels, latest.size, "BGR"))
        self.person = latest.person
        self.notices, self.credit = latest.notices, latest.credit
        self.received += 1
        self.shown = [t for t in self.shown if now - t <= _FPS_WINDOW_S] + [now]

    def _area(self) -> pygame.Rect:
        width, height = self.app.surface.get_size()
        return pygame.Rect(40, 140, width - 80, height - 290)

    def _fit(self, picture: pygame.Surface) -> pygame.Surface:
        """The picture scaled to the mirror's area once, when it arrives (not on every frame drawn)."""
        area = self._area()
        fw, fh = picture.get_size()
        scale = min(area.width / fw, area.height / fh)
        return pygame.transform.scale(picture, (int(fw * scale), int(fh * scale)))

    def _switch(self, sku: str) -> None:
        self._stop()
        self.sku = sku
        self._start()

    def _next_colour(self) -> str:
        colours = list(dict.fromkeys(v.colour for v in self.product.variants))
        colour = colours[(colours.index(self.variant.colour) + 1) % len(colours)]
        same = [v for v in self.product.variants if v.colour == colour]
        return next((v.sku for v in same if v.size_label == self.variant.size_label), same[0].sku)

    def _next_size(self) -> str:
        sizes = [v for v in self.product.variants if v.colour == self.variant.colour]
        return sizes[(sizes.index(self.variant) + 1) % len(sizes)].sku

    def layout(self) -> list[ui.Button]:
        width, height = self.app.surface.get_size()
        row = [(_("Back"), "back"), (_("Change colour"), "colour"), (_("Change size"), "size"),
               (_("Add to cart"), "add")]
        return ui.button_row(row, height - 120, width)

    def on_action(self, action: str) -> None:
        if action == "back":
            self.app.go("fit", self.product)
        elif action == "colour":
            self._switch(self._next_colour())
        elif action == "size":
            self._switch(self._next_size())
        elif action == "add":
            actions.add_to_cart(self, self.sku)

    def draw_body(self, surface: pygame.Surface) -> None:
        width, _height = surface.get_size()
        area = self._area()
        variant = self.variant
        ui.draw_text(surface, ui.fit_text(_("{name}, {colour}, size {size}", name=self.product.name,
                                            colour=variant.colour, size=variant.size_label), width - 300),
                     (40, 96), size=ui.SMALL_PX, colour=ui.MUTED)
        if self.problem is not None:
            ui.draw_paragraph(surface, self.problem, area.inflate(-80, -80), colour=ui.WARNING, centred=True)
            return
        if self.frame is None:
            ui.draw_paragraph(surface, _("Starting the mirror"), area.inflate(-80, -80), colour=ui.MUTED, centred=True)
            return
        surface.blit(self.frame, self.frame.get_rect(center=area.center))
        picture = pictures.tile(self.product, 120, colour=variant.colour)
        if picture is not None:
            surface.blit(picture, (area.right - 130, area.top + 10))
        if not self.person or self.notices:
            box = pygame.Rect(0, 0, min(area.width - 40, 900), 150)
            box.midbottom = (area.centerx, area.bottom - 20)
            pygame.draw.rect(surface, ui.PANEL, box, border_radius=16)
            how = (_("Stand about two metres from the screen, facing it, so that you are seen from head to toe.")
                   if not self.person else " ".join(_(notice) for notice in self.notices))
            ui.draw_paragraph(surface, how, box.inflate(-40, -30), centred=True)
        if self.credit:
            ui.draw_text(surface, self.credit, (area.left, area.bottom + 4), size=ui.SMALL_PX, colour=ui.MUTED)
        ui.draw_text(surface, _("{fps} pictures a second", fps=text.number(self.fps())), (width - 40, 96),
                     size=ui.SMALL_PX, colour=ui.MUTED, anchor="topright")
