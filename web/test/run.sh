#!/usr/bin/env bash
# ctest's entry for the web UI's browser tests (tests/CMakeLists.txt).
# Without a built UI, node or chromium the test is skipped (exit 77), so a
# C++-only build never needs Node; `make test` sets CRS_UI_REQUIRED=1 and
# then any of them missing is a failure.
set -euo pipefail
web="$(cd "$(dirname "$0")/.." && pwd)"
missing=""
command -v node >/dev/null || missing="node"
[[ -d "$web/node_modules/playwright-core" ]] || missing="$missing web/node_modules (npm ci)"
[[ -f "$web/dist/app.js" ]] || missing="$missing web/dist (make ui)"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || missing="$missing chromium"
if [[ -n "$missing" ]]; then
  echo "web UI browser tests: missing$missing" >&2
  if [[ "${CRS_UI_REQUIRED:-0}" == 1 ]]; then exit 1; fi
  exit 77
fi
cd "$web"
exec node --test test/*.test.mjs
