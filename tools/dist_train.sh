#!/usr/bin/env bash
# Distributed training with torchrun (DDP), one process per GPU:
#   bash tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# Environment: NNODES, NODE_RANK, PORT, MASTER_ADDR, PYTHON (see
# tools/torchrun_launch.sh). Without CUDA, tools/train.py switches to the gloo
# backend, so GPUS processes train on the CPU.
set -e

if [ $# -lt 2 ]; then
  echo "usage: bash $0 CONFIG GPUS [tools/train.py options]" >&2
  exit 2
fi
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec bash "$TOOLS/torchrun_launch.sh" "$2" "$TOOLS/train.py" "$1" \
    --launcher pytorch "${@:3}"
