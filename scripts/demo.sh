#!/usr/bin/env bash
# Sets up what a fresh machine lacks (libtorch from PyPI) and runs `earshot demo`.
# Extra arguments go to `earshot demo` (e.g. --bind 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-libtorch.sh
exec cargo run --locked --quiet -- demo "$@"
