#!/usr/bin/env python3
"""Helpers for benches/ocds.sh (standard library only).

  ocds_bench.py scale-ok META OUT COPIES
      exit 0 when META (the JSON line printed by ocds-scale.py) says COPIES copies and OUT has META's size
  ocds_bench.py meta-field META FIELD
      print one field of META
  ocds_bench.py record RUN_FILE key=value ...
      parse one `/usr/bin/time -v` report (time=FILE) and append a measurement row to RUN_FILE (JSON Lines)
  ocds_bench.py report RUN_FILE RESULTS
      print the Markdown table of RUN_FILE (ratio = peer wall time / our wall time, per task) and notes,
      and append the rows (with their ratios) to RESULTS
"""
import json
import os
import re
import sys


def cmd_scale_ok(meta, out, copies):
    try:
        with open(meta, encoding="utf-8") as f:
            info = json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return 1
    if info.get("copies") != int(copies):
        return 1
    if not os.path.exists(out) or os.path.getsize(out) != info.get("bytes"):
        return 1
    pkg = info.get("packages_out")
    if not pkg or not os.path.exists(pkg):
        return 1
    return 0


def cmd_meta_field(meta, field):
    with open(meta, encoding="utf-8") as f:
        info = json.loads(f.read().strip().splitlines()[-1])
    print(info.get(field, ""))
    return 0


def parse_elapsed(text):
    """'1:02:03', '2:03.45' or '0:00.12' -> seconds."""
    seconds = 0.0
    for part in text.strip().split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_time_file(path):
    found = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return found
    m = re.search(r"Elapsed \(wall clock\) time \([^)]*\): *(\S+)", text)
    if m:
        found["wall_s"] = round(parse_elapsed(m.group(1)), 3)
    m = re.search(r"Maximum resident set size \(kbytes\): *(\d+)", text)
    if m:
        found["peak_mb"] = round(int(m.group(1)) / 1024, 1)
    m = re.search(r"Percent of CPU this job got: *(\d+)%", text)
    if m:
        found["cpu_pct"] = int(m.group(1))
    m = re.search(r"User time \(seconds\): *([\d.]+)", text)
    if m:
        found["user_s"] = float(m.group(1))
    m = re.search(r"System time \(seconds\): *([\d.]+)", text)
    if m:
        found["sys_s"] = float(m.group(1))
    m = re.search(r"Command terminated by signal (\d+)", text)
    if m:
        found["signal"] = int(m.group(1))
    return found


def output_size(path):
    """(bytes, lines or files) of an output file or folder; (None, None) when missing."""
    if not path or not os.path.exists(path):
        return None, None
    if os.path.isdir(path):
        total = files = 0
        for dirpath, _, names in os.walk(path):
            for name in names:
                files += 1
                total += os.path.getsize(os.path.join(dirpath, name))
        return total, files
    lines = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines += block.count(b"\n")
    return os.path.getsize(path), lines


def tail(path, n=400):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return ""
    return text[-n:]


def cmd_record(run_file, *pairs):
    a = dict(p.split("=", 1) for p in pairs)
    rc = int(a["rc"])
    ok_codes = {int(x) for x in a.get("ok_codes", "0").split(",") if x}
    row = {
        "run": a.get("run"),
        "commit": a.get("commit"),
        "task": a["task"],
        "input": a["input"],
        "input_path": a.get("input_path"),
        "input_bytes": os.path.getsize(a["input_path"]) if a.get("input_path") and os.path.exists(a["input_path"]) else None,
        "tool": a["tool"],
        "role": a["role"],
        "command": a.get("command"),
        "exit": rc,
        "load1_before": float(a["load1"]) if a.get("load1") else None,
    }
    row.update(parse_time_file(a["time"]))
    err = tail(a.get("stderr", ""), 2000)
    if rc in ok_codes:
        row["status"] = "ok"
    elif rc in (124, 137) or row.get("signal") == 9:
        row["status"] = "timeout"
        row["note"] = f"timed out after {a.get('timeout')} s"
    elif a["role"] == "ours" and re.search(r"not yet", err, re.I):
        row["status"] = "n/a"
        row["note"] = "not implemented in this build (\"not yet\")"
    else:
        row["status"] = "failed"
        last = [line for line in err.strip().splitlines() if line.strip()][-1:] or [""]
        row["note"] = f"exit {rc}: {last[0][:200]}"
    if row["status"] != "ok":
        for key in ("wall_s", "peak_mb", "cpu_pct", "user_s", "sys_s"):
            row.pop(key, None)
    out_bytes, out_count = output_size(a.get("output"))
    row["output"] = a.get("output")
    row["output_bytes"] = out_bytes
    row["output_" + ("files" if a.get("output") and os.path.isdir(a["output"]) else "lines")] = out_count
    with open(run_file, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def cmd_report(run_file, results):
    with open(run_file, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    ours = {r["task"]: r for r in rows if r["role"] == "ours"}
    for r in rows:
        base = ours.get(r["task"])
        r["ratio"] = None
        r["mem_ratio"] = None
        if r["role"] == "peer" and base and base["status"] == "ok" and r["status"] == "ok":
            if base.get("wall_s"):
                r["ratio"] = round(r["wall_s"] / base["wall_s"], 2)
            if base.get("peak_mb"):
                r["mem_ratio"] = round(r["peak_mb"] / base["peak_mb"], 2)

    print("| task | input | tool | wall s | peak MB | CPU% | ratio |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        if r["role"] == "ours":
            ratio = "1 (base)" if r["status"] == "ok" else "n/a"
        else:
            ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}×"
        cpu = "n/a" if r.get("cpu_pct") is None else f"{r['cpu_pct']}%"
        print(f"| {r['task']} | {r['input']} | {r['tool']} | {fmt(r.get('wall_s'), '.2f')} | "
              f"{fmt(r.get('peak_mb'), '.0f')} | {cpu} | {ratio} |")
    print()
    print("ratio = peer wall time / tuwhera wall time on the same task (> 1: tuwhera is faster).")
    notes = []
    for r in rows:
        if r["status"] != "ok":
            notes.append(f"- {r['task']} / {r['tool']}: {r['status']} — {r.get('note', '')}")
        elif r.get("mem_ratio") is not None:
            notes.append(f"- {r['task']} / {r['tool']}: peak memory {r['mem_ratio']:.1f}× tuwhera's")
    outputs = []
    for r in rows:
        if r["status"] == "ok" and r.get("output_bytes") is not None:
            count = (f"{r['output_lines']:,} lines" if r.get("output_lines") is not None
                     else f"{r.get('output_files', 0)} files")
            outputs.append(f"- {r['task']} / {r['tool']}: {count}, {r['output_bytes'] / 1e6:.1f} MB")
    if notes:
        print()
        print("Notes:")
        print("\n".join(notes))
    if outputs:
        print()
        print("Outputs (sanity check, not compared):")
        print("\n".join(outputs))
    with open(results, "a", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:] or ["--help"]
    commands = {"scale-ok": cmd_scale_ok, "meta-field": cmd_meta_field, "record": cmd_record, "report": cmd_report}
    if command not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[command](*rest))
