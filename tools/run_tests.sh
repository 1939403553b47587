#!/usr/bin/env bash
# The test suite, after making sure the environment is installed:
#   bash tools/run_tests.sh                 # everything (CPU, ~12 min on 2 cores)
#   bash tools/run_tests.sh tests/test_models -k tracker   # any pytest args
# CICO_NO_VENV=1 uses the active environment instead of .venv (conda users).
# CICO_TEST_WORKERS (default 2): pytest-xdist processes, one test file each at
# a time (--dist loadfile, so a file's module fixtures are built once), one
# torch thread each; 1 runs everything in this process with torch's threads.
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
WORKERS="${CICO_TEST_WORKERS:-2}"
XDIST=()
if [ "$WORKERS" -gt 1 ]; then
  XDIST=(-n "$WORKERS" --dist loadfile)
  export OMP_NUM_THREADS=1  # the workers share the cores
fi
echo "[run_tests] $PY -m pytest ${XDIST[*]} $*"
exec "$PY" -m pytest ${XDIST[@]+"${XDIST[@]}"} "$@"
