#!/usr/bin/env bash
# Sets up what a fresh machine lacks (libtorch from PyPI) and runs `earshot demo`.
# Extra arguments go to `earshot demo` (e.g. --bind 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-libtorch.sh
./scripts/setup-onnxruntime.sh
if [ ! -x target/debug/earshot ]; then
  echo "demo: building earshot (about 10 minutes on 2 cores, once; later runs start at once)"
fi
# The build shows cargo's own progress (crates compiled, a bar on a terminal); then the demo.
cargo build --locked --bin earshot
exec target/debug/earshot demo "$@"
