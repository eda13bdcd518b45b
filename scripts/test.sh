#!/usr/bin/env bash
# Sets up what a fresh machine lacks and runs the whole test suite.
# This is the command README.md gives and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-libtorch.sh
./scripts/setup-onnxruntime.sh
./scripts/setup-test-services.sh
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "test: installing cargo-nextest from crates.io"
  cargo install --locked cargo-nextest
fi
exec cargo nextest run --locked --features failpoints --no-fail-fast "$@"
