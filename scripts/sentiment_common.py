"""Shared helpers for the earshot sentiment model scripts.

Used by train_sentiment.py, eval_model.py and python_peer_bench.py, so that training,
evaluation and the benchmark peer normalise text exactly the same way. The Rust scorer
must implement `normalise` identically (see models/README.md, "Input normalisation").
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

LABELS = ["negative", "neutral", "positive"]
LABEL2ID = {name: i for i, name in enumerate(LABELS)}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / ".." / "shared" / "data" / "tweeteval" / "sentiment"
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "sentiment-minilm-l6-tweeteval"

# One line, copied into manifest.toml.
NORMALISATION = (
    "1) literal \\uXXXX escapes (backslash, u, 4 hex digits) -> that character unless it is a "
    "surrogate; 2) &lt; -> <, &gt; -> >, then &amp; -> &; 3) URLs matching (?i)https?://\\S+ -> http; "
    "4) @[A-Za-z0-9_]+ -> @user; 5) runs of Unicode White_Space (Rust char::is_whitespace) -> "
    "one space, trimmed at both ends; then the BERT tokenizer lowercases and strips accents"
)

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@[A-Za-z0-9_]+")
# Exactly the characters for which Rust's `char::is_whitespace` is true (Unicode White_Space).
# Python's own `\s` / str.split() would also split on U+001C..U+001F, which Rust does not.
_WS_CHARS = (
    "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_WS = re.compile("[" + re.escape(_WS_CHARS) + "]+")


def _unescape(match: re.Match) -> str:
    code = int(match.group(1), 16)
    if 0xD800 <= code <= 0xDFFF:  # lone surrogate: not a valid char (Rust char::from_u32 fails)
        return match.group(0)
    return chr(code)


def normalise(text: str) -> str:
    """Normalise a post before tokenisation. Keep in sync with the Rust implementation."""
    text = _ESCAPE.sub(_unescape, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    text = _WS.sub(" ", text).strip(_WS_CHARS)
    return text


def parse_label(value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"bad label {value!r}")
    if isinstance(value, int):
        if value in (0, 1, 2):
            return value
        raise ValueError(f"bad label {value!r}")
    if isinstance(value, str):
        v = value.strip().lower()
        if v in LABEL2ID:
            return LABEL2ID[v]
        if v in ("0", "1", "2"):
            return int(v)
    raise ValueError(f"bad label {value!r} (want negative/neutral/positive or 0/1/2)")


def read_jsonl(path: os.PathLike) -> list[tuple[str, int]]:
    """`{"text", "label"}` lines (or `"sentiment"`, as earshot's feedback export writes it).
    A line with only a `complaint` label (a missed complaint whose sentiment no reviewer gave)
    carries nothing for the sentiment head: it is skipped and counted on stderr."""
    out = []
    skipped = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            obj = json.loads(line)
            label = obj.get("sentiment", obj.get("label"))
            if label is None and "complaint" in obj:
                skipped += 1
                continue
            try:
                out.append((obj["text"], parse_label(label)))
            except (KeyError, ValueError) as e:
                raise SystemExit(f"{path}:{n}: {e}")
    if skipped:
        print(f"{path}: skipped {skipped} complaint-only examples (no sentiment label)", file=sys.stderr)
    return out


def read_split(data_dir: os.PathLike, split: str) -> list[tuple[str, int]]:
    """TweetEval `<split>_text.txt` + `<split>_labels.txt` (line n labels line n)."""
    data_dir = Path(data_dir)
    with open(data_dir / f"{split}_text.txt", encoding="utf-8", newline="") as f:
        texts = f.read().split("\n")
    with open(data_dir / f"{split}_labels.txt", encoding="utf-8") as f:
        labels = f.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    while labels and labels[-1].strip() == "":
        labels.pop()
    if len(texts) != len(labels):
        raise SystemExit(f"{data_dir}: {split} has {len(texts)} texts but {len(labels)} labels")
    return [(t, int(l)) for t, l in zip(texts, labels)]


def read_posts(path: os.PathLike) -> list[str]:
    """One JSON object per line with a `text` field, or plain text lines."""
    posts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                try:
                    obj = json.loads(line)
                    if isinstance(obj, dict) and "text" in obj:
                        posts.append(str(obj["text"]))
                        continue
                except json.JSONDecodeError:
                    pass
            posts.append(line)
    return posts


def metrics(y_true, y_pred, n_classes: int = 3) -> dict:
    cm = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(y_true, y_pred):
        cm[t][p] += 1
    recalls, f1s = [], []
    for c in range(n_classes):
        tp = cm[c][c]
        support = sum(cm[c])
        predicted = sum(cm[r][c] for r in range(n_classes))
        rec = tp / support if support else 0.0
        prec = tp / predicted if predicted else 0.0
        recalls.append(rec)
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    total = sum(sum(r) for r in cm)
    return {
        "macro_recall": sum(recalls) / n_classes,
        "macro_f1": sum(f1s) / n_classes,
        "accuracy": sum(cm[c][c] for c in range(n_classes)) / total if total else 0.0,
        "per_class_recall": recalls,
        "confusion_matrix": cm,
    }


def format_metrics(m: dict) -> str:
    return (
        f"macro_recall={m['macro_recall'] * 100:.2f} macro_f1={m['macro_f1'] * 100:.2f} "
        f"accuracy={m['accuracy'] * 100:.2f} recall(neg/neu/pos)="
        + "/".join(f"{r * 100:.1f}" for r in m["per_class_recall"])
    )


def print_rate(n_posts: int, elapsed: float):
    """The two lines scripts/bench-compare.sh reads from a Python peer: posts per second and the
    process's peak RSS."""
    import resource

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"posts_per_second={n_posts / elapsed:.1f}")
    print(f"peak_rss_mb={peak_kb / 1024:.1f}")


def batches_by_length(lengths, batch_size):
    """Indices grouped into batches of similar length (input order within equal lengths kept)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def predict_probs(model, tokenizer, texts, max_length, batch_size, torch):
    """Softmax probabilities (list of [neg, neu, pos]) for already-normalised texts, in input order."""
    enc = tokenizer(texts, truncation=True, max_length=max_length, add_special_tokens=True)
    lengths = [len(ids) for ids in enc["input_ids"]]
    probs = [None] * len(texts)
    model.eval()
    with torch.inference_mode():
        for idx in batches_by_length(lengths, batch_size):
            feats = [{k: enc[k][i] for k in enc.keys()} for i in idx]
            batch = tokenizer.pad(feats, return_tensors="pt")
            logits = model(**batch).logits.float()
            p = torch.softmax(logits, dim=-1).tolist()
            for i, row in zip(idx, p):
                probs[i] = row
    return probs
