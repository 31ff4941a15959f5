#!/usr/bin/env bash
# Lint and type checks that `make test` (and so CI) runs before the tests:
# ruff for errors, style and import order; mypy, strict on omnifit, cloud and payments
# (pyproject.toml holds both configurations).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/mypy
