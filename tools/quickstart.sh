#!/usr/bin/env bash
# CiCo end to end on a CPU with no data and no weights:
#   install -> generate SynthVIS -> browse -> train CiCo-Yolact (R18, ~15 min on
#   2 cores) -> test (AP) -> CodaLab-style export -> demo video.
#   bash tools/quickstart.sh            # idempotent: finished steps are skipped
#   FORCE=1 bash tools/quickstart.sh    # redo everything
# Environment (defaults in brackets):
#   CICO_DATA [data/synthvis]  CICO_WORK [work_dirs/quickstart]
#   CICO_SYNTHVIS_ARGS ["--train-videos 100 --val-videos 20 --frames 10 30 --size 192 320 --seed 0"]
#   CICO_OPTIONS [""]  extra --cfg-options key=value pairs for every step
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CONFIG=configs/cico_yolact_r18_synthvis.py
DATA="${CICO_DATA:-data/synthvis}"
WORK="${CICO_WORK:-work_dirs/quickstart}"
SYNTH_ARGS="${CICO_SYNTHVIS_ARGS:---train-videos 100 --val-videos 20 --frames 10 30 --size 192 320 --seed 0}"
say() { echo "[quickstart] $*"; }

bash tools/setup_env.sh
PY="$ROOT/.venv/bin/python"
[ "${FORCE:-0}" = 1 ] && rm -rf "$DATA" "$WORK"
# shellcheck disable=SC2206
OPTIONS=(train_dataloader.dataset.data_root="$DATA/" val_dataloader.dataset.data_root="$DATA/"
         test_dataloader.dataset.data_root="$DATA/" ${CICO_OPTIONS:-})

if [ ! -f "$DATA/annotations/valid.json" ]; then
  say "1/6 generate SynthVIS into $DATA"
  # shellcheck disable=SC2086
  "$PY" tools/dataset_converters/make_synthvis.py --out "$DATA" $SYNTH_ARGS
else
  say "1/6 SynthVIS already in $DATA"
fi

say "2/6 browse training clips -> $WORK/browse"
"$PY" tools/analysis_tools/browse_dataset.py "$CONFIG" \
  --output-dir "$WORK/browse" --num-clips 4 --cfg-options "${OPTIONS[@]}"

if [ ! -f "$WORK/TRAINED" ]; then
  say "3/6 train $CONFIG (resumes if interrupted)"
  RESUME=()
  [ -f "$WORK/last_checkpoint" ] && RESUME=(--resume)
  "$PY" tools/train.py "$CONFIG" --work-dir "$WORK" ${RESUME[@]+"${RESUME[@]}"} \
    --cfg-options "${OPTIONS[@]}"
  touch "$WORK/TRAINED"
else
  say "3/6 already trained (rm $WORK/TRAINED to train again)"
fi
# a weights-only copy of our own training checkpoint: test.py and the demo
# load it without --trust-checkpoint (tools/model_converters/publish_model.py)
CKPT="$("$PY" tools/model_converters/publish_model.py \
  "$(cat "$WORK/last_checkpoint")" "$WORK/published/cico_synthvis.pth" \
  --trust-checkpoint | tail -n 1)"
say "published $CKPT"

say "4/6 test: YouTube-VIS AP on the SynthVIS valid split"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/test" \
  --cfg-options "${OPTIONS[@]}"

say "5/6 export a submission (results.json + zip)"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK/test" \
  --format-only --outfile-prefix "$WORK/synthvis_valid" --cfg-options "${OPTIONS[@]}"

VIDEO="$DATA/valid/JPEGImages/$(ls "$DATA/valid/JPEGImages" | head -n 1)"
say "6/6 demo on $VIDEO -> $WORK/demo.mp4"
"$PY" tools/demo/video_demo.py "$VIDEO" "$CONFIG" "$CKPT" \
  --out "$WORK/demo.mp4" --score-thr 0.3

say "done: $WORK/{browse/,synthvis_valid.submission_file.zip,demo.mp4}"
