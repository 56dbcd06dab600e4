#!/usr/bin/env bash
# Performance benchmark of the `tuwhera ocds` commands against their Python peers, run side by side on the same
# input in one run. From the repository root:
#
#   bash benches/ocds.sh [--copies N] [--quick] [--validate-full] [--only compile,validate,flatten] [--timeout S]
#
# Pairs (each command under `/usr/bin/time -v` and `timeout`):
#   compile   tuwhera ocds compile releases.jsonl -o OUT
#             vs ocdskit compile --schema S < releases.packages.jsonl          (ocdskit needs packages)
#             vs python benches/ocdsmerge_rs_compile.py --schema S releases.packages.jsonl   (ocdsmerge-rs binding)
#             input: ../shared/tools/ocds-scale.py --copies N (default 4: ~116,000 releases, 290 MB)
#   validate  tuwhera ocds validate PACKAGE --format json > report
#             vs libcoveocds --standard-zip ZIP PACKAGE
#             input: one release package built with `ocdskit combine-release-packages` from the --copies 1 data
#             (29,040 releases, 73 MB; libcoveocds needs ~40 s and 850 MB on it); --validate-full: the N-copy data
#   flatten   tuwhera ocds flatten compiled.jsonl --output DIR
#             vs spoonbill --schema S --csv DIR --xlsx '' compiled.jsonl
#             input: the 10,000 real DGCP compiled releases (67 MB); --quick: their first 2,024 lines (14 MB)
#
# Output: machine, commit and versions, then a Markdown table (task | input | tool | wall s | peak MB | CPU% |
# ratio = peer time / our time) on stdout; the rows are appended as JSON lines to $WORK/results.jsonl and the whole
# report is kept in $WORK/report-latest.md. Commands' stdout/stderr and time reports: $WORK/logs/RUN/.
# A tuwhera command that is not implemented yet ("not yet") or that fails gives an "n/a" row, never a failed run.
# Nothing is asserted: this is a benchmark, not a test.
#
# Environment: WORK (default /tmp/tuwhera-bench), SHARED (default ../shared), PEERS (virtualenv with the peers;
# default /tmp/peers if it exists, else $WORK/peers, created with `pip install ocdskit ocdsmerge-rs libcoveocds
# spoonbill`), TIMEOUT (seconds per command, default 900), CARGO_TARGET_DIR.
set -euo pipefail
export LC_ALL=C

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

COPIES=4
QUICK=0
VALIDATE_FULL=0
ONLY=compile,validate,flatten
TIMEOUT=${TIMEOUT:-900}
while [ $# -gt 0 ]; do
  case $1 in
    --copies) COPIES=${2:?--copies needs a number}; shift 2 ;;
    --copies=*) COPIES=${1#*=}; shift ;;
    --quick) QUICK=1; shift ;;
    --validate-full) VALIDATE_FULL=1; shift ;;
    --only) ONLY=${2:?--only needs a list}; shift 2 ;;
    --only=*) ONLY=${1#*=}; shift ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "ocds.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $COPIES in ''|*[!0-9]*|0) echo "ocds.sh: --copies must be a positive integer" >&2; exit 2 ;; esac
case $TIMEOUT in ''|*[!0-9]*|0) echo "ocds.sh: --timeout must be a positive integer (seconds)" >&2; exit 2 ;; esac

log() { printf '[ocds.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

for tool in /usr/bin/time timeout python3 cargo git sha256sum; do
  command -v "$tool" > /dev/null || die "$tool is required"
done

ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
[ -f benches/ocds.sh ] || die "run from the tuwhera repository (benches/ocds.sh not found in $ROOT)"
SHARED=$(cd "${SHARED:-../shared}" 2>/dev/null && pwd) || die "shared folder not found (set SHARED=)"
WORK=${WORK:-/tmp/tuwhera-bench}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ -z "${PEERS:-}" ]; then
  if [ -d /tmp/peers ]; then PEERS=/tmp/peers; else PEERS=$WORK/peers; fi
fi
SCHEMA=$SHARED/standards/ocds/1.1.5/release-schema.json
STANDARD=$SHARED/standards/ocds/1.1.5
SCALE=$SHARED/tools/ocds-scale.py
DGCP=$SHARED/data/ocds/dr-dgcp-10000-compiled.jsonl.gz
GOLDEN_PY=$ROOT/crates/ocds/tests/golden/libcoveocds/golden.py
HELPER=$ROOT/benches/ocds_bench.py
MERGE_DRIVER=$ROOT/benches/ocdsmerge_rs_compile.py
for f in "$SCHEMA" "$SCALE" "$DGCP" "$GOLDEN_PY" "$HELPER" "$MERGE_DRIVER"; do
  [ -f "$f" ] || die "missing $f"
done
helper() { python3 "$HELPER" "$@"; }

RUN=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$WORK/logs/$RUN
mkdir -p "$LOGS"
RUN_FILE=$LOGS/rows.jsonl
RESULTS=$WORK/results.jsonl
REPORT=$WORK/report-latest.md
: > "$RUN_FILE"

# ---- 1. build --------------------------------------------------------------------------------------------------
log "building: cargo build --release -p tuwhera"
cargo build --release -p tuwhera >&2 || die "cargo build --release -p tuwhera failed (the benchmark needs a fresh build)"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
TUWHERA=$TARGET_DIR/release/tuwhera
[ -x "$TUWHERA" ] || die "no binary at $TUWHERA"

# ---- 2. inputs -------------------------------------------------------------------------------------------------
# generate COPIES OUT: OUT (one release per line) and OUT's .packages.jsonl, unless OUT.scale.json (the line
# ocds-scale.py prints: copies, bytes, sha256, ...) says they are already there with the right size and sha256.
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

# package PACKAGES_JSONL OUT_JSON: one release package for libcoveocds, as make-reports.sh builds it.
package() {
  local src=$1 out=$2
  if [ -s "$out" ] && [ "$out" -nt "$src" ]; then
    log "reusing $out"
    return
  fi
  log "building $out with ocdskit combine-release-packages"
  "$PEERS/bin/ocdskit" combine-release-packages --uri "urn:tuwhera-bench:scaled:1000" \
    --published-date "2024-01-01T00:00:00Z" < "$src" > "$out.tmp"
  mv "$out.tmp" "$out"
}

# ---- 3. peers --------------------------------------------------------------------------------------------------
peers_ready() {
  [ -x "$PEERS/bin/python" ] && [ -x "$PEERS/bin/ocdskit" ] && [ -x "$PEERS/bin/libcoveocds" ] \
    && [ -x "$PEERS/bin/spoonbill" ] \
    && (cd "$WORK" && "$PEERS/bin/python" -c 'import ocdsmerge_rs, ocdskit, libcoveocds, spoonbill') 2> /dev/null
}
if ! peers_ready; then
  log "setting up the peers in $PEERS"
  [ -x "$PEERS/bin/python" ] || python3 -m venv "$PEERS"
  "$PEERS/bin/pip" install --quiet ocdskit ocdsmerge-rs libcoveocds spoonbill >&2
  peers_ready || die "the peers in $PEERS do not work"
fi

# ---- header ----------------------------------------------------------------------------------------------------
cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1)
[ -n "$cpu_model" ] || cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
[ -z "$dirty" ] || commit="$commit (uncommitted changes)"
peer_versions=$(cd "$WORK" && "$PEERS/bin/python" -c '
import importlib.metadata as m
print(", ".join(f"{p} {m.version(p)}" for p in ("ocdskit", "ocdsmerge-rs", "libcoveocds", "spoonbill")))')
{
  echo "# tuwhera ocds benchmark — $RUN"
  echo
  echo "- commit: $commit"
  echo "- machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $(uname -sr)"
  echo "- tuwhera: $("$TUWHERA" --version 2>/dev/null || echo '?'), $(rustc --version 2>/dev/null || echo 'rustc ?')"
  echo "- peers ($PEERS): $peer_versions, $("$PEERS/bin/python" --version 2>&1)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (other work on the machine skews the times)"
  echo "- options: --copies $COPIES$([ "$QUICK" = 1 ] && echo ' --quick')$([ "$VALIDATE_FULL" = 1 ] && echo ' --validate-full'), timeout ${TIMEOUT} s, WORK=$WORK"
  echo
  echo '```'
  free -g
  echo '```'
  echo
} | tee "$REPORT"

# ---- 4. measurements -------------------------------------------------------------------------------------------
# run_timed TASK INPUT_LABEL INPUT_PATH TOOL ROLE OUTPUT STDIN STDOUT -- COMMAND...
#   Runs COMMAND in $WORK under /usr/bin/time -v and timeout (input read once beforehand so that every tool starts
#   with it in the page cache) and records a row. ROLE is "ours" (exit 1 = the data had problems: still a
#   measurement) or "peer". Never fails the script.
run_timed() {
  local task=$1 label=$2 input=$3 tool=$4 role=$5 output=$6 stdin=$7 stdout=$8
  shift 9
  local slug="$task-${tool//[^A-Za-z0-9]/_}"
  local tfile=$LOGS/$slug.time errfile=$LOGS/$slug.stderr
  local ok_codes=0
  [ "$role" = ours ] && ok_codes=0,1
  cat "$input" > /dev/null
  log "$task: $tool ..."
  local rc=0 load cmd
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '')
  cmd=$(printf '%q ' "$@")
  (cd "$WORK" && /usr/bin/time -v -o "$tfile" timeout --kill-after=30 "$TIMEOUT" "$@" < "$stdin" > "$stdout" 2> "$errfile") || rc=$?
  helper record "$RUN_FILE" run="$RUN" commit="$commit" task="$task" input="$label" input_path="$input" \
    tool="$tool" role="$role" rc="$rc" ok_codes="$ok_codes" time="$tfile" stderr="$errfile" output="$output" \
    timeout="$TIMEOUT" load1="$load" command="${cmd% }"
  log "$task: $tool done: exit $rc, $(sed -n 's/^[[:space:]]*Elapsed (wall clock) time ([^)]*): *//p' "$tfile" 2>/dev/null) wall, $(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): *//p' "$tfile" 2>/dev/null) kB peak"
}

# human SIZE_IN_BYTES -> "290 MB"
human() { awk -v b="$1" 'BEGIN { printf (b >= 1e9 ? "%.1f GB" : "%.0f MB"), (b >= 1e9 ? b / 1e9 : b / 1e6) }'; }
lines() { wc -l < "$1" | tr -d ' '; }
# thousands 116160 -> 116,160
thousands() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }

# compile ---------------------------------------------------------------------------------------------------------
if wants compile; then
  REL=$WORK/releases.jsonl
  PKG=$WORK/releases.packages.jsonl
  generate "$COPIES" "$REL"
  n_rel=$(thousands "$(helper meta-field "$WORK/releases.scale.json" releases)")
  d=$WORK/compile
  mkdir -p "$d"
  rm -f "$d"/*.jsonl
  run_timed compile "c$COPIES releases.jsonl, $n_rel rel, $(human "$(stat -c %s "$REL")")" "$REL" tuwhera ours \
    "$d/tuwhera.jsonl" /dev/null "$LOGS/compile-tuwhera.stdout" -- \
    "$TUWHERA" ocds compile "$REL" -o "$d/tuwhera.jsonl"
  run_timed compile "c$COPIES packages.jsonl, $(human "$(stat -c %s "$PKG")")" "$PKG" ocdskit peer \
    "$d/ocdskit.jsonl" "$PKG" "$d/ocdskit.jsonl" -- \
    "$PEERS/bin/ocdskit" compile --schema "$SCHEMA"
  run_timed compile "c$COPIES packages.jsonl, $(human "$(stat -c %s "$PKG")")" "$PKG" ocdsmerge-rs peer \
    "$d/ocdsmerge-rs.jsonl" /dev/null "$d/ocdsmerge-rs.jsonl" -- \
    "$PEERS/bin/python" "$MERGE_DRIVER" --schema "$SCHEMA" "$PKG"
fi

# validate --------------------------------------------------------------------------------------------------------
if wants validate; then
  if [ "$VALIDATE_FULL" = 1 ] || [ "$COPIES" = 1 ]; then   # the --copies 1 data is the compile input itself
    vdir=$WORK
    vcopies=$COPIES
  else
    vdir=$WORK/c1
    vcopies=1
  fi
  generate "$vcopies" "$vdir/releases.jsonl"
  VPKG=$vdir/releases.package.json
  package "$vdir/releases.packages.jsonl" "$VPKG"
  n_rel=$(thousands "$(helper meta-field "$vdir/releases.scale.json" releases)")
  ZIP=$WORK/standard-1__1__5.zip
  [ -s "$ZIP" ] || python3 "$GOLDEN_PY" zip "$STANDARD" "$ZIP"
  d=$WORK/validate
  mkdir -p "$d"
  rm -f "$d"/*.json
  label="c$vcopies package.json, $n_rel rel, $(human "$(stat -c %s "$VPKG")")"
  run_timed validate "$label" "$VPKG" tuwhera ours "$d/tuwhera.json" /dev/null "$d/tuwhera.json" -- \
    "$TUWHERA" ocds validate "$VPKG" --format json
  run_timed validate "$label" "$VPKG" libcoveocds peer "$d/libcoveocds.json" /dev/null "$d/libcoveocds.json" -- \
    "$PEERS/bin/libcoveocds" --standard-zip "$ZIP" "$VPKG"
fi

# flatten ---------------------------------------------------------------------------------------------------------
if wants flatten; then
  d=$WORK/flatten
  mkdir -p "$d"
  FULL=$d/dgcp-10000.jsonl
  if [ ! -s "$FULL" ] || [ "$DGCP" -nt "$FULL" ]; then
    log "decompressing $DGCP"
    gzip -dc "$DGCP" > "$FULL.tmp"
    mv "$FULL.tmp" "$FULL"
  fi
  if [ "$QUICK" = 1 ]; then
    FIN=$d/dgcp-2024.jsonl
    head -n 2024 "$FULL" > "$FIN"
  else
    FIN=$FULL
  fi
  label="DGCP compiled, $(thousands "$(lines "$FIN")") rel, $(human "$(stat -c %s "$FIN")")"
  rm -rf "$d/tuwhera" "$d/spoonbill" "$FIN.state"
  mkdir -p "$d/tuwhera" "$d/spoonbill"   # spoonbill's --csv folder must exist
  run_timed flatten "$label" "$FIN" tuwhera ours "$d/tuwhera" /dev/null "$LOGS/flatten-tuwhera.stdout" -- \
    "$TUWHERA" ocds flatten "$FIN" --output "$d/tuwhera"
  # spoonbill writes FIN.state next to its input (hence the copy in $WORK); --xlsx '' turns off the workbook.
  run_timed flatten "$label" "$FIN" spoonbill peer "$d/spoonbill" /dev/null "$LOGS/flatten-spoonbill.stdout" -- \
    "$PEERS/bin/spoonbill" --schema "$SCHEMA" --csv "$d/spoonbill" --xlsx '' "$FIN"
  rm -f "$FIN.state"
fi

# ---- report ----------------------------------------------------------------------------------------------------
[ -s "$RUN_FILE" ] || die "nothing measured (--only $ONLY?)"
helper report "$RUN_FILE" "$RESULTS" | tee -a "$REPORT"
log "rows appended to $RESULTS; report in $REPORT; logs in $LOGS"
