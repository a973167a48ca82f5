#!/usr/bin/env bash
# Set up and run the hotline on the embedded defaults: SQLite under instance/ (or HOTLINE_DATA_DIR),
# the inline job queue, the bundled speech engine. Try it with `.venv/bin/hotline call` meanwhile.
# Arguments go to `hotline serve`; its --port also goes to `hotline init`, so hotline.env (and with it
# `hotline call` and the webhook signatures) names the port the server listens on.
set -euo pipefail
cd "$(dirname "$0")/.."
port=5000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --port) port="${args[i + 1]:-$port}" ;;
    --port=*) port="${args[i]#--port=}" ;;
  esac
done
bash scripts/setup.sh
.venv/bin/hotline init --port "$port"
.venv/bin/hotline menus check
exec .venv/bin/hotline serve "$@"
