#!/usr/bin/env bash
# Distributed training with torchrun (DDP), one process per GPU:
#   bash tools/dist_train.sh CONFIG GPUS [tools/train.py options]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1),
#   PYTHON (python of the active environment; when set, it runs
#   `$PYTHON -m torch.distributed.run`, else `torchrun` from PATH).
# Without CUDA, tools/train.py switches to the gloo backend, so GPUS processes
# train on the CPU.
set -e

if [ $# -lt 2 ]; then
  echo "usage: bash $0 CONFIG GPUS [tools/train.py options]" >&2
  exit 2
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ -z "${PYTHON:-}" ] && command -v torchrun >/dev/null 2>&1; then
  LAUNCH=(torchrun)
else
  LAUNCH=("${PYTHON:-python}" -m torch.distributed.run)
fi

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
"${LAUNCH[@]}" \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
