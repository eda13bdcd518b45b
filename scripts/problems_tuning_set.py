#!/usr/bin/env python3
"""Writes the tuning sets for `earshot problems eval` from ../shared/data (nothing is copied
into the repo): JSONL lines {"text": ..., "category": ...} of complaints only, in a fixed
shuffled order (posts arrive mixed, not sorted by category).

  xfincorp-domain.jsonl   X-FINCORP complaints (complaint_label 1), category = the `domain`
                          column, case folded and the three spellings of transaction failures
                          merged; domains with fewer than 20 complaints left out.
  cesamard-domain.jsonl   CESAMARD-Aspect complaints (Complaint 1), category = product domain
                          (Electronics, Fashion, Books, Edible); Misc left out.

Usage: python3 scripts/problems_tuning_set.py [--shared ../shared/data] [--out target/problems-tuning]
Standard library only.
"""
import argparse
import collections
import csv
import json
import os
import random

MERGED = {"transaction fail": "transaction failure", "transaction": "transaction failure"}


def xfincorp(shared):
    path = os.path.join(shared, "complaints", "xfincorp", "x-fincorp.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["complaint_label"] == "1" and r["text"].strip()]
    for r in rows:
        domain = r["domain"].strip().lower()
        r["category"] = MERGED.get(domain, domain)
    counts = collections.Counter(r["category"] for r in rows)
    return [{"text": r["text"], "category": r["category"]} for r in rows if counts[r["category"]] >= 20]


def cesamard(shared):
    path = os.path.join(shared, "complaints", "cesamard", "cesamard-aspect.csv")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        out = []
        for row in reader:
            # By position (the aspect columns repeat): 4 Domain, 6 Review_S, 7 Complaint.
            if len(row) > 7 and row[7] == "1" and row[4] != "Misc" and row[6].strip():
                out.append({"text": row[6].replace("\\n", "\n").strip(), "category": row[4]})
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--shared", default=os.path.join(here, "..", "..", "shared", "data"))
    parser.add_argument("--out", default=os.path.join(here, "..", "target", "problems-tuning"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, rows in (("xfincorp-domain", xfincorp(args.shared)), ("cesamard-domain", cesamard(args.shared))):
        random.Random(17).shuffle(rows)
        path = os.path.join(args.out, f"{name}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        cats = collections.Counter(r["category"] for r in rows)
        print(f"{path}: {len(rows)} complaints, {len(cats)} categories")


if __name__ == "__main__":
    main()
