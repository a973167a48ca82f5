#!/usr/bin/env bash
# Set up and pass the tests: system packages, .venv, PostgreSQL and Redis, then lint, types and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-services
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-$(bash scripts/services.sh)}"
echo "==> ruff";   .venv/bin/ruff check .
echo "==> mypy";   .venv/bin/mypy; .venv/bin/mypy benchmarks
echo "==> pytest"; exec .venv/bin/pytest "$@"
