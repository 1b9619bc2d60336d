#!/usr/bin/env bash
# Create .venv and install graphmem with everything its tests and the quick start need.
# Idempotent: re-running only reinstalls when pyproject.toml changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$py" -m venv .venv
fi
# System packages some features need, from apt when the command is missing: apt_install
# COMMAND PACKAGE WHAT-NEEDS-IT.
apt_install() {
  if command -v "$1" >/dev/null || ! command -v apt-get >/dev/null; then return 0; fi
  local as_root=""
  [[ $(id -u) == 0 ]] || as_root="sudo -n"
  if [[ -z $as_root ]] || sudo -n true 2>/dev/null; then
    echo "installing $2 (for $3)" >&2
    $as_root apt-get update -qq && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "$1 is missing and apt-get needs root: $3 will not run" >&2
  fi
}
# The view's browser test (tests/test_view_browser.py) drives Debian's chromium through Playwright.
apt_install chromium chromium "the browser test of graphmem view"
# TextWorldExpress (graphmem eval-agents --suite twx) runs its games in a JVM.
apt_install java default-jre-headless "the TextWorldExpress games"
stamp=.venv/.graphmem-installed
want=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
pip() { .venv/bin/python -m pip --disable-pip-version-check "$@"; }
# The CPU build of torch first, so sentence-transformers never pulls a CUDA build.
pip install -q "torch==2.13.0"
echo "installing graphmem and its dependencies (the first run builds llama-cpp-python: ~10 min)" >&2
# llama.cpp for any x86-64 with AVX2, not tuned to the build machine: a native build enables AMX,
# whose tile instructions crash (SIGSEGV in llama_decode) where the kernel or VM does not allow them.
export CMAKE_ARGS=${CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF"}
# Built once per version and build flags into our own wheel folder, never taken from pip's wheel
# cache (pip keys it by version only: it may hold a native build made elsewhere).
llama=$(grep -o '"llama-cpp-python==[^"]*"' pyproject.toml | tr -d '"')
wheels=${GRAPHMEM_WHEEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/graphmem/wheels}/$(echo "$llama $CMAKE_ARGS" | sha256sum | cut -c1-12)
if ! compgen -G "$wheels/llama_cpp_python-*.whl" >/dev/null; then
  pip wheel -q --no-cache-dir --no-deps -w "$wheels" "$llama"
fi
pip install -q "$wheels"/llama_cpp_python-*.whl
pip install -q -e ".[games,local,test]"
echo "$want" > "$stamp"
