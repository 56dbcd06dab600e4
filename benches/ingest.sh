#!/usr/bin/env bash
# Ingest benchmark: `tuwhera ingest` into SQLite and into PostgreSQL, against `ocdskit compile` alone, run side by
# side on the same input in one run. From the repository root:
#
#   bash benches/ingest.sh [--copies N] [--quick] [--timeout S] [--no-build]
#
# Rows (each command under `/usr/bin/time -v` and `timeout`, input read once beforehand):
#   ocdskit compile --schema S < releases.packages.jsonl > compiled.jsonl    (ocdskit needs packages; the base)
#   tuwhera ingest releases.jsonl --database sqlite://WORK/ingest/bench.db    (fresh database file)
#   the same again into the same database                                     (rerun: nothing changed)
#   tuwhera ingest releases.jsonl --database postgres://tuwhera@127.0.0.1:PORT/bench   (fresh database)
#   the same again into the same database                                     (rerun: nothing changed)
# Input: ../shared/tools/ocds-scale.py --copies N (default 4: ~116,000 releases, 290 MB); --quick: --copies 1
# (29,040 releases, 73 MB). `tuwhera ingest` ends with a summary on stderr; exit 0 (all kept) and 1 (some
# quarantined) both count as a measurement. --no-build: use the tuwhera binary already in the target folder instead
# of running `cargo build --release -p tuwhera` first.
#
# PostgreSQL: a throwaway server this script starts (the Debian package is installed if missing), as in
# scripts/test.sh: initdb in a temporary directory owned by the `postgres` user (when run as root), a free port
# on 127.0.0.1, trust authentication for user tuwhera, stopped and deleted on exit. Default settings: fsync,
# synchronous_commit and full_page_writes on, shared_buffers 128 MB. Its server processes' CPU time is measured
# apart (from /proc) and reported in the notes: the CPU% and peak MB columns are those of the tuwhera client.
#
# Output: machine, commit and versions, then a Markdown table (input | tool | database | wall s | peak MB | CPU% |
# ratio = ocdskit compile wall time / this row's wall time; > 1: faster than ocdskit) on stdout; the rows are
# appended as JSON lines to $WORK/ingest-results.jsonl and the whole report is kept in
# $WORK/ingest-report-latest.md. Commands' stdout/stderr and time reports: $WORK/logs/ingest-RUN/. A tuwhera run
# that fails gives an "n/a" row, never a failed run. Nothing is asserted: this is a benchmark, not a test.
#
# Environment: WORK (default /tmp/tuwhera-bench, shared with benches/ocds.sh, whose inputs are reused), SHARED
# (default ../shared), PEERS (virtualenv with ocdskit; default /tmp/peers if it exists, else $WORK/peers, created
# with `pip install ocdskit`), TIMEOUT (seconds per command, default 900), CARGO_TARGET_DIR.
set -euo pipefail
export LC_ALL=C

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

COPIES=4
QUICK=0
BUILD=1
TIMEOUT=${TIMEOUT:-900}
while [ $# -gt 0 ]; do
  case $1 in
    --copies) COPIES=${2:?--copies needs a number}; shift 2 ;;
    --copies=*) COPIES=${1#*=}; shift ;;
    --quick) QUICK=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ingest.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$QUICK" = 1 ] && COPIES=1
case $COPIES in ''|*[!0-9]*|0) echo "ingest.sh: --copies must be a positive integer" >&2; exit 2 ;; esac
case $TIMEOUT in ''|*[!0-9]*|0) echo "ingest.sh: --timeout must be a positive integer (seconds)" >&2; exit 2 ;; esac

log() { printf '[ingest.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

for tool in /usr/bin/time timeout python3 cargo git sha256sum; do
  command -v "$tool" > /dev/null || die "$tool is required"
done

ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
[ -f benches/ingest.sh ] || die "run from the tuwhera repository (benches/ingest.sh not found in $ROOT)"
SHARED=$(cd "${SHARED:-../shared}" 2>/dev/null && pwd) || die "shared folder not found (set SHARED=)"
WORK=${WORK:-/tmp/tuwhera-bench}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ -z "${PEERS:-}" ]; then
  if [ -d /tmp/peers ]; then PEERS=/tmp/peers; else PEERS=$WORK/peers; fi
fi
SCHEMA=$SHARED/standards/ocds/1.1.5/release-schema.json
SCALE=$SHARED/tools/ocds-scale.py
HELPER=$ROOT/benches/ocds_bench.py
for f in "$SCHEMA" "$SCALE" "$HELPER"; do
  [ -f "$f" ] || die "missing $f"
done
helper() { python3 "$HELPER" "$@"; }

RUN=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$WORK/logs/ingest-$RUN
mkdir -p "$LOGS"
RUN_FILE=$LOGS/rows.jsonl
RESULTS=$WORK/ingest-results.jsonl
REPORT=$WORK/ingest-report-latest.md
: > "$RUN_FILE"

# ---- PostgreSQL (as scripts/test.sh, but with the default durability settings) ---------------------------------
PGTMP=
PG_STOP=()
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}
# start_postgres: sets PG_BIN, PG_PORT, PG_URL_BASE (postgres://tuwhera@127.0.0.1:PORT); returns 1 on failure.
start_postgres() {
  if ! PG_BIN=$(pg_bin); then
    log "installing PostgreSQL (Debian package postgresql)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || return 1
    PG_BIN=$(pg_bin) || return 1
  fi
  PGTMP=$(mktemp -d /tmp/tuwhera-pg-bench.XXXXXX)
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # initdb refuses to run as root: run the server as the postgres user, in a directory it owns.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres > /dev/null 2>&1 || useradd --system --home-dir "$PGTMP" postgres
    chown postgres "$PGTMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PG_BIN/initdb" -D "$PGTMP/data" -U tuwhera --auth=trust -E UTF8 > "$LOGS/initdb.log" 2>&1 || return 1
  PG_STOP=("${as[@]}" "$PG_BIN/pg_ctl" -D "$PGTMP/data" -m fast stop)
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w \
    -o "-p $PG_PORT -k $PGTMP -c listen_addresses=127.0.0.1" start > /dev/null || return 1
  PG_URL_BASE="postgres://tuwhera@127.0.0.1:$PG_PORT"
}
stop_postgres() {
  [ -n "$PGTMP" ] || return 0
  [ ${#PG_STOP[@]} -eq 0 ] || "${PG_STOP[@]}" > /dev/null 2>&1 || true
  cp "$PGTMP/log" "$LOGS/postgres.log" 2> /dev/null || true
  rm -rf "$PGTMP"
  PGTMP=
}
trap stop_postgres EXIT
trap 'exit 130' INT TERM
psql_do() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U tuwhera "$@"; }
# pg_cpu: CPU seconds used so far by the PostgreSQL server: the postmaster (with its reaped children, i.e. the
# backends that have exited) plus its live children.
pg_cpu() {
  local pid
  pid=$(head -n 1 "$PGTMP/data/postmaster.pid" 2> /dev/null) || { echo ''; return; }
  python3 - "$pid" <<'EOF'
import os, sys
root = sys.argv[1]
tick = os.sysconf("SC_CLK_TCK")
def fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()   # fields from 3 (state) on
total = 0
try:
    f = fields(root)
    total += sum(int(x) for x in f[11:15])            # utime stime cutime cstime
except OSError:
    print("")
    sys.exit()
for pid in os.listdir("/proc"):
    if not pid.isdigit() or pid == root:
        continue
    try:
        f = fields(pid)
    except OSError:
        continue
    if f[1] == root:                                   # ppid
        total += int(f[11]) + int(f[12])
print(f"{total / tick:.2f}")
EOF
}

# ---- 1. build --------------------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  log "building: cargo build --release -p tuwhera"
  cargo build --release -p tuwhera >&2 || die "cargo build --release -p tuwhera failed (the benchmark needs a fresh build)"
fi
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
TUWHERA=$TARGET_DIR/release/tuwhera
[ -x "$TUWHERA" ] || die "no binary at $TUWHERA"

# ---- 2. input --------------------------------------------------------------------------------------------------
# generate COPIES OUT: OUT (one release per line) and OUT's .packages.jsonl, unless OUT.scale.json (the line
# ocds-scale.py prints: copies, bytes, sha256, ...) says they are already there with the right size and sha256.
# The paths are those benches/ocds.sh uses, so either script reuses the other's input.
generate() {
  local copies=$1 out=$2
  local meta=${out%.jsonl}.scale.json
  mkdir -p "$(dirname "$out")"
  if helper scale-ok "$meta" "$out" "$copies" \
     && [ "$(sha256sum "$out" | cut -d' ' -f1)" = "$(helper meta-field "$meta" sha256)" ]; then
    log "reusing $out ($copies copies, sha256 $(helper meta-field "$meta" sha256))"
    return
  fi
  rm -f "$meta"
  log "generating $out with ocds-scale.py --copies $copies"
  python3 "$SCALE" --copies "$copies" --out "$out" > "$meta.tmp"
  mv "$meta.tmp" "$meta"
  log "generated: $(cat "$meta")"
}
if [ "$COPIES" = 1 ]; then IDIR=$WORK/c1; else IDIR=$WORK; fi
REL=$IDIR/releases.jsonl
PKG=$IDIR/releases.packages.jsonl
generate "$COPIES" "$REL"

# ---- 3. peers --------------------------------------------------------------------------------------------------
peers_ready() {
  [ -x "$PEERS/bin/python" ] && [ -x "$PEERS/bin/ocdskit" ] \
    && (cd "$WORK" && "$PEERS/bin/python" -c 'import ocdskit') 2> /dev/null
}
if ! peers_ready; then
  log "setting up ocdskit in $PEERS"
  [ -x "$PEERS/bin/python" ] || python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install --quiet ocdskit >&2
  peers_ready || die "ocdskit in $PEERS does not work"
fi

log "starting a throwaway PostgreSQL"
PG_OK=1
start_postgres || { PG_OK=0; log "PostgreSQL did not start (see $LOGS/initdb.log and, after the run, $LOGS/postgres.log): its rows will be n/a"; }

# ---- header ----------------------------------------------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu_model" ] || cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
[ -z "$dirty" ] || commit="$commit (uncommitted changes)"
peer_versions=$(cd "$WORK" && "$PEERS/bin/python" -c '
import importlib.metadata as m
print(", ".join(f"{p} {m.version(p)}" for p in ("ocdskit", "ocdsmerge")))')
pg_desc=unavailable
if [ "$PG_OK" = 1 ]; then
  pg_desc="$(psql_do -d postgres -At -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', shared_buffers ' || current_setting('shared_buffers') || ', max_wal_size ' || current_setting('max_wal_size')" 2>&1 | head -n 1) (defaults, data in $PGTMP)"
fi
{
  echo "# tuwhera ingest benchmark — $RUN"
  echo
  echo "- commit: $commit"
  echo "- machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $(uname -sr)"
  echo "- tuwhera: $("$TUWHERA" --version 2>/dev/null || echo '?'), $(rustc --version 2>/dev/null || echo 'rustc ?')"
  echo "- peer ($PEERS): $peer_versions, $("$PEERS/bin/python" --version 2>&1)"
  echo "- database: SQLite in $WORK/ingest; $pg_desc"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (other work on the machine skews the times)"
  echo "- options: --copies $COPIES$([ "$QUICK" = 1 ] && echo ' (--quick)')$([ "$BUILD" = 0 ] && echo ' --no-build'), timeout ${TIMEOUT} s, WORK=$WORK"
  echo
  echo '```'
  free -g
  echo '```'
  echo
} | tee "$REPORT"

# ---- 4. measurements -------------------------------------------------------------------------------------------
# run_timed SLUG INPUT_LABEL INPUT_PATH TOOL ROLE OUTPUT STDIN STDOUT -- COMMAND...
#   Runs COMMAND in $WORK under /usr/bin/time -v and timeout (input read once beforehand so that every run starts
#   with it in the page cache) and records a row (benches/ocds_bench.py record). ROLE is "ours" (exit 1 = some
#   releases quarantined: still a measurement) or "peer". Never fails the script.
run_timed() {
  local slug=$1 label=$2 input=$3 tool=$4 role=$5 output=$6 stdin=$7 stdout=$8
  shift 9
  local tfile=$LOGS/$slug.time errfile=$LOGS/$slug.stderr
  local ok_codes=0
  [ "$role" = ours ] && ok_codes=0,1
  cat "$input" > /dev/null
  log "$tool ..."
  local rc=0 load cmd
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '')
  cmd=$(printf '%q ' "$@")
  (cd "$WORK" && /usr/bin/time -v -o "$tfile" timeout --kill-after=30 "$TIMEOUT" "$@" < "$stdin" > "$stdout" 2> "$errfile") || rc=$?
  helper record "$RUN_FILE" run="$RUN" commit="$commit" task=ingest input="$label" input_path="$input" \
    tool="$tool" role="$role" rc="$rc" ok_codes="$ok_codes" time="$tfile" stderr="$errfile" output="$output" \
    timeout="$TIMEOUT" load1="$load" command="${cmd% }"
  log "$tool done: exit $rc, $(sed -n 's/^[[:space:]]*Elapsed (wall clock) time ([^)]*): *//p' "$tfile" 2>/dev/null) wall, $(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): *//p' "$tfile" 2>/dev/null) kB peak"
}

# annotate KEY=VALUE...: add fields to the last row of $RUN_FILE (numbers stay numbers).
annotate() {
  python3 - "$RUN_FILE" "$@" <<'EOF'
import json, sys
path, pairs = sys.argv[1], sys.argv[2:]
with open(path, encoding="utf-8") as f:
    rows = f.read().splitlines()
row = json.loads(rows[-1])
for pair in pairs:
    key, value = pair.split("=", 1)
    try:
        row[key] = json.loads(value) if value != "" else None
    except ValueError:
        row[key] = value
rows[-1] = json.dumps(row, ensure_ascii=False)
with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(rows) + "\n")
EOF
}

# skip_row TOOL DATABASE NOTE: an n/a row for a run that could not happen.
skip_row() {
  python3 - "$RUN_FILE" "$RUN" "$commit" "$1" "$2" "$3" <<'EOF'
import json, sys
path, run, commit, tool, database, note = sys.argv[1:]
row = {"run": run, "commit": commit, "task": "ingest", "tool": tool, "role": "ours", "database": database,
       "status": "n/a", "note": note}
with open(path, "a", encoding="utf-8") as f:
    f.write(json.dumps(row, ensure_ascii=False) + "\n")
EOF
}

# last_line FILE: the last non-empty line of FILE (tuwhera ingest's summary).
last_line() { grep -v '^[[:space:]]*$' "$1" 2> /dev/null | tail -n 1 || true; }

human() { awk -v b="$1" 'BEGIN { printf (b >= 1e9 ? "%.1f GB" : "%.0f MB"), (b >= 1e9 ? b / 1e9 : b / 1e6) }'; }
thousands() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }

n_rel=$(thousands "$(helper meta-field "${REL%.jsonl}.scale.json" releases)")
REL_LABEL="c$COPIES releases.jsonl, $n_rel rel, $(human "$(stat -c %s "$REL")")"
PKG_LABEL="c$COPIES packages.jsonl, $(human "$(stat -c %s "$PKG")")"
D=$WORK/ingest
mkdir -p "$D"

# ocdskit compile: the base -------------------------------------------------------------------------------------
rm -f "$D/ocdskit.jsonl"
run_timed ocdskit "$PKG_LABEL" "$PKG" "ocdskit compile" peer "$D/ocdskit.jsonl" "$PKG" "$D/ocdskit.jsonl" -- \
  "$PEERS/bin/ocdskit" compile --schema "$SCHEMA"
annotate database=none
rm -f "$D/ocdskit.jsonl"

# SQLite --------------------------------------------------------------------------------------------------------
DB=$D/bench.db
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"
for pass in 1 2; do
  if [ "$pass" = 1 ]; then slug=sqlite; tool="tuwhera ingest"; else slug=sqlite-rerun; tool="tuwhera ingest, rerun"; fi
  run_timed "$slug" "$REL_LABEL" "$REL" "$tool" ours "" /dev/null "$LOGS/$slug.stdout" -- \
    "$TUWHERA" ingest "$REL" --database "sqlite://$DB"
  size=0
  for f in "$DB" "$DB-wal"; do [ -f "$f" ] && size=$((size + $(stat -c %s "$f"))); done
  annotate database=SQLite pass="$pass" db_bytes="$size" summary="$(last_line "$LOGS/$slug.stderr")"
done
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"

# PostgreSQL ----------------------------------------------------------------------------------------------------
if [ "$PG_OK" = 1 ] && psql_do -d postgres -c 'DROP DATABASE IF EXISTS bench' -c 'CREATE DATABASE bench' > "$LOGS/createdb.log" 2>&1; then
  for pass in 1 2; do
    if [ "$pass" = 1 ]; then slug=postgres; tool="tuwhera ingest"; else slug=postgres-rerun; tool="tuwhera ingest, rerun"; fi
    cpu_before=$(pg_cpu)
    run_timed "$slug" "$REL_LABEL" "$REL" "$tool" ours "" /dev/null "$LOGS/$slug.stdout" -- \
      "$TUWHERA" ingest "$REL" --database "$PG_URL_BASE/bench"
    sleep 0.5   # let the postmaster reap the exited backends, whose CPU time then counts in its cutime
    cpu_after=$(pg_cpu)
    server_cpu=
    [ -z "$cpu_before" ] || [ -z "$cpu_after" ] || server_cpu=$(awk -v a="$cpu_after" -v b="$cpu_before" 'BEGIN { printf "%.2f", a - b }')
    size=$(psql_do -d postgres -At -c "SELECT pg_database_size('bench')" 2> /dev/null || echo '')
    annotate database=PostgreSQL pass="$pass" db_bytes="$size" server_cpu_s="$server_cpu" \
      summary="$(last_line "$LOGS/$slug.stderr")"
  done
else
  note="PostgreSQL unavailable (see $LOGS/initdb.log, createdb.log, postgres.log)"
  skip_row "tuwhera ingest" PostgreSQL "$note"
  skip_row "tuwhera ingest, rerun" PostgreSQL "$note"
fi
stop_postgres

# ---- report ----------------------------------------------------------------------------------------------------
python3 - "$RUN_FILE" "$RESULTS" "$COPIES" <<'EOF' | tee -a "$REPORT"
import json, sys
run_file, results, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(run_file, encoding="utf-8") as f:
    rows = [json.loads(line) for line in f if line.strip()]
base = next((r for r in rows if r["role"] == "peer"), None)
base_s = base.get("wall_s") if base and base.get("status") == "ok" else None
for r in rows:
    r["ratio"] = None
    if r["role"] == "ours" and r.get("status") == "ok" and base_s and r.get("wall_s"):
        r["ratio"] = round(base_s / r["wall_s"], 2)

def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)

print("| input | tool | database | wall s | peak MB | CPU% | ratio |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
for r in rows:
    if r["role"] == "peer":
        ratio = "1 (base)" if r.get("status") == "ok" else "n/a"
    else:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}×"
    cpu = "n/a" if r.get("cpu_pct") is None else f"{r['cpu_pct']}%"
    db = {"none": "—"}.get(r.get("database"), r.get("database") or "—")
    print(f"| {r.get('input', 'n/a')} | {r['tool']} | {db} | {fmt(r.get('wall_s'), '.2f')} | "
          f"{fmt(r.get('peak_mb'), '.0f')} | {cpu} | {ratio} |")
print()
print("ratio = ocdskit compile wall time / this row's wall time on the same input (> 1: tuwhera is faster). "
      "tuwhera ingest stores every release and compiles every process; ocdskit compile only compiles.")
print()
print("Acceptance (fresh database, ratio ≥ 3× on the --copies 4 input):")
for db in ("SQLite", "PostgreSQL"):
    r = next((r for r in rows if r.get("database") == db and r.get("pass", 1) == 1 and r["role"] == "ours"), None)
    if r is None or r["ratio"] is None:
        verdict = "n/a"
    else:
        verdict = f"{r['ratio']:.2f}× — {'met' if r['ratio'] >= 3 else 'NOT met'}"
        if copies != 4:
            verdict += f" (on --copies {copies}, not the acceptance input)"
    print(f"- {db}: {verdict}")
notes = []
for r in rows:
    label = f"{r['tool']}" + (f" ({r['database']})" if r.get("database") not in (None, "none") else "")
    if r.get("status") != "ok":
        notes.append(f"- {label}: {r.get('status')} — {r.get('note', '')}")
        continue
    bits = []
    if r.get("summary"):
        bits.append(f"“{r['summary']}”")
    if r.get("db_bytes"):
        bits.append(f"database {r['db_bytes'] / 1e6:.0f} MB after")
    if r.get("server_cpu_s") is not None:
        bits.append(f"PostgreSQL server processes {r['server_cpu_s']:.1f} s CPU (not in CPU%)")
    if r.get("output_lines") is not None:
        bits.append(f"{r['output_lines']:,} compiled releases, {r['output_bytes'] / 1e6:.1f} MB")
    if bits:
        notes.append(f"- {label}: " + "; ".join(bits))
if notes:
    print()
    print("Notes:")
    print("\n".join(notes))
with open(results, "a", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
EOF
log "rows appended to $RESULTS; report in $REPORT; logs in $LOGS"
