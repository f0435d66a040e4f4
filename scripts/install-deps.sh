#!/usr/bin/env bash
# Installs the Debian 12 packages OpenCRS needs to build, test and benchmark.
# PostgreSQL: libpq for the backend, the server for the tests (they start
# throwaway clusters of their own; the package's system service is not used).
# Idempotent: only missing packages are installed; apt-get update runs first
# when anything is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libzstd-dev libutf8proc-dev libjemalloc-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libpq-dev postgresql-15
  libgtest-dev libgmock-dev libbenchmark-dev
  curl python3
  chromium  # the web UI's browser tests (web/test, driven by playwright-core)
)
# The web UI is built with npm (web/package-lock.json). Debian's nodejs is
# used only when no node is on the PATH (a newer one may be installed).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi
if [[ "${CRS_WITH_BENCH:-0}" == 1 ]]; then packages+=(wrk nginx-light bc); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then exit 0; fi

sudo=""
if [[ $(id -u) != 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
