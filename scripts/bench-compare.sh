#!/usr/bin/env bash
# Runs the Rust benchmark and the Python peer on the same generated posts, one after the
# other (never concurrently, so they do not share the cores), and prints the numbers side by
# side.
#
#   scripts/bench-compare.sh [--posts N] [--batch-size B] [--threads T] [--model DIR] [--release]
#
# --model defaults to the shipped complaint model; pass models/sentiment-minilm-l6-tweeteval
# to measure the older sentiment-only model the same way.
#
# The Rust side is `earshot bench` (scoring through ScoringService, then the whole pipeline on
# a temporary SQLite file); the Python side is scripts/python_peer_bench.py (transformers,
# float32) on the file the Rust side wrote. Build first (`cargo build`, or `cargo build
# --release` with --release).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
posts=2000
batch=32
threads=2
profile=debug
model=$root/models/complaint-minilm-l6
while [ $# -gt 0 ]; do
  case $1 in
    --posts) posts=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --release) profile=release; shift ;;
    --model) model=$(cd "$2" && pwd); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bin=$root/target/$profile/earshot
[ -x "$bin" ] || { echo "no $bin; build it first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=$work/earshot.toml
printf '[scoring]\nmodel = "%s"\nbatch_size = %s\nthreads = %s\n' \
  "$model" "$batch" "$threads" > "$config"

echo "== earshot bench ($profile), $posts posts, batch $batch, $threads threads =="
"$bin" --config "$config" bench --posts "$posts" --write-posts "$work/posts.jsonl" 2>/dev/null | tee "$work/rust.txt"

py=$("$root/scripts/setup-python.sh" | tail -n 1)
echo "== python peer (transformers), same posts =="
"$py" "$root/scripts/python_peer_bench.py" "$work/posts.jsonl" --model-dir "$model" --batch-size "$batch" --threads "$threads" \
  | tee "$work/python.txt"

rust_score=$(sed -n 's/^scoring alone: *\([0-9.]*\) posts\/s.*peak RSS \([0-9]*\) MiB.*/\1 \2/p' "$work/rust.txt")
rust_pipe=$(sed -n 's/^whole pipeline: *\([0-9.]*\) posts\/s.*peak RSS \([0-9]*\) MiB.*/\1 \2/p' "$work/rust.txt")
py_rate=$(sed -n 's/^posts_per_second=//p' "$work/python.txt")
py_rss=$(sed -n 's/^peak_rss_mb=//p' "$work/python.txt")
echo
printf '%-32s %12s %14s\n' "" "posts/s" "peak RSS MiB"
printf '%-32s %12s %14s\n' "rust: scoring alone ($profile)" "${rust_score%% *}" "${rust_score##* }"
printf '%-32s %12s %14s\n' "rust: whole pipeline ($profile)" "${rust_pipe%% *}" "${rust_pipe##* }"
printf '%-32s %12s %14s\n' "python peer: scoring alone" "$py_rate" "$py_rss"
