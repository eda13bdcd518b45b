#!/usr/bin/env python3
"""Writes tests/it/fixtures/parity-complaint.json: the complaint model's head probabilities
as computed in Python (transformers + torch, float32), for the Rust parity test.

Texts: every English post of demo/mentions.jsonl, plus posts with emoji, symbols, escapes,
very long text (truncation) and short text (padding). Python normalises them itself
(text_rules.normalise_v2), so the test also checks that Rust normalises the same way.

    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/make_parity_fixture.py --model models/complaint-minilm-l6
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import text_rules  # noqa: E402
from train_complaint import HEADS, build_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXTRA = [
    "@NorthwindAir 2 hours of hold music, lovely 🙃",
    "so sad the tour is over 😢😢😢",
    "Thanks @OrbitBank, card replaced in a day 👍🏽🎉",
    "my parcel is 'out for delivery' since Tuesday 😡😡 #fail",
    "Charged £45 twice ⚠️ and nobody answers ☎️ … 𝐫𝐞𝐟𝐮𝐧𝐝 𝐦𝐞",
    "the app says \\u201cerror 500\\u201d &amp; logs me out",
    "ok",
    "lost my bag " * 60,
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(ROOT / "models" / "complaint-minilm-l6"))
    p.add_argument("--out", default=str(ROOT / "tests" / "it" / "fixtures" / "parity-complaint.json"))
    args = p.parse_args()
    import torch
    import tomllib
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    torch.set_num_threads(2)
    model_dir = Path(args.model)
    manifest = tomllib.loads((model_dir / "manifest.toml").read_text())
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = build_model(model_dir, torch, load_encoder=False)
    state = {k: v.float() for k, v in load_file(str(model_dir / manifest["weights"])).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    # position_ids is a non-persistent buffer; nothing else may be missing.
    if [m for m in missing if not m.endswith("position_ids")] or unexpected:
        raise SystemExit(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    model.eval()
    vocab = text_rules.vocab_chars(model_dir / manifest["vocab"])
    texts = []
    with open(ROOT / "demo" / "mentions.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                post = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(post, dict) and post.get("lang", "en") == "en" and isinstance(post.get("text"), str):
                texts.append(post["text"])
    texts += EXTRA
    normalised = [text_rules.normalise_v2(t, vocab) for t in texts]
    max_length = manifest["max_length"]
    cases = []
    with torch.inference_mode():
        for text, norm in zip(texts, normalised):
            batch = tokenizer([norm], truncation=True, max_length=max_length, return_tensors="pt")
            out = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
            case = {"text": text, "normalised": norm}
            for head in HEADS:
                case[head] = torch.softmax(out[head].float(), -1)[0].tolist()
            cases.append(case)
    fixture = {
        "model": f"{manifest['name']}@{manifest['version']}",
        "produced_by": "scripts/make_parity_fixture.py (transformers + torch, float32, one post per batch)",
        "heads": {k: v for k, v in HEADS.items()},
        "cases": cases,
    }
    Path(args.out).write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
