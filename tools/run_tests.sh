#!/usr/bin/env bash
# The test suite, after making sure the environment is installed:
#   bash tools/run_tests.sh                 # everything (CPU, ~10 min on 2 cores)
#   bash tools/run_tests.sh tests/test_models -k tracker   # any pytest args
# CICO_NO_VENV=1 uses the active environment instead of .venv (conda users).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "${CICO_NO_VENV:-0}" = 1 ]; then
  bash tools/setup_env.sh --no-venv
  PY="$(command -v python || command -v python3)"
else
  bash tools/setup_env.sh
  PY="$ROOT/.venv/bin/python"
fi
echo "[run_tests] $PY -m pytest $*"
exec "$PY" -m pytest "$@"
