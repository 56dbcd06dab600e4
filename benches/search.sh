#!/usr/bin/env bash
# Search API latency under load: `tuwhera serve` on SQLite and on PostgreSQL, loaded with wrk. From the
# repository root:
#
#   bash benches/search.sh [--duration S] [--connections N] [--threads N] [--copies N] [--only sqlite,postgres]
#                          [--no-build] [--timeout S]
#
# Steps:
#   1. cargo build --release -p tuwhera (--no-build: use the binary already in the target folder).
#   2. Input: ../shared/tools/ocds-scale.py --copies N (default 1: the 29,040 real DGCP releases, 10,000 processes;
#      the same data as data/ocds/dgcp-split-c1.jsonl.gz; --copies 4: ~116,000 releases).
#   3. tuwhera ingest into a fresh SQLite file (WORK/search/bench.db) and into a fresh database of a throwaway
#      PostgreSQL this script starts (the Debian package is installed if missing), as in scripts/test.sh but with
#      PostgreSQL's default settings (fsync on).
#   4. For each database: tuwhera serve --database URL --bind 127.0.0.1:PORT; one GET of every path (a warm-up
#      and a check: paths that do not answer 200 are listed); then three loads, each
#      `wrk -tT -cN -dS --timeout 10s -s benches/search.lua`:
#        mixed          the paths in benches/search-queries.txt in turn (40 API and HTML requests: text
#                       searches, filters, buyer filters, organisation searches, single fetches)
#        home           GET /
#        process pages  GET /procurement/{ocid} for 20 ocids spread over the input (percent-encoded)
#      After each load, the server's peak RSS (VmHWM in /proc/PID/status) and its CPU time are read.
#
# Output: machine, commit and versions, then a Markdown table (database | load | requests/s | p50 ms | p90 | p99 |
# errors | serve peak MB) and notes (acceptance targets: p99 < 50 ms for the mixed load on SQLite, p50 < 20 ms
# for the home and process pages; server CPU; paths that did not answer 200) on stdout. Rows are appended as JSON
# lines to $WORK/search-results.jsonl and the report is kept in $WORK/search-report-latest.md; wrk, serve and
# ingest logs in $WORK/logs/search-RUN/. errors = wrk's connect, read, write and timeout errors plus responses
# with an HTTP status > 399. wrk runs on the same machine as the server and the database, and takes its share of
# the CPUs. Nothing is asserted: this is a benchmark, not a test; a server that does not start gives n/a rows.
#
# Options: --duration S (seconds per load, default 30), --connections N (default 64), --threads N (wrk threads,
# default 2), --copies N (default 1), --only LIST (sqlite, postgres; default both), --no-build, --timeout S
# (seconds for each ingest, default 900).
# Environment: WORK (default /tmp/tuwhera-bench, shared with benches/ocds.sh and benches/ingest.sh, whose inputs
# are reused), SHARED (default ../shared), CARGO_TARGET_DIR.
set -euo pipefail
export LC_ALL=C

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

DURATION=30
CONNECTIONS=64
THREADS=2
COPIES=1
ONLY=sqlite,postgres
BUILD=1
TIMEOUT=${TIMEOUT:-900}
while [ $# -gt 0 ]; do
  case $1 in
    --duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
    --duration=*) DURATION=${1#*=}; shift ;;
    --connections) CONNECTIONS=${2:?--connections needs a number}; shift 2 ;;
    --connections=*) CONNECTIONS=${1#*=}; shift ;;
    --threads) THREADS=${2:?--threads needs a number}; shift 2 ;;
    --threads=*) THREADS=${1#*=}; shift ;;
    --copies) COPIES=${2:?--copies needs a number}; shift 2 ;;
    --copies=*) COPIES=${1#*=}; shift ;;
    --only) ONLY=${2:?--only needs a list}; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --no-build) BUILD=0; shift ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "search.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for pair in "duration:$DURATION" "connections:$CONNECTIONS" "threads:$THREADS" "copies:$COPIES" "timeout:$TIMEOUT"; do
  case ${pair#*:} in ''|*[!0-9]*|0) echo "search.sh: --${pair%%:*} must be a positive integer" >&2; exit 2 ;; esac
done
[ "$CONNECTIONS" -ge "$THREADS" ] || { echo "search.sh: --connections must be at least --threads" >&2; exit 2; }
for db in ${ONLY//,/ }; do
  case $db in sqlite|postgres) ;; *) echo "search.sh: --only takes sqlite and/or postgres, not $db" >&2; exit 2 ;; esac
done

log() { printf '[search.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

for tool in timeout python3 cargo git sha256sum curl; do
  command -v "$tool" > /dev/null || die "$tool is required"
done
if ! command -v wrk > /dev/null; then
  log "installing wrk (Debian package wrk)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2 || die "could not install wrk"
fi

ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
[ -f benches/search.sh ] || die "run from the tuwhera repository (benches/search.sh not found in $ROOT)"
SHARED=$(cd "${SHARED:-../shared}" 2>/dev/null && pwd) || die "shared folder not found (set SHARED=)"
WORK=${WORK:-/tmp/tuwhera-bench}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
SCALE=$SHARED/tools/ocds-scale.py
HELPER=$ROOT/benches/ocds_bench.py
LUA=$ROOT/benches/search.lua
QUERIES=$ROOT/benches/search-queries.txt
for f in "$SCALE" "$HELPER" "$LUA" "$QUERIES"; do
  [ -f "$f" ] || die "missing $f"
done
helper() { python3 "$HELPER" "$@"; }

RUN=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$WORK/logs/search-$RUN
mkdir -p "$LOGS"
RUN_FILE=$LOGS/rows.jsonl
RESULTS=$WORK/search-results.jsonl
REPORT=$WORK/search-report-latest.md
: > "$RUN_FILE"
D=$WORK/search
mkdir -p "$D"

# ---- PostgreSQL (as scripts/test.sh, but with the default durability settings) ---------------------------------
PGTMP=
PG_STOP=()
SERVE_PID=
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
  PG_PORT=$(free_port)
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
stop_serve() {
  [ -n "$SERVE_PID" ] || return 0
  kill "$SERVE_PID" 2> /dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$SERVE_PID" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$SERVE_PID" 2> /dev/null || true
  wait "$SERVE_PID" 2> /dev/null || true
  SERVE_PID=
}
cleanup() { stop_serve; stop_postgres; }
trap cleanup EXIT
trap 'exit 130' INT TERM
psql_do() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U tuwhera "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# cpu_s PID [children]: CPU seconds used by PID (all its threads); with "children", also its reaped children and
# its live children (for the PostgreSQL postmaster: the server's processes). Empty when PID is gone.
cpu_s() {
  python3 - "$@" <<'EOF'
import os, sys
root, children = sys.argv[1], len(sys.argv) > 2
tick = os.sysconf("SC_CLK_TCK")
def fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()   # fields from 3 (state) on
try:
    f = fields(root)
except OSError:
    print("")
    sys.exit()
total = int(f[11]) + int(f[12])                     # utime stime
if children:
    total += int(f[13]) + int(f[14])                # cutime cstime
    for pid in os.listdir("/proc"):
        if pid.isdigit() and pid != root:
            try:
                g = fields(pid)
            except OSError:
                continue
            if g[1] == root:
                total += int(g[11]) + int(g[12])
print(f"{total / tick:.2f}")
EOF
}
pg_cpu() { cpu_s "$(head -n 1 "$PGTMP/data/postmaster.pid" 2> /dev/null)" children; }
# vm KEY PID: a /proc/PID/status field in kB (VmHWM, VmRSS); empty when PID is gone.
vm() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$2/status" 2> /dev/null || true; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
last_line() { grep -v '^[[:space:]]*$' "$1" 2> /dev/null | tail -n 1 || true; }
# row KEY=VALUE...: append one JSON row to $RUN_FILE (values that parse as JSON stay numbers or objects).
row() {
  python3 - "$RUN_FILE" run="$RUN" commit="$commit" "$@" <<'EOF'
import json, sys
path, pairs = sys.argv[1], sys.argv[2:]
row = {}
for pair in pairs:
    key, value = pair.split("=", 1)
    try:
        row[key] = json.loads(value) if value != "" else None
    except ValueError:
        row[key] = value
with open(path, "a", encoding="utf-8") as f:
    f.write(json.dumps(row, ensure_ascii=False) + "\n")
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
"$TUWHERA" serve --help > /dev/null 2>&1 || die "$TUWHERA has no serve command (yet?)"

# ---- 2. input --------------------------------------------------------------------------------------------------
# generate COPIES OUT: as benches/ocds.sh and benches/ingest.sh (same paths: either script reuses the others' input).
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
generate "$COPIES" "$REL"
thousands() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
n_rel=$(thousands "$(helper meta-field "${REL%.jsonl}.scale.json" releases)")
n_ocids=$(thousands "$(helper meta-field "${REL%.jsonl}.scale.json" ocids)")

# The path files: the committed mix, the home page, and 20 process pages spread over the input's ocids.
MIXED=$QUERIES
HOME_PATHS=$D/home.txt
PROCESS_PATHS=$D/process-pages.txt
echo / > "$HOME_PATHS"
python3 - "$REL" "$PROCESS_PATHS" <<'EOF'
import json, sys, urllib.parse
rel, out = sys.argv[1], sys.argv[2]
ocids, seen = [], set()
with open(rel, encoding="utf-8") as f:
    for line in f:
        ocid = json.loads(line)["ocid"]
        if ocid not in seen:
            seen.add(ocid)
            ocids.append(ocid)
step = max(1, len(ocids) // 20)
with open(out, "w", encoding="utf-8") as f:
    for ocid in ocids[::step][:20]:
        f.write("/procurement/" + urllib.parse.quote(ocid, safe="") + "\n")
EOF
count_paths() { grep -cv '^[[:space:]]*\(#.*\)\{0,1\}$' "$1"; }

# ---- header ----------------------------------------------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu_model" ] || cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
[ -z "$dirty" ] || commit="$commit (uncommitted changes)"

PG_OK=0
pg_desc="not run"
if wants postgres; then
  log "starting a throwaway PostgreSQL"
  if start_postgres; then
    PG_OK=1
    pg_desc="$(psql_do -d postgres -At -c "SELECT 'PostgreSQL ' || current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', shared_buffers ' || current_setting('shared_buffers')" 2>&1 | head -n 1) (defaults)"
  else
    pg_desc="PostgreSQL did not start (see $LOGS/initdb.log, postgres.log)"
    log "$pg_desc: its rows will be n/a"
  fi
fi
{
  echo "# tuwhera search benchmark — $RUN"
  echo
  echo "- commit: $commit"
  echo "- machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $(uname -sr); wrk, tuwhera serve and PostgreSQL share them"
  echo "- tuwhera: $("$TUWHERA" --version 2>/dev/null || echo '?'), $(rustc --version 2>/dev/null || echo 'rustc ?')"
  echo "- wrk: $(wrk --version 2>&1 | head -n 1 | cut -d' ' -f1-2); -t$THREADS -c$CONNECTIONS -d${DURATION}s --timeout 10s per load"
  echo "- data: c$COPIES releases.jsonl, $n_rel releases, $n_ocids processes; databases: SQLite in $D; $pg_desc"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (other work on the machine skews the times)"
  echo "- options: --duration $DURATION --connections $CONNECTIONS --threads $THREADS --copies $COPIES --only $ONLY$([ "$BUILD" = 0 ] && echo ' --no-build'), WORK=$WORK"
  echo
} | tee "$REPORT"

# ---- 3. measurements -------------------------------------------------------------------------------------------
# ingest DATABASE URL: fresh ingest, timed; returns 1 when tuwhera ingest fails (exit > 1).
ingest() {
  local db=$1 url=$2 rc=0 start
  log "$db: tuwhera ingest $REL"
  start=$(now)
  timeout --kill-after=30 "$TIMEOUT" "$TUWHERA" ingest "$REL" --database "$url" \
    > "$LOGS/ingest-$db.stdout" 2> "$LOGS/ingest-$db.stderr" || rc=$?
  local wall
  wall=$(elapsed "$start")
  log "$db: ingest exit $rc in $wall s: $(last_line "$LOGS/ingest-$db.stderr")"
  row kind=ingest database="$db" exit="$rc" wall_s="$wall" summary="$(last_line "$LOGS/ingest-$db.stderr")"
  [ "$rc" -le 1 ]
}

# start_serve DATABASE URL: starts tuwhera serve in the background (SERVE_PID, SERVE_URL); returns 1 if it does not
# answer within 120 s.
start_serve() {
  local db=$1 url=$2 port i code
  port=$(free_port)
  SERVE_URL=http://127.0.0.1:$port
  log "$db: tuwhera serve --database $url --bind 127.0.0.1:$port"
  "$TUWHERA" serve --database "$url" --bind "127.0.0.1:$port" > "$LOGS/serve-$db.log" 2>&1 &
  SERVE_PID=$!
  for i in $(seq 1 480); do
    if ! kill -0 "$SERVE_PID" 2> /dev/null; then
      wait "$SERVE_PID" 2> /dev/null || true
      SERVE_PID=
      log "$db: tuwhera serve exited: $(last_line "$LOGS/serve-$db.log")"
      return 1
    fi
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$SERVE_URL/" 2> /dev/null || true)
    if [ -n "$code" ] && [ "$code" != 000 ]; then
      grep -q "http://127.0.0.1:$port" "$LOGS/serve-$db.log" \
        || log "$db: note: serve answers but did not print http://127.0.0.1:$port"
      log "$db: serve is up (pid $SERVE_PID, GET / -> $code after $i polls)"
      return 0
    fi
    sleep 0.25
  done
  log "$db: tuwhera serve did not answer within 120 s"
  stop_serve
  return 1
}

# check DATABASE: GET every path once (warm-up); the ones that do not answer 200 are recorded.
check_paths() {
  local db=$1 f path code t bad=0 n=0
  local set
  : > "$LOGS/check-$db.tsv"
  for f in "$MIXED" "$HOME_PATHS" "$PROCESS_PATHS"; do
    case $f in "$MIXED") set=mixed ;; "$HOME_PATHS") set=home ;; *) set="process pages" ;; esac
    while IFS= read -r path; do
      case $path in ''|'#'*) continue ;; esac
      n=$((n + 1))
      read -r code t < <(curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\n' "$SERVE_URL$path" || echo "000 0")
      printf '%s\t%s\t%s\t%s\n' "$code" "$t" "$set" "$path" >> "$LOGS/check-$db.tsv"
      [ "$code" = 200 ] || bad=$((bad + 1))
    done < "$f"
  done
  log "$db: checked $n paths once: $bad did not answer 200 (see $LOGS/check-$db.tsv)"
  row kind=check database="$db" paths="$n" not_ok="$bad" check_file="$LOGS/check-$db.tsv" \
    not_ok_paths="$(awk -F'\t' '$1 != "200" { printf "%s%s %s", (n++ ? "; " : ""), $1, $4 }' "$LOGS/check-$db.tsv")" \
    rss_idle_kb="$(vm VmRSS "$SERVE_PID")"
}

# load DATABASE LOAD PATHS_FILE: one wrk run; records requests/s, latency percentiles, errors, serve peak RSS.
load() {
  local db=$1 name=$2 paths=$3 slug cpu0 cpu1 pg0='' pg1='' start wall rc=0
  slug=$db-${name// /-}
  log "$db: $name: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s ($(count_paths "$paths") paths)"
  cpu0=$(cpu_s "$SERVE_PID")
  [ "$db" != postgres ] || pg0=$(pg_cpu)
  start=$(now)
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$LUA" "$SERVE_URL" -- "$paths" \
    > "$LOGS/wrk-$slug.log" 2>&1 || rc=$?
  wall=$(elapsed "$start")
  cpu1=$(cpu_s "$SERVE_PID")
  [ "$db" != postgres ] || pg1=$(pg_cpu)
  local alive=yes
  kill -0 "$SERVE_PID" 2> /dev/null || alive=no
  row kind=load database="$db" load="$name" paths_file="$paths" paths="$(count_paths "$paths")" wrk_exit="$rc" \
    wall_s="$wall" wrk="$(sed -n 's/^wrk-json //p' "$LOGS/wrk-$slug.log" | tail -n 1)" \
    serve_alive="$alive" serve_hwm_kb="$(vm VmHWM "$SERVE_PID")" serve_rss_kb="$(vm VmRSS "$SERVE_PID")" \
    serve_cpu_s="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { if (a != "" && b != "") printf "%.2f", b - a }')" \
    pg_cpu_s="$(awk -v a="$pg0" -v b="$pg1" 'BEGIN { if (a != "" && b != "") printf "%.2f", b - a }')"
  log "$db: $name: $(sed -n 's/^wrk-json //p' "$LOGS/wrk-$slug.log" | tail -n 1 | cut -c1-160)"
}

# bench DATABASE URL: ingest, serve, check, three loads, stop.
bench() {
  local db=$1 url=$2 name
  if ! ingest "$db" "$url"; then
    for name in mixed home "process pages"; do
      row kind=load database="$db" load="$name" status=n/a note="tuwhera ingest failed: $(last_line "$LOGS/ingest-$db.stderr")"
    done
    return
  fi
  if ! start_serve "$db" "$url"; then
    for name in mixed home "process pages"; do
      row kind=load database="$db" load="$name" status=n/a note="tuwhera serve did not start: $(last_line "$LOGS/serve-$db.log")"
    done
    return
  fi
  check_paths "$db"
  load "$db" mixed "$MIXED"
  load "$db" home "$HOME_PATHS"
  load "$db" "process pages" "$PROCESS_PATHS"
  stop_serve
}

if wants sqlite; then
  DB=$D/bench.db
  rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"
  bench sqlite "sqlite://$DB"
fi
if wants postgres; then
  if [ "$PG_OK" = 1 ] && psql_do -d postgres -c 'DROP DATABASE IF EXISTS bench' -c 'CREATE DATABASE bench' > "$LOGS/createdb.log" 2>&1; then
    bench postgres "$PG_URL_BASE/bench"
  else
    for name in mixed home "process pages"; do
      row kind=load database=postgres load="$name" status=n/a note="PostgreSQL unavailable (see $LOGS/initdb.log, createdb.log, postgres.log)"
    done
  fi
fi
stop_postgres

# ---- report ----------------------------------------------------------------------------------------------------
python3 - "$RUN_FILE" "$RESULTS" <<'EOF' | tee -a "$REPORT"
import json, sys
run_file, results = sys.argv[1], sys.argv[2]
with open(run_file, encoding="utf-8") as f:
    rows = [json.loads(line) for line in f if line.strip()]
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)

loads = [r for r in rows if r["kind"] == "load"]
for r in loads:
    w = r.get("wrk") if isinstance(r.get("wrk"), dict) else None
    if r.get("status") == "n/a":
        continue
    if w is None or not w.get("requests"):
        r["status"] = "failed"
        r["note"] = f"wrk exit {r.get('wrk_exit')}, no results (see wrk-{r['database']}-*.log)"
    else:
        r["status"] = "ok"
        r["errors"] = sum(w["errors"].values())
        if r.get("serve_alive") == "no":
            r["note"] = "tuwhera serve was gone after the load"

print("| database | load | requests/s | p50 ms | p90 | p99 | errors | serve peak MB |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in loads:
    w = r.get("wrk") if r.get("status") == "ok" else None
    label = f"{r['load']} ({r['paths']} paths)" if r.get("paths") and r["paths"] > 1 else r["load"]
    if w is None:
        print(f"| {names.get(r['database'], r['database'])} | {label} | n/a | n/a | n/a | n/a | n/a | n/a |")
        continue
    errors = f"{r['errors']:,}" + (f" of {w['requests']:,}" if r["errors"] else "")
    hwm = r.get("serve_hwm_kb")
    print(f"| {names.get(r['database'], r['database'])} | {label} | {w['rps']:,.0f} | {w['p50_ms']:.1f} | "
          f"{w['p90_ms']:.1f} | {w['p99_ms']:.1f} | {errors} | {fmt(hwm / 1024 if hwm else None, '.0f')} |")
print()
print("Latencies from wrk (ms, per request, not corrected for coordinated omission); errors = connect, read, "
      "write and timeout errors plus HTTP statuses > 399; serve peak MB = VmHWM of the tuwhera serve process "
      "after the load (the PostgreSQL server's memory is not in it). wrk keeps every connection busy, so "
      "mean latency ≈ connections / (requests/s): a p50 under 20 ms at 64 connections takes about 3,200 "
      "requests/s.")

def find(db, load):
    return next((r for r in loads if r["database"] == db and r["load"] == load and r.get("status") == "ok"), None)

print()
print("Targets:")
r = find("sqlite", "mixed")
if r:
    p99 = r["wrk"]["p99_ms"]
    print(f"- mixed load on SQLite, p99 < 50 ms: {p99:.1f} ms — {'met' if p99 < 50 else 'NOT met'}")
else:
    print("- mixed load on SQLite, p99 < 50 ms: n/a")
for db in ("sqlite", "postgres"):
    for load in ("home", "process pages"):
        r = find(db, load)
        if r:
            p50 = r["wrk"]["p50_ms"]
            print(f"- {load} on {names[db]}, p50 < 20 ms: {p50:.1f} ms — {'met' if p50 < 20 else 'NOT met'}")
        elif any(x["database"] == db for x in loads):
            print(f"- {load} on {names[db]}, p50 < 20 ms: n/a")

notes = []
for r in rows:
    db = names.get(r.get("database"), r.get("database"))
    if r["kind"] == "ingest":
        notes.append(f"- {db}: ingest (fresh database) exit {r['exit']}, {r['wall_s']:.1f} s: “{r.get('summary') or ''}”")
    elif r["kind"] == "check":
        idle = f"; serve RSS {r['rss_idle_kb'] / 1024:.0f} MB after them" if r.get("rss_idle_kb") else ""
        if r["not_ok"]:
            notes.append(f"- {db}: {r['not_ok']} of {r['paths']} paths did not answer 200 when checked one by one "
                         f"before the loads: {r['not_ok_paths']}{idle}")
        else:
            notes.append(f"- {db}: all {r['paths']} paths answered 200 when checked one by one before the loads{idle}")
        # The same requests, unloaded: one at a time (curl's total time, fresh connection each).
        times = {}
        try:
            with open(r["check_file"], encoding="utf-8") as f:
                for line in f:
                    code, t, group, path = line.rstrip("\n").split("\t", 3)
                    times.setdefault(group, []).append((float(t) * 1000, path))
        except (OSError, KeyError, ValueError):
            times = {}
        def median(xs):
            xs = sorted(x for x, _ in xs)
            return xs[len(xs) // 2] if xs else None
        bits = []
        for group in ("mixed", "home", "process pages"):
            if times.get(group):
                bits.append(f"{group} median {median(times[group]):.1f} ms")
        slow = sorted(times.get("mixed", []), reverse=True)[:3]
        if slow:
            bits.append("slowest: " + ", ".join(f"{p} {t:.0f} ms" for t, p in slow))
        if bits:
            notes.append(f"- {db}: unloaded, one request at a time: " + "; ".join(bits))
    elif r["kind"] == "load":
        if r.get("status") != "ok":
            notes.append(f"- {db} / {r['load']}: {r.get('status')} — {r.get('note', '')}")
            continue
        w = r["wrk"]
        bits = [f"{w['requests']:,} requests in {w['seconds']:.1f} s", f"p99.9 {w['p999_ms']:.1f} ms, max {w['max_ms']:.1f} ms"]
        if r.get("serve_cpu_s") is not None:
            bits.append(f"serve CPU {r['serve_cpu_s']:.1f} s ({100 * r['serve_cpu_s'] / w['seconds']:.0f}% of one CPU)")
        if r.get("pg_cpu_s") is not None:
            bits.append(f"PostgreSQL CPU {r['pg_cpu_s']:.1f} s ({100 * r['pg_cpu_s'] / w['seconds']:.0f}%)")
        errs = {k: v for k, v in w["errors"].items() if v}
        if errs:
            bits.append("errors: " + ", ".join(f"{k} {v:,}" for k, v in errs.items()))
        if r.get("note"):
            bits.append(r["note"])
        notes.append(f"- {db} / {r['load']}: " + "; ".join(bits))
if notes:
    print()
    print("Notes:")
    print("\n".join(notes))
with open(results, "a", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
EOF
log "rows appended to $RESULTS; report in $REPORT; logs in $LOGS"
