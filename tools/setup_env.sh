#!/usr/bin/env bash
# Install everything CiCo-MMDet needs. Idempotent: a second run only checks and exits.
#
#   bash tools/setup_env.sh            # creates/uses .venv in the repo
#   bash tools/setup_env.sh --no-venv  # installs into the active environment (conda users)
#
# Environment:
#   TORCH_SPEC      pip spec of torch (default torch==2.13.0; on these CPU machines a CPU build on disk).
#                   CUDA users: e.g. TORCH_SPEC="torch==2.4.1 --index-url https://download.pytorch.org/whl/cu121"
#   FORCE_CUDA      1 builds mmcv's CUDA ops (default: 1 when torch sees CUDA, else 0)
#   TORCH_CUDA_ARCH_LIST  e.g. "8.0;9.0", passed to mmcv's build
#   CICO_CACHE_DIR  where the built mmcv wheel is cached (default ~/.cache/cico-mmdet)
#   CICO_VENV       venv path (default <repo>/.venv)
#   MAX_JOBS        parallel compile jobs for mmcv (default: number of cores)
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USE_VENV=1
for arg in "$@"; do
  case "$arg" in
    --no-venv) USE_VENV=0 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "[setup_env] unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
MMCV_VERSION="2.1.0"
CACHE_DIR="${CICO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cico-mmdet}"
VENV="${CICO_VENV:-$ROOT/.venv}"
STEP="start"
HINT=""

step() { STEP="$1"; HINT="${2:-}"; echo "[setup_env] $STEP"; }
on_error() {
  echo "[setup_env] FAILED at step: $STEP" >&2
  [ -n "$HINT" ] && echo "[setup_env] what to do: $HINT" >&2
  exit 1
}
trap on_error ERR

step "select python environment" "install python3 (>=3.8) with the venv module, or pass --no-venv inside conda"
if [ "$USE_VENV" = 1 ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  PY="$VENV/bin/python"
else
  PY="$(command -v python || command -v python3)"
fi
PIP=("$PY" -m pip --disable-pip-version-check)

# Fingerprint of everything that decides what is installed; a match means nothing to do.
STAMP_FILE="$("$PY" -c 'import sys; print(sys.prefix)')/.cico_setup_stamp"
FINGERPRINT="$( { echo "$TORCH_SPEC ${FORCE_CUDA:-} ${TORCH_CUDA_ARCH_LIST:-} $MMCV_VERSION";
                  cat "$ROOT"/requirements/*.txt "$ROOT/setup.cfg"; } | sha256sum | cut -c1-16)"

versions_line() {
  "$PY" - <<'EOF'
import torch, mmcv, mmengine, mmdet
try:
    from mmcv.ops import nms  # noqa: F401  (needs the compiled mmcv._ext)
    import mmcv._ext  # noqa: F401
    ops = 'yes'
except Exception:  # report, do not hide: the line says 'no'
    ops = 'no'
print(f'torch {torch.__version__} / mmcv {mmcv.__version__} (ops {ops}) / '
      f'mmengine {mmengine.__version__} / mmdet {mmdet.__version__} / '
      f'CUDA {"yes" if torch.cuda.is_available() else "no"}')
EOF
}

if [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$FINGERPRINT" ] && versions_line >/dev/null 2>&1 \
   && "$PY" -c 'import projects.cico' >/dev/null 2>&1; then
  echo "[setup_env] environment up to date ($VENV)"
  versions_line
  exit 0
fi

step "build tools (pip, setuptools<81, ninja, wheel)" "check that PyPI is reachable (pip config list)"
"${PIP[@]}" install -q --upgrade pip
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"

step "torch ($TORCH_SPEC)" "set TORCH_SPEC to a torch build for your platform, e.g. TORCH_SPEC='torch==2.4.1 --index-url https://download.pytorch.org/whl/cu121'"
# shellcheck disable=SC2086
"${PIP[@]}" install -q $TORCH_SPEC
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"

TORCH_TAG="$("$PY" -c 'import torch, sys; print(f"torch{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}")')"
TORCH_MAJOR_MINOR="$("$PY" -c 'import torch; print(".".join(torch.__version__.split("+")[0].split(".")[:2]))')"
if [ -z "${FORCE_CUDA:-}" ]; then
  FORCE_CUDA="$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')"
fi
WHEEL_DIR="$CACHE_DIR/wheels/mmcv-$MMCV_VERSION-$TORCH_TAG-cuda$FORCE_CUDA-$(uname -m)"

if ! "$PY" -c "import mmcv, mmcv._ext, sys; sys.exit(mmcv.__version__ != '$MMCV_VERSION')" >/dev/null 2>&1; then
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    step "build mmcv $MMCV_VERSION with ops (about 15 min on 2 cores; cached in $WHEEL_DIR)" \
         "read the compiler error above; CUDA builds need nvcc matching torch.version.cuda and FORCE_CUDA=1"
    SRC="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$SRC"
    tar -xzf "$SRC"/mmcv-"$MMCV_VERSION".tar.gz -C "$SRC"
    # torch >= 2.14 requires C++20, while mmcv 2.1.0 hard-codes -std=c++17.
    if "$PY" -c "import sys; v=tuple(map(int,'$TORCH_MAJOR_MINOR'.split('.'))); sys.exit(v < (2, 14))"; then
      sed -i 's/-std=c++17/-std=c++20/g' "$SRC/mmcv-$MMCV_VERSION/setup.py"
    fi
    mkdir -p "$WHEEL_DIR"
    MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" wheel --no-build-isolation --no-deps "$SRC/mmcv-$MMCV_VERSION" -w "$WHEEL_DIR"
    rm -rf "$SRC"
  fi
  step "install cached mmcv wheel" "delete $WHEEL_DIR and run again to rebuild it"
  "${PIP[@]}" install -q "$WHEEL_DIR"/mmcv-*.whl
fi

step "mmengine, mmdet, test requirements" "check that PyPI is reachable"
"${PIP[@]}" install -q -r "$ROOT/requirements/mminstall.txt" -r "$ROOT/requirements/tests.txt"

step "pip install -e . (projects.cico importable everywhere)" "check setup.cfg"
"${PIP[@]}" install -q --no-build-isolation --no-deps --config-settings editable_mode=compat -e "$ROOT"

step "check imports" "run: $PY -c 'import mmdet.models, projects.cico' to see the error"
"$PY" -c 'import mmdet.models, projects.cico' >/dev/null
echo "$FINGERPRINT" > "$STAMP_FILE"
versions_line
