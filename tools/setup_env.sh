#!/usr/bin/env bash
# Idempotent environment setup for mmgrounding (`make setup` calls this).
#
# Creates .venv (or uses $VENV), installs torch, builds mmcv 2.1.0 with ops once and caches
# the wheel outside the repository ($MMGROUNDING_CACHE, default ~/.cache/mmgrounding), then
# installs mmengine, mmdet, the runtime and test requirements and mmgrounding in editable
# mode. A second run only checks what is there and takes seconds.
#
# Environment:
#   VENV               virtual environment folder (default: .venv)
#   PYTHON             interpreter that creates it (default: python3)
#   TORCH_SPEC         torch requirement when torch is missing (default: torch==2.13.0, which
#                      pip takes from the local CPU wheel on this machine kind); an already
#                      installed torch (e.g. a CUDA build) is always kept.
#   MMGROUNDING_CACHE  wheel cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/mmgrounding)
#   MAX_JOBS           parallel compile jobs for mmcv (default: number of cores)
#   CFLAGS, CXXFLAGS   compile flags of the mmcv build (default: Python's, without -g)
#   CONSTRAINTS        a pip constraints file applied to every install (`make setup
#                      CONSTRAINTS=requirements/constraints.txt` installs the exact releases of
#                      the last tested environment); empty: the ranges of requirements/*.txt.
set -euo pipefail

CONSTRAINTS="${CONSTRAINTS:-}"
if [ -n "$CONSTRAINTS" ]; then
    [ -f "$CONSTRAINTS" ] || { printf '[setup] constraints file %s not found\n' "$CONSTRAINTS"; exit 1; }
    CONSTRAINTS="$(cd "$(dirname "$CONSTRAINTS")" && pwd)/$(basename "$CONSTRAINTS")"
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
CACHE="${MMGROUNDING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmgrounding}"
MMCV_VERSION=2.1.0
STAMP="$VENV/.mmgrounding-setup"

log() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check --no-input -q)
PIN=()
if [ -n "$CONSTRAINTS" ]; then
    PIN=(-c "$CONSTRAINTS")
    PIP+=("${PIN[@]}")
    log "every install constrained by $CONSTRAINTS"
fi

# 0. The Symbola font SynthGround's v2 preset draws its pictograms from (Debian's
#    fonts-symbola), installed with apt-get only when the file is missing; setup goes on
#    without it (build_synthground(preset='v2') then names the missing file).
SYMBOLA="${MMGROUNDING_SYMBOLA_FONT:-/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf}"
if [ ! -f "$SYMBOLA" ]; then
    SUDO=()
    [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)
    font_install=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q
                  --no-install-recommends fonts-symbola)
    if command -v apt-get >/dev/null && { [ ${#SUDO[@]} -eq 0 ] || command -v sudo >/dev/null; }
    then
        log "installing fonts-symbola with apt-get (SynthGround v2 pictograms)"
        "${font_install[@]}" >/dev/null \
            || { "${SUDO[@]}" apt-get update -q >/dev/null && "${font_install[@]}" >/dev/null; } \
            || true
    fi
    if [ -f "$SYMBOLA" ]; then
        log "installed $SYMBOLA"
    else
        log "Symbola font not installed (needs apt-get and root): SynthGround v2 needs $SYMBOLA"
    fi
fi

# Fast path: everything installed by this very script revision, requirement files and
# constraints (a setup without constraints does not count as one with them).
want_stamp="$( { cat tools/setup_env.sh requirements/*.txt setup.py
                 echo "constraints: ${CONSTRAINTS:-none}"
                 [ -z "$CONSTRAINTS" ] || cat "$CONSTRAINTS"; } 2>/dev/null \
              | sha1sum | cut -c1-16 || true)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] \
    && "$PY" -c "import torch, mmcv, mmcv.ops, mmdet, mmengine, mmgrounding" 2>/dev/null; then
    log "environment up to date ($VENV)"
    exit 0
fi

# 1. torch: keep whatever is installed (a user's CUDA build), else the pinned CPU build.
if "$PY" -c "import torch" 2>/dev/null; then
    log "keeping installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
    log "installing $TORCH_SPEC"
    "${PIP[@]}" "$TORCH_SPEC"
fi
TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__)')"

# 2. build requirements, the runtime requirements and mmengine. The OpenMMLab packages go in
#    without their dependency lists: those name opencv-python, which needs libGL; the headless
#    build from requirements/runtime.txt provides the same cv2 module.
"${PIP[@]}" -r requirements/build.txt
"${PIP[@]}" -r requirements/runtime.txt -r requirements/tests.txt
if "$PY" -m pip show -q opencv-python >/dev/null 2>&1; then
    log "replacing opencv-python with opencv-python-headless"
    "$PY" -m pip uninstall -y -q opencv-python opencv-python-headless
    "${PIP[@]}" "opencv-python-headless<5"
fi
"${PIP[@]}" --no-deps "mmengine==0.10.7"

# 3. mmcv 2.1.0 with ops: a cached wheel, or a one-time source build that fills the cache.
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    wheel_dir="$CACHE/wheels/torch-$TORCH_VERSION-py$("$PY" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
    mkdir -p "$wheel_dir"
    wheel="$(ls "$wheel_dir"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$wheel" ]; then
        log "building mmcv $MMCV_VERSION with ops against torch $TORCH_VERSION (one time, ~13 min on 2 cores)"
        tmp="$(mktemp -d "$CACHE/build.XXXXXX")"
        trap 'rm -rf "$tmp"' EXIT
        # Build into a private folder, then move: an interrupted build never leaves a partial
        # wheel in the cache. --no-cache-dir: pip's own wheel cache is not keyed by the torch
        # version the ops were compiled against; ours is.
        # The interpreter's own compile flags (sysconfig CFLAGS, which CFLAGS in the
        # environment replaces) without -g: the debug information of every torch header
        # template doubled the build (26.5 -> 12.8 min on 2 cores, 2026-12-07; the wheel 32 ->
        # 1.4 MB; the ops compute the same). CFLAGS / CXXFLAGS set by the caller win.
        flags="$("$PY" -c "import sysconfig
print(' '.join(f for f in sysconfig.get_config_var('CFLAGS').split() if not f.startswith('-g')), '-g0')")"
        MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            CFLAGS="${CFLAGS:-$flags}" CXXFLAGS="${CXXFLAGS:-$flags}" \
            "$PY" -m pip wheel --disable-pip-version-check --no-input --no-deps --no-cache-dir \
            --no-build-isolation --no-binary mmcv -w "$tmp" ${PIN[@]+"${PIN[@]}"} \
            "mmcv==$MMCV_VERSION"
        built="$(ls "$tmp"/mmcv-$MMCV_VERSION-*.whl | head -n 1)"
        mv "$built" "$wheel_dir/"
        wheel="$wheel_dir/$(basename "$built")"
        log "cached $wheel"
    else
        log "using cached $wheel"
    fi
    "${PIP[@]}" --no-deps --force-reinstall "$wheel"
fi

# 4. mmdet and mmgrounding itself.
"${PIP[@]}" --no-deps "mmdet==3.3.0"
"${PIP[@]}" --no-deps --no-build-isolation -e .

# 5. WordNet for mmgrounding.text (CKD's class mapping), copied from Debian's packages into
#    $CACHE/nltk_data; setup goes on without it.
PYTHON="$PY" bash tools/setup_wordnet.sh \
    || log "WordNet not installed: CKD's class mapping needs it (tools/setup_wordnet.sh)"

"$PY" -c "import torch, mmcv, mmcv.ops, mmdet, mmengine, mmgrounding" \
    || { log "import check failed"; exit 1; }
if [ -n "$CONSTRAINTS" ]; then
    # pip applies constraints only to what it installs: name what differs (e.g. a kept torch).
    "$PY" - "$CONSTRAINTS" <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

from packaging.requirements import Requirement

differ = []
for line in open(sys.argv[1]):
    line = line.split('#', 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    try:
        installed = version(req.name)
    except PackageNotFoundError:
        installed = 'missing'
    if installed == 'missing' or not req.specifier.contains(installed, prereleases=True):
        differ.append(f'{req.name} {installed} (constraint {req.specifier})')
print('[setup] ' + ('differs from the constraints: ' + ', '.join(differ) if differ
                    else 'every constrained release installed as pinned'))
EOF
fi
echo "$want_stamp" > "$STAMP"
log "ready: torch $TORCH_VERSION, mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)'), $VENV"
