#!/usr/bin/env bash
# Set up and run the hotline on the embedded defaults: SQLite under instance/ (or HOTLINE_DATA_DIR),
# the inline job queue, the bundled speech engine. Try it with `.venv/bin/hotline call` meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/hotline init
.venv/bin/hotline menus check
exec .venv/bin/hotline serve "$@"
