#!/usr/bin/env bash
# A GPU check, on a CUDA machine where tools/setup_env.sh has run with a CUDA
# torch (it builds nothing new, downloads nothing):
#   bash tools/gpu_check.sh [WORK_DIR]         # default work_dirs/gpu_check
# 1. SynthVIS at 360x640 (24 train / 6 valid videos), unless already there
# 2. 50 training iterations of CiCo-Yolact R50 (T = 3, 6 clips per step) with
#    --amp: training it/s and peak GPU memory from the log
# 3. tools/test.py on the valid split (the chain runs; 50 iterations from a
#    random initialisation do not make a useful AP)
# 4. ONNX export of the clip network (when onnx is installed)
# 5. benchmark.py next to mmdet's YOLACT R50 in the same run: test ms per
#    output frame without and with data loading, and one training step
# Prints one summary at the end. Exits non-zero when there is no CUDA.
#
# A dry run of the same steps on the CPU checks the script itself (the
# figures are then CPU figures, without --amp, which mmengine runs only on
# accelerators); shorten it with the iteration and clip counts:
#   GPU_CHECK_CPU=1 GPU_CHECK_ITERS=2 GPU_CHECK_CLIPS=1 GPU_CHECK_WARMUP=1 \
#       bash tools/gpu_check.sh work_dirs/gpu_check_cpu
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY="$(command -v python)"
WORK="${1:-work_dirs/gpu_check}"
DATA=data/synthvis_360x640
CONFIG=configs/synthvis/cico_yolact_r50_gpu_check.py
YOLACT=mmdet::yolact/yolact_r50_1xb8-55e_coco.py
ITERS="${GPU_CHECK_ITERS:-50}"
CLIPS="${GPU_CHECK_CLIPS:-30}"
WARMUP="${GPU_CHECK_WARMUP:-5}"
say() { echo "[gpu_check] $*"; }
mkdir -p "$WORK"
SUMMARY="$WORK/summary.txt"
: > "$SUMMARY"

AMP=(--amp)
if [ "${GPU_CHECK_CPU:-0}" = 1 ]; then
  AMP=()
  say "CPU dry run: checks the script, its figures are not GPU figures" \
    | tee -a "$SUMMARY"
else
  "$PY" -c 'import sys, torch; ok = torch.cuda.is_available(); print("[gpu_check] torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0) if ok else "none"); sys.exit(0 if ok else 3)' \
    || { echo "[gpu_check] no CUDA device: nothing was run" >&2; exit 3; }
fi

if [ ! -f "$DATA/annotations/valid.json" ]; then
  say "1/5 SynthVIS 360x640 -> $DATA"
  "$PY" tools/dataset_converters/make_synthvis.py --out "$DATA" \
    --train-videos 24 --val-videos 6 --frames 10 30 --size 360 640 \
    --num-workers 4
fi

say "2/5 train $ITERS iterations ${AMP[*]:-without --amp}"
LOG_INTERVAL=$(( ITERS < 10 ? 1 : 10 ))
"$PY" tools/train.py "$CONFIG" "${AMP[@]}" --work-dir "$WORK/train" \
  --cfg-options train_cfg.max_iters="$ITERS" \
  train_cfg.val_interval=$(( ITERS + 1 )) \
  default_hooks.checkpoint.interval="$ITERS" \
  default_hooks.logger.interval="$LOG_INTERVAL" 2>&1 \
  | tee "$WORK/train.log" | grep -E "Iter\(train\)" | tail -n 3
"$PY" - "$WORK/train" "${AMP[*]:-no AMP}" >> "$SUMMARY" <<'PYEOF'
import glob, json, sys
recs = []
for path in sorted(glob.glob(sys.argv[1] + '/*/vis_data/scalars.json')):
    recs += [json.loads(line) for line in open(path)]
train = [r for r in recs if 'time' in r and 'loss' in r]
steady = train[1:] or train  # the first logged window holds the warm-up
time = sum(r['time'] for r in steady) / len(steady)
mem = max((r['memory'] for r in train if 'memory' in r), default=None)
mem = 'n/a (no CUDA)' if mem is None else f'{mem} MB'
amp = 'AMP' if sys.argv[2] == '--amp' else sys.argv[2]
print(f'CiCo-Yolact R50 train ({amp}, 6 clips x 3 frames, 360x640): '
      f'{1 / time:.2f} it/s ({time:.3f} s/it), peak memory {mem}')
PYEOF

say "3/5 test on the valid split"
"$PY" tools/test.py "$CONFIG" "$WORK/train/iter_$ITERS.pth" --trust-checkpoint \
  --work-dir "$WORK/test" 2>&1 | tee "$WORK/test.log" | tail -n 4

say "4/5 ONNX export"
if [ -f tools/deployment/export_onnx.py ] && "$PY" -c "import onnx" 2>/dev/null; then
  "$PY" tools/deployment/export_onnx.py "$CONFIG" "$WORK/train/iter_$ITERS.pth" \
    --trust-checkpoint --out "$WORK/cico_r50.onnx" --shape 384 640 \
    | grep -v "^Loads checkpoint" | tee -a "$SUMMARY"
else
  echo "ONNX export: skipped (tools/deployment/export_onnx.py or onnx missing)" \
    | tee -a "$SUMMARY"
fi

say "5/5 benchmark next to mmdet YOLACT R50"
BENCH=(tools/analysis_tools/benchmark.py "$CONFIG" --num-clips "$CLIPS"
       --warmup "$WARMUP"
       --cfg-options model.test_cfg.score_thr=0.0 model.test_cfg.nms_pre=50
       --compare "$YOLACT" --compare-cfg-options model.test_cfg.score_thr=0.0
       model.test_cfg.nms_pre=50)
{
  echo "--- test, no data loading (synthetic frames)"
  "$PY" "${BENCH[@]}"
  echo "--- test, with data loading (the valid split)"
  "$PY" "${BENCH[@]}" --with-loading
  echo "--- one training step"
  "$PY" "${BENCH[@]}" --train
} 2>&1 | tee -a "$SUMMARY" | tail -n 30

say "summary ($SUMMARY):"
cat "$SUMMARY"
