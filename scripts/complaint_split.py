#!/usr/bin/env python3
"""Writes one split of the complaint corpora (../shared/data/complaints) as the CSV that
`earshot eval --data` reads: text, complaint (0/1), severity (name), sentiment label.

The split is the one training used (complaint_data.split: 85/15 by a hash of the text), so
`earshot eval` on --split val measures what training never saw.

    python3 scripts/complaint_split.py --split val --out /tmp/complaint-val.csv
    target/release/earshot eval --data /tmp/complaint-val.csv

The CSV holds the shared data's text: keep it outside the repository.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import complaint_data as cd  # noqa: E402
import sentiment_common as sc  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", choices=["train", "val"], default="val")
    p.add_argument("--source", choices=["all", "x-fincorp", "cesamard"], default="all")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    train, val = cd.split(cd.load())
    rows = [r for r in (val if args.split == "val" else train) if args.source in ("all", r.source)]
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "complaint", "severity", "label", "source"])
        for r in rows:
            w.writerow([r.text, r.complaint, cd.SEVERITIES[r.severity],
                        "" if r.sentiment is None else sc.LABELS[r.sentiment], r.source])
    print(f"wrote {len(rows)} rows ({sum(r.complaint for r in rows)} complaints) to {args.out}")


if __name__ == "__main__":
    main()
