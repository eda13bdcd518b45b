"""Input normalisation version 2, shared by training and (identically) by the Rust scorer.

Version 1 (`sentiment_common.normalise`) left emoji and most symbols to the BERT tokenizer,
which turns them into [UNK]: an angry face or a thumbs-down lost its meaning. Version 2 adds
Unicode compatibility folding and names every symbol the vocabulary lacks, from the Unicode
Character Database (the `unicodedata2` package here, pinned at Unicode 17; the
`unicode_names2`, `unicode-properties` and `unicode-normalization` crates in Rust, also
Unicode 17). No hand-written emoji table: the names are the standard's.

Steps, in order (models/README.md, "Input normalisation", keeps the same list):
 1. literal \\uXXXX escapes -> that character (not surrogates), as in version 1;
 2. NFKC (fancy "𝐛𝐨𝐥𝐝" letters, full-width forms, ligatures fold to plain text);
 3. &lt; &gt; &amp; -> < > &; URLs -> http; @handles -> @user, as in version 1;
 4. each character:
    - zero-width joiner, variation selectors U+FE0E/U+FE0F, the keycap mark U+20E3, emoji
      skin-tone modifiers U+1F3FB..U+1F3FF and tag characters U+E0020..U+E007F are dropped;
    - regional indicator letters (flags) become "flag";
    - Braille patterns become a space (they are drawings, not words);
    - any other symbol (general category Sm, Sc, Sk or So) that is not a one-character entry
      of the vocabulary becomes its Unicode name in lower case, with a space either side;
    - the same name twice in a row (only spaces or dropped characters between) is kept once,
      so "😡😡😡" and "😡 😡" both become "pouting face";
 5. runs of White_Space -> one space, trimmed, as in version 1.
"""

from __future__ import annotations

import re

import unicodedata2

import sentiment_common as sc

UNICODE_VERSION = unicodedata2.unidata_version

NORMALISATION_V2 = (
    "version 2: 1) literal \\uXXXX escapes -> that character unless it is a surrogate; 2) NFKC "
    f"(Unicode {UNICODE_VERSION}); 3) &lt; -> <, &gt; -> >, then &amp; -> &; URLs matching "
    "(?i)https?://\\S+ -> http; @[A-Za-z0-9_]+ -> @user; 4) per character: U+200D, U+FE0E, U+FE0F, "
    "U+20E3, U+1F3FB..U+1F3FF and U+E0020..U+E007F dropped; regional indicators -> flag; Braille "
    "U+2800..U+28FF -> space; any other Sm/Sc/Sk/So character that is not a one-character vocab "
    "entry -> ' ' + its Unicode name in lower case + ' '; the same name repeated with only spaces "
    "or dropped characters between kept once; 5) runs of Unicode White_Space -> one space, "
    "trimmed; then the BERT tokenizer lowercases and strips accents"
)

_WS = set(sc._WS_CHARS)


def _dropped(code: int) -> bool:
    return (
        code in (0x200D, 0xFE0E, 0xFE0F, 0x20E3)
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def vocab_chars(vocab_path) -> frozenset[str]:
    """One-character entries of a WordPiece vocab.txt (not ## continuations)."""
    with open(vocab_path, encoding="utf-8") as f:
        return frozenset(line.rstrip("\n") for line in f if len(line.rstrip("\n")) == 1)


def _symbols(text: str, vocab: frozenset[str]) -> str:
    out: list[str] = []
    last_name: str | None = None
    for ch in text:
        code = ord(ch)
        if _dropped(code):
            continue
        if ch in _WS:
            out.append(ch)
            continue
        name = None
        if 0x1F1E6 <= code <= 0x1F1FF:
            name = "flag"
        elif 0x2800 <= code <= 0x28FF:
            out.append(" ")
            last_name = None
            continue
        elif unicodedata2.category(ch) in ("Sm", "Sc", "Sk", "So") and ch not in vocab:
            raw = unicodedata2.name(ch, "")
            name = raw.lower() if raw else None
            if name is None:
                out.append(" ")
                last_name = None
                continue
        if name is None:
            out.append(ch)
            last_name = None
            continue
        if name != last_name:
            out.append(" " + name + " ")
        last_name = name
    return "".join(out)


def normalise_v2(text: str, vocab: frozenset[str]) -> str:
    text = sc._ESCAPE.sub(sc._unescape, text)
    text = unicodedata2.normalize("NFKC", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = sc._URL.sub("http", text)
    text = sc._HANDLE.sub("@user", text)
    text = _symbols(text, vocab)
    return sc._WS.sub(" ", text).strip(sc._WS_CHARS)
