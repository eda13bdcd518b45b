#!/usr/bin/env bash
# Runs the Rust benchmark and the two Python peers on the same generated posts, one after the
# other (never concurrently, so they do not share the cores), and prints the numbers side by
# side.
#
#   scripts/bench-compare.sh [--posts N] [--batch-size B] [--threads T] [--model DIR]
#                            [--precision fp32|bf16|int8] [--release]
#
# --model defaults to the shipped complaint model; pass models/sentiment-minilm-l6-tweeteval
# to measure the older sentiment-only model the same way (the ONNX peer needs a model with an
# int8 file and is skipped otherwise). --precision defaults to earshot's default (int8 where
# the model ships it).
#
# The Rust side is `earshot bench` (scoring through ScoringService, then the whole pipeline on
# a temporary SQLite file); the Python peers read the file the Rust side wrote:
# scripts/python_peer_bench.py (transformers, float32, batches in arrival order, as a service
# would take them) and scripts/onnx_peer_bench.py (onnxruntime on the same int8 file earshot
# ships, posts sorted by token count). Build first (`cargo build`, or `cargo build --release`
# with --release).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
posts=2000
batch=
threads=2
profile=debug
model=$root/models/complaint-minilm-l6
precision=
while [ $# -gt 0 ]; do
  case $1 in
    --posts) posts=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --release) profile=release; shift ;;
    --model) model=$(cd "$2" && pwd); shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bin=$root/target/$profile/earshot
[ -x "$bin" ] || { echo "no $bin; build it first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=$work/earshot.toml
# Without --batch-size each side runs its measured best: earshot its own default for the
# engine (`[scoring] batch_size = 0`), the Python peers 32 (README "Benchmark", the sweep).
printf '[scoring]\nmodel = "%s"\nbatch_size = %s\nthreads = %s\n' \
  "$model" "${batch:-0}" "$threads" > "$config"
peer_batch=${batch:-32}
[ -n "$precision" ] && printf 'precision = "%s"\n' "$precision" >> "$config"

echo "== earshot bench ($profile), $posts posts, batch ${batch:-auto}, $threads threads, precision ${precision:-default} =="
"$bin" --config "$config" bench --posts "$posts" --write-posts "$work/posts.jsonl" 2>/dev/null | tee "$work/rust.txt"

py=$("$root/scripts/setup-python.sh" | tail -n 1)
echo "== python peer (transformers, float32), same posts =="
"$py" "$root/scripts/python_peer_bench.py" "$work/posts.jsonl" --model-dir "$model" --batch-size "$peer_batch" --threads "$threads" \
  | tee "$work/python.txt"
if grep -q '^\[precisions.int8\]' "$model/manifest.toml"; then
  echo "== python peer (onnxruntime, int8), same posts =="
  "$py" "$root/scripts/onnx_peer_bench.py" "$work/posts.jsonl" --model-dir "$model" --batch-size "$peer_batch" --threads "$threads" \
    | tee "$work/onnx.txt"
else
  echo "== python peer (onnxruntime, int8): skipped, $model has no int8 file =="
  : > "$work/onnx.txt"
fi

rust_score=$(sed -n 's/^scoring alone: *\([0-9.]*\) posts\/s.*peak RSS \([0-9]*\) MiB.*/\1 \2/p' "$work/rust.txt")
rust_pipe=$(sed -n 's/^whole pipeline: *\([0-9.]*\) posts\/s.*peak RSS \([0-9]*\) MiB.*/\1 \2/p' "$work/rust.txt")
rust_model=$(sed -n 's/^scoring alone:.*, model \(.*\)$/\1/p' "$work/rust.txt")
py_rate=$(sed -n 's/^posts_per_second=//p' "$work/python.txt")
py_rss=$(sed -n 's/^peak_rss_mb=//p' "$work/python.txt")
onnx_rate=$(sed -n 's/^posts_per_second=//p' "$work/onnx.txt")
onnx_rss=$(sed -n 's/^peak_rss_mb=//p' "$work/onnx.txt")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", a / b; else print "-" }'; }
echo
echo "model: ${rust_model:-unknown}; $posts posts; batch earshot ${batch:-auto}, peers $peer_batch; $threads threads; $(nproc) cores: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
printf '%-36s %12s %14s %14s %14s\n' "" "posts/s" "peak RSS MiB" "vs python" "vs onnx peer"
printf '%-36s %12s %14s %14s %14s\n' "rust: scoring alone ($profile)" "${rust_score%% *}" "${rust_score##* }" \
  "$(ratio "${rust_score%% *}" "$py_rate")" "$(ratio "${rust_score%% *}" "$onnx_rate")"
printf '%-36s %12s %14s %14s %14s\n' "rust: whole pipeline ($profile)" "${rust_pipe%% *}" "${rust_pipe##* }" \
  "$(ratio "${rust_pipe%% *}" "$py_rate")" "$(ratio "${rust_pipe%% *}" "$onnx_rate")"
printf '%-36s %12s %14s\n' "python peer: transformers fp32" "$py_rate" "$py_rss"
printf '%-36s %12s %14s\n' "python peer: onnxruntime int8" "${onnx_rate:--}" "${onnx_rss:--}"
echo "whole pipeline / scoring alone: $(ratio "${rust_pipe%% *}" "${rust_score%% *}")"
