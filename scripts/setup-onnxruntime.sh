#!/usr/bin/env bash
# Takes ONNX Runtime's shared library from its PyPI wheel, caches it outside the clone (keyed
# by version) and links it into the project as `.onnxruntime`. earshot loads it at run time
# for int8 models (`[scoring] precision`, src/scoring/onnx.rs); .cargo/config.toml records
# `.onnxruntime/libonnxruntime.so` as the place a build looks.
#
# Why PyPI: the runtime's GitHub releases are not reachable from our machines, but the wheel
# carries the same library (onnxruntime/capi/libonnxruntime.so.<version>), and
# scripts/requirements-model.txt pins the same version for making and checking the int8 file.
#
# Idempotent: a finished cache is reused; a half-finished one is rebuilt.
set -euo pipefail

ORT_VERSION=1.22.1
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}
dest=$cache/onnxruntime-$ORT_VERSION
wheels=$cache/wheels

if [ ! -f "$dest/.complete" ]; then
  echo "setup-onnxruntime: fetching ONNX Runtime $ORT_VERSION from PyPI (about 16 MB, once)"
  mkdir -p "$wheels"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64 \
    "onnxruntime==$ORT_VERSION" -d "$wheels"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  python3 - "$wheels" "$dest.partial" "$ORT_VERSION" <<'PY'
import glob, os, shutil, sys, zipfile
wheels, dest, version = sys.argv[1:4]
[wheel] = glob.glob(os.path.join(wheels, f"onnxruntime-{version}-cp311-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    name = f"onnxruntime/capi/libonnxruntime.so.{version}"
    with archive.open(name) as src, open(os.path.join(dest, "libonnxruntime.so"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    with archive.open("onnxruntime/LICENSE") as src, open(os.path.join(dest, "LICENSE"), "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  touch "$dest/.complete"
fi

ln -sfn "$dest" "$root/.onnxruntime"
echo "setup-onnxruntime: $root/.onnxruntime -> $dest"
