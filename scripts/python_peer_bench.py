#!/usr/bin/env python3
"""Python peer for the Rust scoring benchmark.

Loads a model folder (default: the shipped complaint model, models/complaint-minilm-l6, with
the encoder and heads of scripts/train_complaint.py; a sentiment-only folder such as
models/sentiment-minilm-l6-tweeteval loads as BertForSequenceClassification) with
transformers (float32 compute, whatever the stored dtype), reads posts from a file (one JSON
object per line with a `text` field, or plain text lines), normalises them exactly like
training and the Rust scorer (the manifest's normalisation_version), scores them in batches
(every head in one forward pass) and prints, one per line:

    posts_per_second=<float>
    peak_rss_mb=<float>

Optionally writes per-post probabilities (JSON lines: index, negative, neutral, positive, label)
with --probs-out, in input order, so the Rust scores can be compared.

    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/python_peer_bench.py posts.jsonl --batch-size 32 --threads 2 --probs-out /tmp/py.jsonl

Batches are formed in input order by default (like a service scoring posts as they arrive);
--sort-by-length groups similar lengths first, which pads less and is faster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment_common as sc  # noqa: E402

DEFAULT_MODEL_DIR = sc.PROJECT_ROOT / "models" / "complaint-minilm-l6"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("posts", help="JSONL with a text field per line, or plain text lines")
    p.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-length", type=int, default=0, help="default: manifest max_length, else 64")
    p.add_argument("--sort-by-length", action="store_true")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up batches")
    p.add_argument("--probs-out", default=None, help="write per-post probabilities here (JSONL)")
    args = p.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import tomllib

    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.set_num_threads(args.threads)
    model_dir = Path(args.model_dir)
    manifest_path = model_dir / "manifest.toml"
    manifest = tomllib.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    max_length = args.max_length or manifest.get("max_length", 64)
    multi_head = manifest.get("task") == "complaint"

    t_load = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if multi_head:
        import text_rules
        from safetensors.torch import load_file
        from train_complaint import build_model

        model = build_model(model_dir, torch, load_encoder=False)
        state = {k: v.float() for k, v in load_file(str(model_dir / manifest["weights"])).items()}
        model.load_state_dict(state, strict=False)
        vocab = text_rules.vocab_chars(model_dir / manifest["vocab"])
        normalise = lambda t: text_rules.normalise_v2(t, vocab)  # noqa: E731
    else:
        model = BertForSequenceClassification.from_pretrained(str(model_dir), torch_dtype=torch.float32)
        normalise = sc.normalise
    model.eval()
    load_s = time.perf_counter() - t_load

    posts = sc.read_posts(args.posts)
    if not posts:
        raise SystemExit(f"{args.posts}: no posts")

    def score(texts):
        enc = tokenizer([normalise(t) for t in texts], truncation=True, max_length=max_length,
                        padding=True, return_tensors="pt")
        with torch.inference_mode():
            if multi_head:
                heads = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
                # all heads are computed (as in Rust); the sentiment head is what --probs-out writes
                probs = {k: torch.softmax(v.float(), dim=-1) for k, v in heads.items()}
                return probs["sentiment"].tolist()
            return torch.softmax(model(**enc).logits.float(), dim=-1).tolist()

    order = list(range(len(posts)))
    if args.sort_by_length:
        order.sort(key=lambda i: len(posts[i]))
    batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]

    for b in batches[: args.warmup]:
        score([posts[i] for i in b])

    probs = [None] * len(posts)
    t0 = time.perf_counter()
    for b in batches:
        for i, row in zip(b, score([posts[i] for i in b])):
            probs[i] = row
    elapsed = time.perf_counter() - t0

    sc.print_rate(len(posts), elapsed)
    print(f"# posts={len(posts)} batch_size={args.batch_size} threads={args.threads} "
          f"max_length={max_length} sorted={args.sort_by_length} load_s={load_s:.2f} "
          f"score_s={elapsed:.2f} torch={torch.__version__}", file=sys.stderr)

    if args.probs_out:
        with open(args.probs_out, "w", encoding="utf-8") as f:
            for i, row in enumerate(probs):
                f.write(json.dumps({"index": i, "negative": row[0], "neutral": row[1], "positive": row[2],
                                    "label": sc.LABELS[max(range(3), key=lambda c: row[c])]}) + "\n")


if __name__ == "__main__":
    main()
