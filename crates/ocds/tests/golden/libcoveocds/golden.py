#!/usr/bin/env python3
"""Helpers for make-reports.sh (standard library only; run with any Python 3.8+).

  golden.py zip SRC_DIR OUT.zip      deterministic standard ZIP laid out as libcoveocds expects
  golden.py meta FILE...             print "URI<US>PUBLISHED_DATE" (US = \x1f) of the first package among FILEs
  golden.py summary REPORT...        print the markdown tables used in README.md
  golden.py dates REPORT             where the date-time errors of a report are (field -> count, value shapes)
  golden.py readme README.md REPORT...  rewrite the part of README.md between the "tables" markers
"""
import collections
import gzip
import json
import os
import re
import sys
import zipfile


def cmd_zip(src, out):
    # ocdsextensionregistry's ProfileBuilder.get_standard_file_contents() takes the FIRST name in the ZIP as the
    # root folder and, for tags >= 1__1__5, reads every entry under ROOT + "schema/" (keys relative to it, e.g.
    # "release-schema.json", "codelists/tenderStatus.csv"). So the first entry must be the folder entry
    # "standard-1__1__5/". Fixed timestamps and sorted order make the ZIP byte-identical across runs.
    root = "standard-1__1__5/"

    def add(zf, name, data=b""):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = ((0o40755 << 16) | 0x10) if name.endswith("/") else (0o644 << 16)
        zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)

    with zipfile.ZipFile(out, "w") as zf:
        add(zf, root)
        add(zf, root + "schema/")
        for dirpath, dirs, files in sorted(os.walk(src)):
            dirs.sort()
            rel = os.path.relpath(dirpath, src)
            prefix = root + "schema/" + ("" if rel == "." else rel.replace(os.sep, "/") + "/")
            if rel != ".":
                add(zf, prefix)
            for name in sorted(files):
                with open(os.path.join(dirpath, name), "rb") as f:
                    add(zf, prefix + name, f.read())


def cmd_meta(*files):
    for path in files:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict) and "releases" in data:
            print(f"{data.get('uri') or ''}\x1f{data.get('publishedDate') or ''}")
            return
    print("\x1f")


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def slug_of(path):
    return re.sub(r"\.json(\.gz)?$", "", os.path.basename(path))


def summarize(report):
    """Return (counts by type, counts by (type, field), additional-section rows)."""
    by_type = collections.Counter(e["type"] for e in report.get("validation_errors", []))
    by_type_field = collections.Counter((e["type"], e["field"]) for e in report.get("validation_errors", []))
    rows = []
    rows.append(("count (releases/records that are objects)", report.get("count")))
    rows.append(("unique_ocids_count", report.get("unique_ocids_count")))
    rows.append(("validation_errors (entries = error instances)", len(report.get("validation_errors", []))))
    rows.append(("validation_errors distinct (type, field, description)",
                 len({(e["type"], e["field"], e["description"]) for e in report.get("validation_errors", [])})))
    bad = (report.get("conformance_errors") or {}).get("ocds_prefixes_bad_format", [])
    rows.append(("conformance_errors.ocds_prefixes_bad_format", len(bad)))
    dep = report.get("deprecated_fields", [])
    rows.append(("deprecated_fields (field names / parent paths)",
                 f"{len(dep)} / {sum(len(d['paths']) for d in dep)}"))
    missing = (report.get("structure_warnings") or {}).get("missing_ids", [])
    rows.append(("structure_warnings.missing_ids", len(missing)))
    for key in ("additional_closed_codelist_values", "additional_open_codelist_values"):
        section = report.get(key, {})
        rows.append((f"{key} (fields / values)",
                     f"{len(section)} / {sum(len(v['values']) for v in section.values())}"))
    checks = report.get("additional_checks", {})
    rows.append(("additional_checks.empty_field", len(checks.get("empty_field", []))))
    add = report.get("additional_fields", [])
    rows.append(("additional_fields (root fields / sum usage_count)",
                 f"{len(add)} / {sum(a['usage_count'] for a in add)}"))
    rows.append(("all_additional_fields (every additional path)", len(report.get("all_additional_fields", []))))
    ext = report.get("extensions")
    if ext:
        rows.append(("extensions.extensions / invalid_extensions",
                     f"{len(ext.get('extensions', []))} / {len(ext.get('invalid_extensions', []))}"))
    return by_type, by_type_field, rows


def cmd_summary(*reports):
    for path in reports:
        report = load(path)
        by_type, by_type_field, rows = summarize(report)
        print(f"### {slug_of(path)}\n")
        print("| validation error `type` | count |")
        print("| --- | ---: |")
        for kind, n in sorted(by_type.items()):
            print(f"| {kind} | {n} |")
        if not by_type:
            print("| (none) | 0 |")
        print()
        if by_type_field:
            print("<details><summary>by type and field</summary>\n")
            print("| type | field | count |")
            print("| --- | --- | ---: |")
            for (kind, field), n in sorted(by_type_field.items()):
                print(f"| {kind} | `{field}` | {n} |")
            print("\n</details>\n")
        print("| other section | count |")
        print("| --- | ---: |")
        for name, value in rows:
            print(f"| {name} | {value} |")
        print()


def cmd_dates(path):
    report = load(path)
    errors = [e for e in report["validation_errors"] if e["type"] == "date-time"]
    print(f"date-time errors: {len(errors)}")
    fields = collections.Counter(e["field"] for e in errors)
    for field, n in fields.most_common():
        print(f"  {n:6d}  {field}")
    shapes = collections.Counter(re.sub(r"\d", "9", str(e["value"])) for e in errors)
    print("value shapes (digits -> 9):")
    for shape, n in shapes.most_common(10):
        print(f"  {n:6d}  {shape!r}")
    releases = collections.Counter(e["path"].split("/")[1] for e in errors)
    print(f"distinct releases with a date-time error: {len(releases)}")


def cmd_readme(readme, *reports):
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        cmd_summary(*reports)
    begin, end = "<!-- tables:begin -->", "<!-- tables:end -->"
    text = open(readme, encoding="utf-8").read() if os.path.exists(readme) else ""
    block = f"{begin}\n\n{buffer.getvalue()}{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text + ("\n" if text else "") + block + "\n"
    with open(readme, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"zip": cmd_zip, "meta": cmd_meta, "summary": cmd_summary, "dates": cmd_dates, "readme": cmd_readme}[command](*args)
