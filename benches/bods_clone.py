#!/usr/bin/env python3
"""Deterministic BODS benchmark input: the real UK PSC + GLEIF sample cloned N times.

Each copy gets new statementIds and recordIds (suffix -cK) and every reference inside
(subject, interestedParty, componentRecords) is rewritten the same way, so the copies are
separate, internally consistent registers. Written as a JSON array (what libcovebods reads).

    python3 benches/bods_clone.py --copies 100 --out /tmp/bods-100.json
"""
import argparse
import json


def rename(value, suffix):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("statementId", "recordId") and isinstance(v, str):
                out[k] = v + suffix
            elif k in ("subject", "interestedParty", "declarationSubject") and isinstance(v, str):
                out[k] = v + suffix
            elif k == "componentRecords" and isinstance(v, list):
                out[k] = [x + suffix if isinstance(x, str) else x for x in v]
            else:
                out[k] = rename(v, suffix)
        return out
    if isinstance(value, list):
        return [rename(v, suffix) for v in value]
    return value


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--copies", type=int, default=100)
    p.add_argument("--sample", default="data/bods/uk-psc-gleif-bods04/all_demo.jsonl")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(a.sample, encoding="utf-8") as f:
        statements = [json.loads(line) for line in f if line.strip()]
    with open(a.out, "w", encoding="utf-8") as out:
        out.write("[\n")
        first = True
        for k in range(a.copies):
            for s in statements:
                if not first:
                    out.write(",\n")
                first = False
                out.write(json.dumps(rename(s, f"-c{k}"), ensure_ascii=False))
        out.write("\n]\n")


if __name__ == "__main__":
    main()
