"""The kiosk's configuration: where the cloud is, which store, which cameras, how long screens wait."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omnifit.i18n import LANGUAGES, LanguageError, check_language

CAMERA_SOURCES = ("synthetic", "recorded", "realsense")
RIG_KINDS = ("foot", "body")
MIN_LONG_SIDE, MIN_SHORT_SIDE = 1280, 800  # landscape 1280x800 up, or portrait (an upright kiosk) 800x1280 up
TOUCH_TARGET_MM = 9.0  # the smallest button a finger hits reliably


@dataclass(frozen=True)
class KioskConfig:
    """Everything a store sets for one kiosk; checked on construction.

    targets : cloud replicas as ``host:port`` (calls fail over between them).
    store_id : the store this kiosk stands in (its device token's store); empty: the cloud's first store.
    device_token : the kiosk's device token from ``omnifit admin issue-device-token``.
    device_token_file : where that token was read from; the kiosk writes its renewed token back there
        (a device token lives a week and the kiosk renews it past half its life).
    camera : the depth source for scans: ``synthetic`` (the virtual rig with a generated shopper),
        ``recorded`` (``camera_path``, a recorded RGB-D folder) or ``realsense`` (needs ``calibration``).
    calibration : the rig's ChArUco calibration JSON (admin mode shows it; RealSense scans need it).
    rig : the kind of camera rig, ``foot`` or ``body``: what admin mode's guided calibration walks
        staff through (one board capture, or 13 for a six-camera body booth). Scans are of feet.
    face_photo : the synthetic face camera's subject (a photo rendered onto a 3D face through the
        kiosk's depth camera model); None: face pay is off on this kiosk (card only).
    data_dir : the kiosk's own files: the offline outbox and catalog cache, its payment journal.
    size : the screen in pixels, landscape (1920x1080) or portrait (1080x1920); dpi its pixel density,
        which sets the smallest touch target (``TOUCH_TARGET_MM``).
    lang : the language the attract screen starts in (``zh_CN`` or ``en``); shoppers switch it.
    dev : a development kiosk: the card screen offers the sandbox network's test cards.
    mirror_camera : the AR mirror's camera, ``camera:N`` (a webcam) or ``video:FILE`` (looped).
    """

    targets: tuple[str, ...]
    store_id: str = ""
    device_token: str | None = None
    device_token_file: Path | None = None
    camera: str = "synthetic"
    camera_path: Path | None = None
    calibration: Path | None = None
    rig: str = "foot"
    face_photo: Path | None = None
    data_dir: Path = field(default_factory=lambda: Path.home() / ".local" / "share" / "omnifit-kiosk")
    size: tuple[int, int] = (1280, 800)
    fullscreen: bool = False
    shopper_idle_s: float = 120.0
    staff_idle_s: float = 90.0
    scan_seed: int = 0
    tls_root_cert: Path | None = None
    warm_up: bool = True  # load the scanning stack in the work process at start (a quick first scan)
    lang: str = LANGUAGES[0]
    dev: bool = False
    dpi: float = 96.0
    mirror_camera: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "lang", check_language(self.lang))
        except LanguageError as exc:
            raise ValueError(str(exc)) from None
        if isinstance(self.targets, str):
            object.__setattr__(self, "targets", (self.targets,))
        if not self.targets or not all(isinstance(t, str) and ":" in t for t in self.targets):
            raise ValueError(f"targets must be host:port strings; got {self.targets!r}")
        if self.camera not in CAMERA_SOURCES:
            raise ValueError(f"unknown camera source {self.camera!r}; expected one of {list(CAMERA_SOURCES)}")
        if self.rig not in RIG_KINDS:
            raise ValueError(f"unknown rig kind {self.rig!r}; expected one of {list(RIG_KINDS)}")
        if self.camera == "recorded" and self.camera_path is None:
            raise ValueError("camera 'recorded' needs camera_path, the recorded RGB-D folder")
        if self.camera == "realsense" and self.calibration is None:
            raise ValueError("camera 'realsense' needs calibration, the rig's calibration JSON")
        if self.face_photo is not None and not Path(self.face_photo).is_file():
            raise ValueError(f"face_photo {self.face_photo} is not a file")
        width, height = self.size
        if max(width, height) < MIN_LONG_SIDE or min(width, height) < MIN_SHORT_SIDE:
            raise ValueError(f"screen size {width}x{height} is too small; the kiosk needs at least "
                             f"{MIN_LONG_SIDE}x{MIN_SHORT_SIDE} (landscape) or {MIN_SHORT_SIDE}x{MIN_LONG_SIDE} (portrait)")
        if not 50 <= self.dpi <= 400:
            raise ValueError(f"dpi {self.dpi} is not a screen's pixel density; expected 50 to 400")
        kind, _, where = self.mirror_camera.partition(":")
        if self.mirror_camera and (kind not in ("camera", "video") or not where
                                   or (kind == "camera" and not where.isdigit())):
            raise ValueError(f"mirror camera {self.mirror_camera!r}: expected camera:N (a webcam) or video:FILE")
        if kind == "video" and not Path(where).is_file():
            raise ValueError(f"mirror camera video {where} is not a file")
        if self.shopper_idle_s <= 0 or self.staff_idle_s <= 0:
            raise ValueError("idle timeouts must be positive seconds")

    @property
    def portrait(self) -> bool:
        return self.size[1] > self.size[0]

    @property
    def min_target_px(self) -> int:
        """The smallest touch target in pixels at this screen's density."""
        return round(TOUCH_TARGET_MM / 25.4 * self.dpi)

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite"

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "payments.jsonl"
