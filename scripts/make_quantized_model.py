#!/usr/bin/env python3
"""Make the int8 ONNX variant of a complaint model folder, check it against float32 and record
it in the folder's manifest.

From the folder's shipped weights (model.safetensors, loaded back as float32):
 1. export the whole model (encoder, mean pooling over real tokens, the three heads and their
    softmax) to ONNX, inputs `input_ids` and `attention_mask` (int64, batch x tokens),
    outputs `sentiment`, `complaint` and `severity` probabilities;
 2. fuse it for ONNX Runtime (onnxruntime.transformers.optimizer, model type bert: attention,
    layer norm, GELU and bias fusions) unless --no-fuse;
 3. quantise it dynamically to int8 (onnxruntime.quantization.quantize_dynamic: weights of
    every MatMul int8 with a scale per output channel, activations uint8 with a scale
    computed per batch);
 4. score the complaint val split (X-FINCORP + CESAMARD, scripts/complaint_data.py) and
    TweetEval sentiment val with float32 (torch) and int8 (onnxruntime), print both and how
    often they agree, and refuse (exit 1) if int8 loses more than 0.5 points of complaint
    macro F1 or sentiment macro recall;
 5. write model.int8.onnx into the folder, its sha256 into [files] and a
    [precisions.int8] section (file, runtime, how it was made, the scores) into manifest.toml.

    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/make_quantized_model.py --model models/complaint-minilm-l6

Deterministic for a given torch / onnx / onnxruntime version: the same weights give the same
file (checked by --check, which rebuilds into a temporary folder and compares sha256s).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import complaint_data as cd  # noqa: E402
import sentiment_common as sc  # noqa: E402
import text_rules  # noqa: E402
from train_sentiment import sha256_file  # noqa: E402

INT8_FILE = "model.int8.onnx"
MAX_LOSS_POINTS = 0.5


def load_torch_model(model_dir: Path, manifest: dict, torch):
    from safetensors.torch import load_file
    from train_complaint import build_model

    model = build_model(model_dir, torch, load_encoder=False)
    state = {k: v.float() for k, v in load_file(str(model_dir / manifest["weights"])).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # The encoder has no pooler; only position_ids buffers may be absent from the file.
    if unexpected or any("position_ids" not in k for k in missing):
        raise SystemExit(f"weights do not match the model: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model


def export(model, path: Path, torch):
    """The whole model, probabilities out, to ONNX opset 17 with dynamic batch and length."""

    class Probabilities(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            heads = self.inner(input_ids, attention_mask, torch.zeros_like(input_ids))
            return tuple(torch.softmax(heads[k], dim=-1) for k in ("sentiment", "complaint", "severity"))

    ids = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    dynamic = {0: "batch", 1: "tokens"}
    # A new module is in training mode, and export restores each module's mode afterwards:
    # without eval() here the model would come back with its dropout on.
    wrapper = Probabilities(model).eval()
    torch.onnx.export(
        wrapper,
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentiment", "complaint", "severity"],
        dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "sentiment": {0: "batch"},
                      "complaint": {0: "batch"}, "severity": {0: "batch"}},
        opset_version=17,
        do_constant_folding=True,
    )


def fuse(src: Path, dst: Path, config: dict):
    from onnxruntime.transformers import optimizer

    model = optimizer.optimize_model(
        str(src), model_type="bert", num_heads=config["num_attention_heads"],
        hidden_size=config["hidden_size"], opt_level=1, use_gpu=False, only_onnxruntime=False,
    )
    print(f"fusions: {model.get_fused_operator_statistics()}", file=sys.stderr)
    model.save_model_to_file(str(dst))


def quantise(src: Path, dst: Path):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Fused contrib operators have no ONNX shape inference; their outputs are float32.
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, reduce_range=False,
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT})


def torch_predict(model, encode, texts, batch_size, torch):
    out = {k: [None] * len(texts) for k in ("sentiment", "complaint", "severity")}
    with torch.inference_mode():
        for idx, ids, mask in encode(texts, batch_size):
            heads = model(torch.tensor(ids), torch.tensor(mask), torch.zeros(len(ids), len(ids[0]), dtype=torch.long))
            for k, v in heads.items():
                for i, row in zip(idx, torch.softmax(v.float(), -1).tolist()):
                    out[k][i] = row
    return out


def onnx_predict(session, encode, texts, batch_size, np):
    out = {k: [None] * len(texts) for k in ("sentiment", "complaint", "severity")}
    for idx, ids, mask in encode(texts, batch_size):
        results = session.run(None, {"input_ids": np.array(ids, dtype=np.int64),
                                     "attention_mask": np.array(mask, dtype=np.int64)})
        for k, v in zip(("sentiment", "complaint", "severity"), results):
            for i, row in zip(idx, v.tolist()):
                out[k][i] = row
    return out


def argmax(row):
    return max(range(len(row)), key=lambda c: row[c])


def scores(pred, val_rows, tweets) -> dict:
    """Complaint macro F1 and severity macro F1 on the complaint val split, sentiment macro
    recall on TweetEval val (the manifest's [evaluation] definitions), all in points."""
    n = len(val_rows)
    complaint = sc.metrics([r.complaint for r in val_rows], [argmax(p) for p in pred["complaint"][:n]], 2)
    severity = sc.metrics([r.severity for r in val_rows], [argmax(p) for p in pred["severity"][:n]], 5)
    sentiment = sc.metrics([label for _, label in tweets], [argmax(p) for p in pred["sentiment"][n:]], 3)
    return {
        "complaint_macro_f1": round(100 * complaint["macro_f1"], 2),
        "severity_macro_f1": round(100 * severity["macro_f1"], 2),
        "sentiment_macro_recall": round(100 * sentiment["macro_recall"], 2),
        "sentiment_macro_f1": round(100 * sentiment["macro_f1"], 2),
    }


def agreement(a, b) -> dict:
    """Share of posts where both give the same argmax, and the largest probability gap."""
    out = {}
    for k in ("sentiment", "complaint", "severity"):
        same = sum(argmax(x) == argmax(y) for x, y in zip(a[k], b[k]))
        out[f"{k}_label_agreement"] = round(100 * same / len(a[k]), 2)
    out["complaint_max_abs_diff"] = round(max(abs(x[1] - y[1]) for x, y in zip(a["complaint"], b["complaint"])), 4)
    return out


def update_manifest(path: Path, sha: str, section: str):
    """Adds or replaces the int8 file's sha256 in [files] and the [precisions.int8] section."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^"' + re.escape(INT8_FILE) + r'" = "[0-9a-f]*"\n', "", text)
    text = re.sub(r"(?ms)^\[precisions\.int8\]\n.*?(?=^\[|\Z)", "", text).rstrip("\n") + "\n"
    text = re.sub(r"(?m)^(\[files\]\n)", rf'\1"{INT8_FILE}" = "{sha}"\n', text, count=1)
    path.write_text(text + "\n" + section, encoding="utf-8")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(sc.PROJECT_ROOT / "models" / "complaint-minilm-l6"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--no-fuse", action="store_true", help="quantise the plain export (no fusions)")
    p.add_argument("--check", action="store_true",
                   help="rebuild into a temporary folder and compare with the shipped file; change nothing")
    args = p.parse_args()

    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(args.threads)
    model_dir = Path(args.model)
    manifest_path = model_dir / "manifest.toml"
    manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("task") != "complaint":
        raise SystemExit(f"{model_dir}: not a complaint model (task = {manifest.get('task')!r})")
    config = json.loads((model_dir / manifest["config"]).read_text(encoding="utf-8"))
    model = load_torch_model(model_dir, manifest, torch)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export(model, tmp / "fp32.onnx", torch)
        source = tmp / "fp32.onnx"
        if not args.no_fuse:
            fuse(source, tmp / "fused.onnx", config)
            source = tmp / "fused.onnx"
        quantise(source, tmp / INT8_FILE)
        if model.training:
            raise SystemExit("the model was left in training mode by the export")
        onnx.checker.check_model(str(tmp / INT8_FILE))
        built = tmp / INT8_FILE
        sha = sha256_file(built)
        if args.check:
            shipped = manifest.get("files", {}).get(INT8_FILE)
            print(f"rebuilt sha256 {sha}, manifest {shipped}")
            raise SystemExit(0 if sha == shipped else 1)
        data = built.read_bytes()
    build_s = time.perf_counter() - started

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    vocab = text_rules.vocab_chars(model_dir / manifest["vocab"])
    max_length = manifest["max_length"]

    def encode(texts, batch_size):
        normalised = [text_rules.normalise_v2(t, vocab) for t in texts]
        enc = tokenizer(normalised, truncation=True, max_length=max_length)["input_ids"]
        for idx in sc.batches_by_length([len(e) for e in enc], batch_size):
            width = max(len(enc[i]) for i in idx)
            ids = [enc[i] + [0] * (width - len(enc[i])) for i in idx]
            mask = [[1] * len(enc[i]) + [0] * (width - len(enc[i])) for i in idx]
            yield idx, ids, mask

    _, val_rows = cd.split(cd.load())
    tweets = sc.read_split(sc.DEFAULT_DATA_DIR, "val")
    texts = [r.text for r in val_rows] + [t for t, _ in tweets]

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])

    t0 = time.perf_counter()
    fp32 = torch_predict(model, encode, texts, args.batch_size, torch)
    t1 = time.perf_counter()
    int8 = onnx_predict(session, encode, texts, args.batch_size, np)
    t2 = time.perf_counter()
    fp32_scores, int8_scores = scores(fp32, val_rows, tweets), scores(int8, val_rows, tweets)
    agree = agreement(fp32, int8)
    print(f"fp32 (torch {torch.__version__}): {fp32_scores}  [{len(texts) / (t1 - t0):.0f} posts/s]")
    print(f"int8 (onnxruntime {ort.__version__}): {int8_scores}  [{len(texts) / (t2 - t1):.0f} posts/s]")
    print(f"agreement: {agree}")
    loss = {k: fp32_scores[k] - int8_scores[k] for k in ("complaint_macro_f1", "sentiment_macro_recall")}
    if any(v > MAX_LOSS_POINTS for v in loss.values()):
        raise SystemExit(f"int8 loses too much against float32: {loss} (at most {MAX_LOSS_POINTS} points)")

    out = model_dir / INT8_FILE
    out.write_bytes(data)
    recipe = "torch.onnx.export (opset 17) of the float32 model with softmax outputs" + (
        "" if args.no_fuse else
        ", onnxruntime.transformers.optimizer (model_type bert, opt_level 1: attention, layer norm, GELU, bias fusions)"
    ) + ", onnxruntime.quantization.quantize_dynamic (weights QInt8 per output channel, activations uint8 per batch, MatMulConstBOnly)"
    command = "py=$(scripts/setup-python.sh | tail -n 1) && $py scripts/make_quantized_model.py --model " + (
        str(model_dir.resolve().relative_to(sc.PROJECT_ROOT)) if model_dir.resolve().is_relative_to(sc.PROJECT_ROOT)
        else str(model_dir)) + (" --no-fuse" if args.no_fuse else "")
    toml = lambda s: json.dumps(s, ensure_ascii=False)  # noqa: E731
    section = "\n".join([
        "[precisions.int8]",
        f"weights = {toml(INT8_FILE)}",
        'format = "onnx"',
        f"runtime = {toml('onnxruntime ' + ort.__version__)}",
        f"made_from = {toml(manifest['weights'] + ' sha256 ' + manifest['files'][manifest['weights']])}",
        f"recipe = {toml(recipe)}",
        f"command = {toml(command)}",
        f"tools = {toml(f'torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}')}",
        f"build_seconds = {build_s:.1f}",
        'evaluated_on = "complaint val split (X-FINCORP + CESAMARD-Aspect, scripts/complaint_data.py) and TweetEval sentiment val, argmax of each head"',
        *(f"fp32_{k} = {v}" for k, v in fp32_scores.items()),
        *(f"{k} = {v}" for k, v in int8_scores.items()),
        *(f"{k} = {v}" for k, v in agree.items()),
        "",
    ])
    update_manifest(manifest_path, sha256_file(out), section)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and its [precisions.int8] in {manifest_path}")


if __name__ == "__main__":
    main()
