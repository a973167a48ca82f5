#!/usr/bin/env bash
# Install what the hotline needs on a fresh Debian/Ubuntu machine: system packages, then a virtualenv
# in .venv with the project and its dev tools. Safe to run again: it only adds what is missing.
# Usage: bash scripts/setup.sh [--with-test-services]
set -euo pipefail
cd "$(dirname "$0")/.."

want_services=0
[ "${1:-}" = "--with-test-services" ] && want_services=1

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

packages=(python3-venv python3-dev espeak-ng)
if [ "$want_services" = 1 ]; then
  packages+=(chromium chromium-driver)
  command -v redis-server >/dev/null || packages+=(redis-server)
  command -v pg_ctlcluster >/dev/null || packages+=(postgresql)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# chromium-driver is named chromium-chromedriver on some Ubuntu releases; python3-venv may come with pyenv
if [ "${#missing[@]}" -gt 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11 or newer is needed (found $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "==> installing the hotline into .venv (pip)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
