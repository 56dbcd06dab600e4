#!/usr/bin/env python3
"""Compile releases with the Python binding of ocdsmerge-rs (peer for `tuwhera ocds compile` in benches/ocds.sh).

ocdsmerge_rs is a library without a command line, so this is the minimal driver around it:

  python ocdsmerge_rs_compile.py --schema release-schema.json IN.jsonl [IN.jsonl ...] > compiled.jsonl

Each input line is a release package (its "releases" are taken) or a single release. Releases are grouped by ocid in
memory, each group is sorted by date (Merger.create_compiled_release wants them sorted; the sort is stable, so
releases with the same date keep their input order) and merged with merge rules derived from the schema, as
`ocdskit compile --schema` does. One compiled release per line is written, in ocid order (like tuwhera).
"""
import argparse
import json
import sys

from ocdsmerge_rs import Merger


def read_releases(paths):
    for path in paths:
        with (sys.stdin if path == "-" else open(path, encoding="utf-8")) as f:
            for line in f:
                if not line.strip():
                    continue
                data = json.loads(line)
                if isinstance(data, dict) and isinstance(data.get("releases"), list):
                    yield from data["releases"]
                else:
                    yield data


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schema", help="release schema to derive the merge rules from (default: no rules)")
    parser.add_argument("--output", "-o", help="write here instead of standard output")
    parser.add_argument("files", nargs="*", default=["-"])
    args = parser.parse_args()

    if args.schema:
        with open(args.schema, encoding="utf-8") as f:
            schema = json.load(f)
        merger = Merger(rules=Merger.get_rules(Merger.dereference(schema)))
    else:
        merger = Merger()

    groups = {}
    n_releases = 0
    for release in read_releases(args.files or ["-"]):
        groups.setdefault(release.get("ocid"), []).append(release)
        n_releases += 1

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for ocid in sorted(groups, key=lambda o: (o is None, str(o))):
            releases = groups[ocid]
            releases.sort(key=lambda r: str(r.get("date") or ""))
            compiled = merger.create_compiled_release(releases)
            out.write(json.dumps(compiled, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"compiled {len(groups)} ocids from {n_releases} releases", file=sys.stderr)


if __name__ == "__main__":
    main()
