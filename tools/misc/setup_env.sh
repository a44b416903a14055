#!/usr/bin/env bash
# Create or refresh the project's virtual environment, idempotently.
#
#   bash tools/misc/setup_env.sh        (called by `make env`, `make demo`,
#                                        `make test`)
#
# Environment variables:
#   MMB_VENV            where the environment lives (default: .venv)
#   PYTHON              interpreter used to create it (default: python3)
#   MMB_TORCH           torch requirement (default: torch==2.13.0, the CPU
#                       build); e.g. MMB_TORCH='torch==2.1.2' on a GPU node
#   MMB_TORCH_INDEX_URL extra index for torch, e.g.
#                       https://download.pytorch.org/whl/cu121
#
# A second run with unchanged inputs does nothing (a stamp file records the
# inputs); a run after a requirement change reinstalls only what changed, so
# mmcv (about 10 minutes to build on 2 cores) is never rebuilt needlessly.
# pip's wheel cache also makes the mmcv build a one-off per machine.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="${MMB_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${MMB_TORCH:-torch==2.13.0}"
TORCH_INDEX="${MMB_TORCH_INDEX_URL:-}"
STAMP="$VENV/.mmboundary_env_stamp"

inputs_hash() {
  cat requirements/*.txt setup.py tools/misc/setup_env.sh
  echo "$TORCH_SPEC $TORCH_INDEX"
}
WANT="$(inputs_hash | sha256sum | cut -d' ' -f1)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
    && "$VENV/bin/python" -c 'import mmboundary' 2>/dev/null; then
  echo "[env] $VENV is up to date"
  exit 0
fi

echo "[env] preparing $VENV (torch: $TORCH_SPEC)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check)
EXTRA=()
[ -n "$TORCH_INDEX" ] && EXTRA=(--extra-index-url "$TORCH_INDEX")

echo "[env] step 1/3: torch and build requirements"
"${PIP[@]}" "${EXTRA[@]}" "$TORCH_SPEC" -r requirements/build.txt
echo "[env] step 2/3: mmcv 2.1.0 with compiled ops (first build ~10 min),"
echo "[env]           the OpenMMLab stack, runtime and test requirements"
# One resolver run, so that the pins (numpy<2, opencv) hold for mmcv's
# dependencies too. mmcv's setup.py needs the venv's torch: no isolation.
"${PIP[@]}" --no-build-isolation "$TORCH_SPEC" -r requirements/build.txt \
  -r requirements/mminstall.txt -r requirements/runtime.txt \
  -r requirements/tests.txt
echo "[env] step 3/3: mmboundary (editable)"
"${PIP[@]}" --no-build-isolation --no-deps -e .
"$VENV/bin/python" -c 'import mmcv.ops, mmboundary; print("[env] ok: mmboundary", mmboundary.__version__)'
echo "$WANT" > "$STAMP"
