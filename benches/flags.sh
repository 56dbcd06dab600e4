#!/usr/bin/env bash
# Benchmark of `tuwhera flags` (the red-flag indicators) and of the dashboards page. From the repository root:
#
#   bash benches/flags.sh [--copies N] [--duration S] [--no-build]
#
# 1. Indicators, timed with the CLI from compiled releases on disk, with Cardinal's settings file:
#      tuwhera flags --settings crates/flags/tests/cardinal/settings.ini --format cardinal FILE -o OUT
#    on (a) the 10,000 real DGCP compiled releases (data/ocds/dr-dgcp-10000-compiled.jsonl.gz, unpacked: 67 MB) and
#    (b) the scaled set: ../shared/tools/ocds-scale.py --copies N (default 4) compiled with `tuwhera ocds compile`
#    (about 42,000 compiled releases, 290 MB). Each run three times; the best is reported.
#    Cardinal 0.0.8 cannot be installed here (no CLI on PyPI, no network for cargo install of it), so its
#    figures are the ones measured on a machine of this kind and given in the issue: 0.31 s (DGCP, 67 MB) and
#    1.28 s (scaled, 291 MB), with 10 indicators; we run 11. The ratio printed is our time / Cardinal's.
# 2. Dashboards: the scaled releases ingested into SQLite, `tuwhera serve`, then wrk with 64 connections for S
#    seconds (default 30) on /dashboards and /api/v1/dashboards; latency percentiles from wrk --latency.
#
# Output: a Markdown table on stdout; logs in $WORK/logs/flags-RUN/. Nothing is asserted: a benchmark, not a test.
# Environment: WORK (default /tmp/tuwhera-bench), SHARED (default ../shared), CARGO_TARGET_DIR.
set -euo pipefail
export LC_ALL=C

COPIES=4
DURATION=30
BUILD=1
while [ $# -gt 0 ]; do
  case $1 in
    --copies) COPIES=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "flags.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
log() { printf '[flags.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
SHARED=$(cd "${SHARED:-../shared}" 2>/dev/null && pwd) || die "shared folder not found (set SHARED=)"
WORK=${WORK:-/tmp/tuwhera-bench}
mkdir -p "$WORK"
RUN=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=$WORK/logs/flags-$RUN
mkdir -p "$LOGS"
command -v wrk > /dev/null || { log "installing wrk"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2 || die "could not install wrk"; }

if [ "$BUILD" = 1 ]; then
  log "building tuwhera (release)"
  cargo build --release --locked -p tuwhera >&2
fi
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tuwhera
[ -x "$BIN" ] || die "no binary at $BIN"
SETTINGS=$ROOT/crates/flags/tests/cardinal/settings.ini

DGCP=$WORK/dgcp-compiled.jsonl
[ -s "$DGCP" ] || gzip -dc data/ocds/dr-dgcp-10000-compiled.jsonl.gz > "$DGCP"
SCALED_RELEASES=$WORK/c$COPIES.jsonl
if [ ! -s "$SCALED_RELEASES" ]; then
  log "making the scaled releases (--copies $COPIES)"
  python3 "$SHARED/tools/ocds-scale.py" --copies "$COPIES" --out "$SCALED_RELEASES" >&2
fi
SCALED=$WORK/c$COPIES.compiled.jsonl
if [ ! -s "$SCALED" ]; then
  log "compiling the scaled releases"
  "$BIN" ocds compile "$SCALED_RELEASES" -o "$SCALED" >&2
fi

# best_of3 NAME FILE: prints "seconds peak_MB" of the fastest of three runs.
best_of3() {
  local name=$1 file=$2 best= peak= i
  for i in 1 2 3; do
    /usr/bin/time -v -o "$LOGS/$name.$i.time" "$BIN" flags --settings "$SETTINGS" --format cardinal "$file" \
      -o "$LOGS/$name.out.json" 2> "$LOGS/$name.$i.err" || true
    local wall mb
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(j=1;j<=n;j++) s=s*60+a[j]; print s}' "$LOGS/$name.$i.time")
    mb=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$LOGS/$name.$i.time")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall; peak=$mb; fi
  done
  echo "$best $peak"
}

echo "| task | input | size | tuwhera s | peak MB | Cardinal 0.0.8 s | ratio ours/Cardinal |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for row in "dgcp:$DGCP:0.31" "scaled:$SCALED:1.28"; do
  IFS=: read -r name file cardinal <<< "$row"
  size=$(du -m "$file" | cut -f1)
  read -r secs mb <<< "$(best_of3 "$name" "$file")"
  ratio=$(awk -v a="$secs" -v b="$cardinal" 'BEGIN{printf "%.2f", a/b}')
  echo "| indicators | $name ($(wc -l < "$file") processes) | ${size} MB | $secs | $mb | $cardinal | $ratio |"
done

DB=$WORK/flags-dash.db
if [ ! -s "$DB" ]; then
  log "ingesting the scaled releases into $DB"
  "$BIN" ingest --database "sqlite://$DB" "$SCALED_RELEASES" >&2 || true
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --database "sqlite://$DB" --bind "127.0.0.1:$PORT" > "$LOGS/serve.out" 2> "$LOGS/serve.err" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break; sleep 0.5; done
# Each page once before measuring: the first request after a change computes what the cache keeps.
for path in /dashboards /api/v1/dashboards /risk; do curl -fsS "http://127.0.0.1:$PORT$path" > /dev/null; done
echo
echo "| page | connections | requests/s | p50 ms | p90 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- | --- |"
for path in /dashboards /api/v1/dashboards /risk; do
  wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$PORT$path" > "$LOGS/wrk${path//\//_}.txt" 2>&1
  rps=$(awk '/Requests\/sec/ {print $2}' "$LOGS/wrk${path//\//_}.txt")
  ms() { awk -v p="$1" '$1==p {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; printf "%.1f", v}' "$LOGS/wrk${path//\//_}.txt"; }
  echo "| $path | 64 | $rps | $(ms 50%) | $(ms 90%) | $(ms 99%) |"
done
log "logs: $LOGS"
