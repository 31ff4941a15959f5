#!/usr/bin/env bash
# Runs the whole test suite inside .venv; Kivy needs an X server, so the run
# goes under Xvfb when no display is set.
set -euo pipefail
cd "$(dirname "$0")/.."
export SDL_VIDEODRIVER=${SDL_VIDEODRIVER:-dummy}
export SDL_AUDIODRIVER=${SDL_AUDIODRIVER:-dummy}
export KIVY_NO_ARGS=1 KIVY_NO_CONSOLELOG=1 KIVY_HOME="${KIVY_HOME:-$PWD/.venv/kivy-home}"
export PYTHONDONTWRITEBYTECODE=1
cmd=(.venv/bin/python -m pytest "$@")
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  exec xvfb-run -a -s "-screen 0 1280x800x24" "${cmd[@]}"
fi
exec "${cmd[@]}"
