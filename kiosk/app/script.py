"""Scripted kiosk sessions for store QA and tests: taps, typing and waits, with screenshots.

A script is plain text, one step per line (``#`` starts a comment)::

    wait attract 20          # until the named screen shows (timeout in seconds, default 30)
    tap Scan my feet         # the button with this label on the current screen
    idle 60                  # until the screen's background jobs are done
    type alice               # characters, as a keyboard types them
    key return               # one key by its pygame name (return, escape, tab, backspace, f12)
    screenshot 01-cart       # saves 01-cart.png into the screenshot folder
    expect 您的购物车 10      # until this text is on screen (timeout in seconds, default 30)
    sleep 0.5

The run stops at the first step that fails and says which one and why.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pygame

from kiosk.app import ui
from kiosk.app.app import KioskApp
from omnifit.errors import ErrorCode, OmnifitError


class ScriptError(OmnifitError):
    """A script line that cannot be run, or a step that failed."""

    code = ErrorCode.INVALID_ARGUMENT


@dataclass
class ScriptReport:
    ok: bool = True
    steps: list[dict[str, object]] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "steps": self.steps, "screenshots": self.screenshots}


COMMANDS = ("wait", "tap", "idle", "type", "key", "screenshot", "sleep", "expect")


def parse_script(text: str) -> list[tuple[int, str, str]]:
    """(line number, command, argument) per step; ScriptError on an unknown command."""
    steps = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("type ") else raw.strip()
        if not line:
            continue
        command, _, argument = line.partition(" ")
        if command not in COMMANDS:
            raise ScriptError(f"script line {number}: unknown step {command!r}; expected one of {list(COMMANDS)}",
                              line=number)
        steps.append((number, command, argument.strip()))
    return steps


def run_script(app: KioskApp, text: str, screenshot_dir: Path | None) -> ScriptReport:
    report = ScriptReport()
    for number, command, argument in parse_script(text):
        started = time.perf_counter()
        step: dict[str, object] = {"line": number, "step": f"{command} {argument}".strip()}
        try:
            shot = _run_step(app, command, argument, screenshot_dir)
            if shot is not None:
                report.screenshots.append(str(shot))
        except (LookupError, TimeoutError, ValueError) as exc:
            step["error"] = str(exc)
            report.ok = False
        step["ms"] = round((time.perf_counter() - started) * 1000, 1)
        step["screen"] = app.screen.name
        report.steps.append(step)
        if not report.ok:
            break
    return report


def _run_step(app: KioskApp, command: str, argument: str, screenshot_dir: Path | None) -> Path | None:
    if command == "wait":
        name, _, timeout = argument.partition(" ")
        app.wait_for(name, float(timeout or 30))
    elif command == "expect":
        wanted, timeout = _text_and_timeout(argument)
        try:
            app.wait_for(lambda: app.shows(wanted), timeout)
        except TimeoutError:
            shown = " | ".join(line for line in ui.DRAWN if line.strip())
            raise TimeoutError(f"{wanted!r} not on screen {app.screen.name} after {timeout} s; it shows: {shown}") from None
    elif command == "idle":
        app.wait_idle(float(argument or 30))
    elif command == "tap":
        app.tap(argument)
    elif command == "type":
        app.type_text(argument)
    elif command == "key":
        key = pygame.key.key_code(argument)
        app.press_key(key, "\r" if key == pygame.K_RETURN else "")
    elif command == "sleep":
        deadline = time.monotonic() + float(argument)
        while time.monotonic() < deadline:
            app.step([])
            time.sleep(1 / 30)
    elif command == "screenshot":
        if screenshot_dir is None:
            raise ValueError("a screenshot step needs --screenshot DIR")
        app.step([])
        return app.screenshot(screenshot_dir / f"{argument or app.screen.name}.png")
    return None


def _text_and_timeout(argument: str) -> tuple[str, float]:
    """``TEXT [S]``: the text, and the seconds after it when the last word is a number (30 otherwise)."""
    head, _, last = argument.rpartition(" ")
    try:
        return (head, float(last)) if head else (argument, 30.0)
    except ValueError:
        return argument, 30.0
