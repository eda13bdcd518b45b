"""The complaint corpora in ../shared/data/complaints/, read and split the same way everywhere.

Used by train_complaint.py (training and val), complaint_split.py (the val CSV that
`earshot eval` reads) and make_parity_fixture.py.

Split: a row goes to val when the first 8 bytes of sha256(version-1-normalised text), as a
big-endian integer, mod 100 is below 15; so duplicates (38 repeated tweets) always land in the
same split, and the split does not depend on row order or on the random seed.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import sentiment_common as sc

DATA_DIR = sc.PROJECT_ROOT / ".." / "shared" / "data" / "complaints"
SEVERITIES = ["none", "no explicit reproach", "disapproval", "accusation", "blame"]
_SEVERITY_ALIASES = {"non-complaint": "none", **{s: s for s in SEVERITIES}}
VAL_PERCENT = 15


@dataclass
class Row:
    text: str
    source: str  # "x-fincorp" or "cesamard"
    complaint: int  # 0/1
    severity: int  # index into SEVERITIES
    sentiment: int | None  # 0 negative, 1 neutral, 2 positive


def parse_severity(value: str) -> int:
    v = value.strip().lower()
    if v in _SEVERITY_ALIASES:
        return SEVERITIES.index(_SEVERITY_ALIASES[v])
    if v in ("0", "1", "2", "3", "4"):
        return int(v)
    raise ValueError(f"unknown severity {value!r}")


def split_of(text: str) -> str:
    digest = hashlib.sha256(sc.normalise(text).encode("utf-8")).digest()
    return "val" if int.from_bytes(digest[:8], "big") % 100 < VAL_PERCENT else "train"


def _xfincorp(path: Path) -> list[Row]:
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            complaint = int(r["complaint_label"])
            severity = parse_severity(r["severity"])
            if (severity > 0) != bool(complaint):
                continue  # inconsistent label pair: kept out rather than guessed
            sentiment = sc.LABEL2ID.get(r["sentiment"].strip().lower())
            rows.append(Row(r["text"], "x-fincorp", complaint, severity, sentiment))
    return rows


def _cesamard(path: Path) -> list[Row]:
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for r in reader:
            title, body = r[5].strip(), r[6].replace("\\n", " ").strip()
            text = f"{title}. {body}" if title else body
            complaint = int(r[7])
            severity = parse_severity(r[11])
            if (severity > 0) != bool(complaint):
                continue
            sentiment = int(r[10]) if r[10].strip() in ("0", "1", "2") else None
            rows.append(Row(text, "cesamard", complaint, severity, sentiment))
    return rows


def load(data_dir: Path = DATA_DIR) -> list[Row]:
    data_dir = Path(data_dir)
    return _xfincorp(data_dir / "xfincorp" / "x-fincorp.csv") + _cesamard(
        data_dir / "cesamard" / "cesamard-aspect.csv"
    )


def split(rows: list[Row]) -> tuple[list[Row], list[Row]]:
    train, val = [], []
    for row in rows:
        (val if split_of(row.text) == "val" else train).append(row)
    return train, val
