#!/usr/bin/env bash
# A second, small virtualenv holding Hugging Face `datasets`, for the test that loads our exports with it
# (tests/datasets/test_exports.py). It cannot share .venv: its top-level package `datasets` has the name of
# this project's app. Sourced by test.sh after bootstrap.sh; exports LABELGATE_HF_PYTHON unless it is given.
# An install that fails only warns: the test then fails (under CI=true or LABELGATE_REQUIRE_HF=1) and says why.
HF_VENV="${LABELGATE_HF_VENV:-$ROOT/.venv-hf}"
HF_REQUIREMENTS=("datasets>=3.6,<6" "pandas>=2.2,<4" "pyarrow>=16,<30" "pillow>=10.4,<14")
if [ -z "${LABELGATE_HF_PYTHON:-}" ]; then
  hf_stamp="$HF_VENV/.labelgate-hf-$(printf '%s\n' "${HF_REQUIREMENTS[@]}" | sha256sum | cut -c1-16)"
  if [ ! -f "$hf_stamp" ]; then
    echo "==> Hugging Face datasets in $HF_VENV"
    if { [ -x "$HF_VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$HF_VENV"; } \
      && "$HF_VENV/bin/pip" install -q --disable-pip-version-check "${HF_REQUIREMENTS[@]}"; then
      touch "$hf_stamp"
    else
      echo "warning: could not install ${HF_REQUIREMENTS[*]} into $HF_VENV" >&2
    fi
  fi
  if [ -f "$hf_stamp" ]; then export LABELGATE_HF_PYTHON="$HF_VENV/bin/python"; fi
fi
