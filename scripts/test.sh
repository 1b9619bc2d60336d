#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, after the lint (scripts/lint.sh). With
# arguments, only pytest runs, with them: e.g. `./scripts/test.sh -m "not slow" -n 2`, the fast tier.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
if [[ $# -eq 0 ]]; then
  ./scripts/lint.sh
fi
exec .venv/bin/python -m pytest "$@"
