#!/usr/bin/env bash
# Fetch the pure-Python OpenMMLab stack (and the few packages it needs that
# a CUDA machine's image lacks) as wheels into an ignored folder, so that a
# GPU machine without network can run tools/analysis_tools/gpu_check.py.
#
#   bash tools/misc/fetch_device_wheels.sh            # into .whl/ (ignored)
#   WHEEL_DIR=/tmp/w PY_VERSION=3.11 bash tools/misc/fetch_device_wheels.sh
#
# Run it where pip reaches PyPI. On the GPU machine (see docs/gpu.md):
#
#   python3 -m pip install -q --no-index --no-deps --no-compile \
#     --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
#   PYTHONPATH=/tmp/site python3 tools/analysis_tools/gpu_check.py ...
#
# Why these: mmcv has no wheel for a current CUDA torch on PyPI and takes
# far longer than a device session to build, so mmcv-lite (mmcv's Python
# code without the compiled ops) stands in; gpu_check.py installs a shim for
# the few ops the measured models call (RoIAlign and NMS, by torchvision)
# and every other op raises a clear error. The machine image already holds
# torch, torchvision, numpy, scipy, opencv, matplotlib, rich, pyyaml, regex,
# six, tqdm, packaging, pillow and scikit-image (KINDS.md of the device
# tool); the list below is what mmengine, mmcv-lite, mmdet, mmsegmentation,
# cityscapesscripts (imported by mmseg's and mmdet's Cityscapes metrics) and
# yapf import beyond that. Versions are pinned: one
# version of each, or the offline install stops.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WHEEL_DIR="${WHEEL_DIR:-$ROOT/.whl}"
PY_VERSION="${PY_VERSION:-3.12}"
PYTHON="${PYTHON:-python3}"

PURE=(
  mmengine==0.10.7
  mmcv-lite==2.1.0
  mmdet==3.3.0
  mmsegmentation==1.2.2
  cityscapesscripts==2.3.0
  addict==2.4.0
  termcolor==2.4.0
  yapf==0.40.1
  platformdirs==4.2.2
  importlib-metadata==8.0.0
  terminaltables==3.1.10
  prettytable==3.10.0
  ftfy==6.2.0
  appdirs==1.4.4
  pyquaternion==0.9.9
  coloredlogs==15.0.1
  humanfriendly==10.0
)
# compiled: fetched for the target interpreter and manylinux x86-64
BINARY=(
  tomli==2.0.1
  wcwidth==0.2.13
  pycocotools==2.0.8
  shapely==2.0.6
)

mkdir -p "$WHEEL_DIR"
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 \
    manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  PLATFORMS+=(--platform "$p")
done
echo "[wheels] into $WHEEL_DIR for CPython $PY_VERSION (x86-64)"
"$PYTHON" -m pip download --disable-pip-version-check -q --no-deps \
  --only-binary=:all: --python-version "$PY_VERSION" --implementation cp \
  "${PLATFORMS[@]}" -d "$WHEEL_DIR" "${PURE[@]}" "${BINARY[@]}"

# One version of each distribution, or `pip install --no-index` refuses.
"$PYTHON" - "$WHEEL_DIR" <<'EOF'
import collections, os, re, sys
names = collections.defaultdict(list)
for f in sorted(os.listdir(sys.argv[1])):
    if f.endswith('.whl'):
        names[re.sub(r'[-_.]+', '-', f.split('-')[0]).lower()].append(f)
dups = {k: v for k, v in names.items() if len(v) > 1}
if dups:
    sys.exit(f'[wheels] error: several versions in {sys.argv[1]}: {dups}; '
             'delete the old ones and run again')
EOF
du -sh "$WHEEL_DIR"
echo "[wheels] done: $(ls "$WHEEL_DIR"/*.whl | wc -l) wheels; carry '.whl'" \
  "(see docs/gpu.md)"
