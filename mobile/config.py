"""Settings of one run of the shopper app, checked when made."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from omnifit.i18n import check_language

PHONE_SIZE = (390, 844)  # logical pixels of a common phone, portrait


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/omnifit-mobile`` (``~/.local/share/omnifit-mobile``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "omnifit-mobile"


@dataclass(frozen=True)
class MobileConfig:
    """targets : cloud replicas ``host:port``; lang : ``zh_CN`` or ``en``; data_dir : session, outbox, cache."""

    targets: tuple[str, ...] = ("127.0.0.1:50051",)
    lang: str = ""  # empty: the language chosen last time, else zh_CN
    data_dir: Path = default_data_dir()
    size: tuple[int, int] = PHONE_SIZE
    tls_root_cert: Path | None = None
    headless: bool = False  # scripted runs: no transitions, every screen drawn at once

    def __post_init__(self) -> None:
        if not self.targets or not all(isinstance(t, str) and ":" in t for t in self.targets):
            raise ValueError(f"targets must be host:port strings, got {list(self.targets)!r}")
        if self.lang:
            object.__setattr__(self, "lang", check_language(self.lang))
        width, height = self.size
        if not (240 <= width <= 2000 and 400 <= height <= 3000):
            raise ValueError(f"size must be between 240x400 and 2000x3000 logical pixels, got {width}x{height}")

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite"

    @property
    def session_path(self) -> Path:
        return self.data_dir / "session.json"
