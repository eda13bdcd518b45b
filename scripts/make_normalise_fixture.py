#!/usr/bin/env python3
"""Writes tests/it/fixtures/normalise-v2.jsonl: input normalisation version 2 as Python
computes it (text_rules.normalise_v2), for the Rust agreement test.

Cases: every emoji and symbol character of Unicode 17 (general categories Sm, Sc, Sk, So,
regional indicators, modifiers), in groups, plus ZWJ sequences, flags, keycaps, skin tones,
fancy letters and ordinary posts, each {"text", "expected"}.

    py=$(scripts/setup-python.sh | tail -n 1)
    $py scripts/make_normalise_fixture.py --vocab models/complaint-minilm-l6/vocab.txt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import text_rules  # noqa: E402
from text_rules import unicodedata2  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

HANDWRITTEN = [
    "@brand 😡😡😡 where is my refund",
    "👍🏽 thanks!! 🎉🎉",
    "👨\u200d👩\u200d👧 family trip ruined ✈️",
    "🇬🇧🇺🇸 flights 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "press 1️⃣ then #️⃣ and wait",
    "𝐓𝐡𝐢𝐬 𝐢𝐬 𝐛𝐫𝐨𝐤𝐞𝐧 ﬁx it",
    "ＦＵＬＬＷＩＤＴＨ ｃｏｍｐｌａｉｎｔ",
    "price went from <$100 to >$250 € ¥ ₹",
    "\\u201cquoted\\u201d &amp;amp; &lt;b&gt; https://t.co/x @user_1",
    "⠿⠿⠿ braille art ⠿",
    "½ of my order ² ³ ™ ©",
    "tabs\tand\u00a0nbsp\u3000and\u2028lines",
    "emoji at the end 🙃",
    "😀 😀\u200d 😀",
    "",
    "   ",
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", default=str(ROOT / "models" / "complaint-minilm-l6" / "vocab.txt"))
    p.add_argument("--out", default=str(ROOT / "tests" / "it" / "fixtures" / "normalise-v2.jsonl"))
    args = p.parse_args()
    vocab = text_rules.vocab_chars(args.vocab)
    symbols = [chr(c) for c in range(0x110000)
               if not 0xD800 <= c <= 0xDFFF
               and (unicodedata2.category(chr(c)) in ("Sm", "Sc", "Sk", "So")
                    or 0x1F1E6 <= c <= 0x1F1FF or 0x1F3FB <= c <= 0x1F3FF)]
    cases = list(HANDWRITTEN)
    # every symbol once, 16 per case with spaces and letters between, so names, runs and
    # vocabulary hits are all exercised
    for i in range(0, len(symbols), 16):
        group = symbols[i: i + 16]
        cases.append("a" + " x".join(group) + "b")
    # every symbol doubled, to exercise run collapsing
    for i in range(0, len(symbols), 64):
        cases.append("".join(c + c for c in symbols[i: i + 64]))
    with open(args.out, "w", encoding="utf-8") as f:
        for text in cases:
            f.write(json.dumps({"text": text, "expected": text_rules.normalise_v2(text, vocab)},
                               ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases ({len(symbols)} symbols, Unicode {text_rules.UNICODE_VERSION}) "
          f"to {args.out}")


if __name__ == "__main__":
    main()
