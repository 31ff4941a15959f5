"""Start the app: Kivy's settings first (before any window exists), then the asyncio loop Kivy runs in."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from mobile.config import MobileConfig

if TYPE_CHECKING:
    from mobile.app import ShopperApp
    from mobile.script import ScriptReport


def prepare_kivy(config: MobileConfig) -> None:
    """Environment and ``kivy.config`` settings that only count before Kivy's window is made."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # our logging, not Kivy's own console handler
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")  # not a probe of xclip/xsel, which the set-up lacks
    kivy_home = config.data_dir / "kivy"
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(kivy_home))
    from kivy.config import Config

    width, height = config.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0" if config.headless else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "log_level", "warning")
    Config.set("graphics", "vsync", "0")  # a virtual display has no refresh to wait for


def make_app(config: MobileConfig) -> ShopperApp:
    prepare_kivy(config)
    from mobile.app import ShopperApp

    return ShopperApp(config)


async def serve(app: ShopperApp) -> None:
    """Run ``app`` until its window closes (or a script stops it), then close its cloud client."""
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        await app.close()


def run_app(config: MobileConfig, *, script: str | None = None, screenshot_dir: Path | None = None) -> ScriptReport | None:
    """Open the app; with ``script`` play it and return the report (None for an interactive run)."""
    app = make_app(config)
    from mobile.script import ScreenRecorder, ScriptRunner

    runner = ScriptRunner(app, script, screenshot_dir) if script is not None else None
    if runner is not None:
        app.on_started.append(runner.start)
    elif screenshot_dir is not None:
        app.on_started.append(ScreenRecorder(screenshot_dir).start)
    asyncio.run(serve(app))
    return runner.report if runner is not None else None
