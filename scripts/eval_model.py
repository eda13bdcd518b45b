#!/usr/bin/env python3
"""Evaluate a shipped sentiment model folder on TweetEval sentiment val.

Loads the folder fresh with transformers (fp16 weights are loaded back as float32), applies the
same input normalisation as training, and prints val macro recall / macro F1 / accuracy and the
confusion matrix (rows = true label, columns = predicted; negative, neutral, positive).
With --check-manifest it also compares the scores and the sha256 of every file listed in
manifest.toml, and exits non-zero on a mismatch.

    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/eval_model.py models/sentiment-minilm-l6-tweeteval --check-manifest
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment_common as sc  # noqa: E402


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model_dir", nargs="?", default=str(sc.DEFAULT_MODEL_DIR))
    p.add_argument("--data-dir", default=str(sc.DEFAULT_DATA_DIR))
    p.add_argument("--split", default="val")
    p.add_argument("--max-length", type=int, default=0, help="default: manifest max_length, else 64")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--check-manifest", action="store_true")
    p.add_argument("--json", action="store_true", help="also print the metrics as one JSON line")
    args = p.parse_args()

    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.set_num_threads(args.threads)
    model_dir = Path(args.model_dir)
    manifest = {}
    if (model_dir / "manifest.toml").exists():
        manifest = tomllib.loads((model_dir / "manifest.toml").read_text(encoding="utf-8"))
    max_length = args.max_length or manifest.get("max_length", 64)

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = BertForSequenceClassification.from_pretrained(str(model_dir), torch_dtype=torch.float32)
    model.eval()
    dtypes = {str(t.dtype) for t in model.state_dict().values()}
    labels_cfg = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if labels_cfg != sc.LABELS:
        raise SystemExit(f"unexpected labels in config.json: {labels_cfg}")

    data = sc.read_split(args.data_dir, args.split)
    texts = [sc.normalise(t) for t, _ in data]
    gold = [l for _, l in data]
    t0 = time.time()
    probs = sc.predict_probs(model, tokenizer, texts, max_length, args.batch_size, torch)
    elapsed = time.time() - t0
    preds = [max(range(3), key=lambda c: pr[c]) for pr in probs]
    m = sc.metrics(gold, preds)

    print(f"model: {model_dir} (parameters loaded as {', '.join(sorted(dtypes))}; "
          f"stored {manifest.get('weights_dtype', '?')})")
    print(f"data: {args.split} {len(data)} examples, max_length={max_length}, "
          f"{len(data) / elapsed:.1f} examples/s")
    print(f"macro_recall = {m['macro_recall']:.4f}")
    print(f"macro_f1     = {m['macro_f1']:.4f}")
    print(f"accuracy     = {m['accuracy']:.4f}")
    print("per_class_recall (negative, neutral, positive) = "
          + ", ".join(f"{r:.4f}" for r in m["per_class_recall"]))
    print("confusion matrix (rows true, columns predicted: negative, neutral, positive)")
    for name, row in zip(sc.LABELS, m["confusion_matrix"]):
        print(f"  {name:>8} " + " ".join(f"{x:6d}" for x in row))
    if args.json:
        print(json.dumps({k: m[k] for k in ("macro_recall", "macro_f1", "accuracy", "confusion_matrix")}))

    if args.check_manifest:
        ok = True
        ev = manifest.get("evaluation", {})
        for k in ("macro_recall", "macro_f1", "accuracy"):
            if k not in ev or abs(round(m[k], 4) - ev[k]) > 1e-4:
                print(f"MISMATCH {k}: measured {m[k]:.4f}, manifest {ev.get(k)}")
                ok = False
        if ev.get("confusion_matrix") != m["confusion_matrix"]:
            print(f"MISMATCH confusion_matrix: manifest {ev.get('confusion_matrix')}")
            ok = False
        for name, digest in manifest.get("files", {}).items():
            actual = sha256_file(model_dir / name)
            if actual != digest:
                print(f"MISMATCH sha256 {name}: {actual} != manifest {digest}")
                ok = False
        print("manifest check: " + ("OK" if ok else "FAILED"))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
