#!/usr/bin/env bash
# Set up (idempotent) and lint: ruff, mypy and the import-linter layer contracts (pyproject.toml).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports
