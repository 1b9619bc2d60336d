#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/python -m pytest "$@"
