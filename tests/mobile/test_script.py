"""Script parsing and the command line's exit codes for scripts it cannot read."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cloud.testing import REPO_ROOT
from mobile.script import ScriptError, parse_script, split_expect


def test_parse_keeps_type_text_whole_and_drops_comments() -> None:
    steps = parse_script("wait catalog 5  # first\n\ntype a#b c\nexpect Your cart 3\nkey enter\n")
    assert steps == [(1, "wait", "catalog 5"), (3, "type", "a#b c"), (4, "expect", "Your cart 3"), (5, "key", "enter")]


@pytest.mark.parametrize("line", ["jump catalog", "key f13", "sleep soon", "wait", "wait catalog soon", "tap",
                                  'expect "a" b c'])
def test_bad_lines_are_refused_with_their_line_number(line: str) -> None:
    with pytest.raises(ScriptError, match="script line 2"):
        parse_script("wait catalog\n" + line)


def test_expect_takes_a_trailing_number_as_seconds_unless_quoted() -> None:
    assert split_expect("Your cart") == ("Your cart", 10.0)
    assert split_expect("Your cart 4") == ("Your cart", 4.0)
    assert split_expect('"Size 42"') == ("Size 42", 10.0)
    assert split_expect('"Size 42" 3') == ("Size 42", 3.0)


def _mobile(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "omnifit.cli", "mobile", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)


def test_unreadable_or_bad_scripts_exit_2_before_a_window_opens(tmp_path: Path) -> None:
    missing = _mobile("--script", str(tmp_path / "nope.txt"), "--data-dir", str(tmp_path))
    assert missing.returncode == 2 and "cannot read the script" in missing.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("wait catalog\nfly away\n")
    refused = _mobile("--script", str(bad), "--data-dir", str(tmp_path))
    assert refused.returncode == 2 and "script line 2: unknown step 'fly'" in refused.stderr


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    assert "--size must be WIDTHxHEIGHT" in _mobile("--size", "big", "--data-dir", str(tmp_path)).stderr
    assert "not available" in _mobile("--lang", "fr", "--data-dir", str(tmp_path)).stderr
