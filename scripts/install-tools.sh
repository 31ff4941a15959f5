#!/usr/bin/env bash
# Non-Python tools the tests use: the Khronos glTF validator (npm package
# gltf-validator), installed into tools/node_modules from tools/package.json.
set -euo pipefail
cd "$(dirname "$0")/../tools"
if [ -f package.json ] && command -v npm >/dev/null; then
  npm install --no-audit --no-fund --silent
fi
