#!/usr/bin/env bash
# Create/refresh the Python environment. Sourced by run.sh and test.sh.
# Usage: source scripts/bootstrap.sh [extras]   (extras: "" or "test")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LABELGATE_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
PY="${PYTHON:-python3}"
TORCH_WHEEL="$(ls /opt/wheels/torch-2.13.0*cp311*.whl 2>/dev/null | head -n1 || true)"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv in $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
fi
stamp="$VENV/.labelgate-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)-${EXTRAS:-base}"
if [ ! -f "$stamp" ]; then
  # torch first, from the local CPU wheel when present: any other torch pulls gigabytes of CUDA packages.
  if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    if [ -n "$TORCH_WHEEL" ]; then
      echo "==> installing torch from $TORCH_WHEEL"
      "$VENV/bin/pip" install -q "$TORCH_WHEEL"
    else
      echo "==> installing CPU torch from the PyTorch CPU index"
      "$VENV/bin/pip" install -q "torch>=2.2,<2.14" --index-url https://download.pytorch.org/whl/cpu || "$VENV/bin/pip" install -q "torch>=2.2,<2.14"
    fi
  fi
  echo "==> installing Python dependencies"
  if [ -n "$EXTRAS" ]; then
    "$VENV/bin/pip" install -q "$ROOT[$EXTRAS]"
  else
    "$VENV/bin/pip" install -q "$ROOT"
  fi
  touch "$stamp"
fi
export PATH="$VENV/bin:$PATH"
export LABELGATE_VENV="$VENV"
