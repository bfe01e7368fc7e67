#!/usr/bin/env bash
# Installs what lagrangian-ot needs on a fresh Debian machine, skipping what is already there.
#   scripts/setup.sh            system libraries (OpenBLAS) only
#   scripts/setup.sh notebooks  also the evcxr Jupyter kernel and a Python venv with nbclient
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

if ! pkg-config --exists openblas 2>/dev/null && [ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] && ! ldconfig -p | grep -q 'libopenblas.so '; then
  echo "setup: installing libopenblas-dev (ndarray-linalg backend)"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
fi

if [ "${1:-}" = notebooks ]; then
  if ! command -v evcxr_jupyter >/dev/null; then
    echo "setup: cargo install --locked evcxr_jupyter (about 5 minutes, once)"
    cargo install --locked evcxr_jupyter
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with jupyter_client + nbclient"
    python3 -m venv .venv
  fi
  if ! .venv/bin/python -c 'import nbclient, nbformat, ipykernel' 2>/dev/null; then
    .venv/bin/pip install -q nbclient nbformat jupyter_client ipykernel
  fi
  if [ ! -f .venv/share/jupyter/kernels/rust/kernel.json ]; then
    JUPYTER_PATH="$PWD/.venv/share/jupyter" JUPYTER_DATA_DIR="$PWD/.venv/share/jupyter" evcxr_jupyter --install >/dev/null
  fi
  if [ ! -f data/digits/x.npy ] || [ ! -f data/digits/label.npy ]; then
    echo "setup: exporting the UCI 8x8 digits (scikit-learn into .venv)"
    .venv/bin/python scripts/fetch_digits.py
  fi
fi
echo "setup: done"
