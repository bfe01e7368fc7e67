#!/usr/bin/env bash
# The test command: installs what is missing, runs the Rust test suite, then executes every notebook in
# notebooks/ and tutorials/ with the real evcxr kernel in quick mode, failing on any cell error.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh notebooks

start=$(date +%s)
cargo test --release
echo "cargo test: $(( $(date +%s) - start )) s"

export LOT_QUICK=1
export JUPYTER_PATH="$PWD/.venv/share/jupyter"
export EVCXR_CONFIG_DIR="$PWD/scripts/evcxr"
start=$(date +%s)
.venv/bin/python scripts/run_notebooks.py "$@"
echo "notebooks: $(( $(date +%s) - start )) s"
