#!/usr/bin/env bash
# Distributed test with torchrun, one process per GPU (whole videos per rank):
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py options]
# Environment: NNODES, NODE_RANK, PORT, MASTER_ADDR, PYTHON (see
# tools/torchrun_launch.sh). Without CUDA, tools/test.py switches to the gloo
# backend.
set -e

if [ $# -lt 3 ]; then
  echo "usage: bash $0 CONFIG CHECKPOINT GPUS [tools/test.py options]" >&2
  exit 2
fi
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$TOOLS/torchrun_launch.sh" "$3" "$TOOLS/test.py" "$1" "$2" \
    --launcher pytorch "${@:4}"
