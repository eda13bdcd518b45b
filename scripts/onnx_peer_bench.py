#!/usr/bin/env python3
"""The second Python peer for the Rust scoring benchmark: ONNX Runtime on the int8 model.

What a performance-minded Python user would run instead of transformers: the complaint
model's int8 ONNX file (the one earshot ships, made by scripts/make_quantized_model.py from
the same weights; or --onnx FILE) on onnxruntime's CPU provider, posts normalised like
training, tokenized with the model's fast tokenizer, sorted by token count and scored in
batches padded only to their own longest post. Prints, one per line:

    posts_per_second=<float>
    peak_rss_mb=<float>

Timing covers normalising, tokenizing, sorting and inference of every post (the model is
loaded and one batch warmed up before the clock starts), as the Rust bench times its
ScoringService.

    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/onnx_peer_bench.py posts.jsonl --batch-size 32 --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment_common as sc  # noqa: E402
import text_rules  # noqa: E402

DEFAULT_MODEL_DIR = sc.PROJECT_ROOT / "models" / "complaint-minilm-l6"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("posts", help="JSONL with a text field per line, or plain text lines")
    p.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    p.add_argument("--onnx", default=None, help="default: the manifest's [precisions.int8] file")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--probs-out", default=None, help="write per-post sentiment probabilities here (JSONL)")
    args = p.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np
    import onnxruntime as ort
    from transformers import AutoTokenizer

    model_dir = Path(args.model_dir)
    manifest = tomllib.loads((model_dir / "manifest.toml").read_text(encoding="utf-8"))
    onnx_file = Path(args.onnx) if args.onnx else model_dir / manifest["precisions"]["int8"]["weights"]
    max_length = manifest["max_length"]

    t_load = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    vocab = text_rules.vocab_chars(model_dir / manifest["vocab"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - t_load

    posts = sc.read_posts(args.posts)
    if not posts:
        raise SystemExit(f"{args.posts}: no posts")

    def score_all(texts):
        enc = tokenizer([text_rules.normalise_v2(t, vocab) for t in texts], truncation=True,
                        max_length=max_length)["input_ids"]
        out = [None] * len(texts)
        for idx in sc.batches_by_length([len(e) for e in enc], args.batch_size):
            width = max(len(enc[i]) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                ids[row, : len(enc[i])] = enc[i]
                mask[row, : len(enc[i])] = 1
            sentiment, _complaint, _severity = session.run(None, {"input_ids": ids, "attention_mask": mask})
            for i, row in zip(idx, sentiment.tolist()):
                out[i] = row
        return out

    score_all(posts[: args.batch_size])  # warm-up, untimed
    t0 = time.perf_counter()
    probs = score_all(posts)
    elapsed = time.perf_counter() - t0

    sc.print_rate(len(posts), elapsed)
    print(f"# posts={len(posts)} batch_size={args.batch_size} threads={args.threads} max_length={max_length} "
          f"sorted=tokens load_s={load_s:.2f} score_s={elapsed:.2f} onnxruntime={ort.__version__} "
          f"model={onnx_file.name}", file=sys.stderr)

    if args.probs_out:
        import json

        with open(args.probs_out, "w", encoding="utf-8") as f:
            for i, row in enumerate(probs):
                f.write(json.dumps({"index": i, "negative": row[0], "neutral": row[1], "positive": row[2]}) + "\n")


if __name__ == "__main__":
    main()
