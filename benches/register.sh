#!/usr/bin/env bash
# Benchmark of the beneficial ownership register at a million statements. From the repository root:
#
#   bash benches/register.sh [--copies N] [--seconds S] [--no-build]
#
# 1. Input: the real UK PSC + GLEIF sample (1,204 statements) cloned N times with new ids
#    (benches/bods_clone.py; default 831 copies: 1,000,524 statements, 1.27 GB as a JSON array).
# 2. `tuwhera bods ingest` into a fresh SQLite database: read, upgrade, validate (schema and rules across
#    statements), store, then resolve every entity's ultimate owners. Printed: wall time, the storing and
#    resolving parts (TUWHERA_TIMING), statements per second, peak resident memory (/usr/bin/time -v); then the
#    same ingest again (nothing new: every statement is recognised and skipped).
# 3. `tuwhera serve` on that database and wrk with 64 connections for S seconds (default 30) on 20,000 entity
#    pages chosen at random across the copies (benches/search.lua in random mode): requests/s and latency
#    percentiles.
# No peer ingests or resolves BODS, so there is no ratio here; validation speed against libcovebods is
# benches/bods.sh. Nothing is asserted. Environment: WORK (default /tmp/tuwhera-bench).
set -euo pipefail
export LC_ALL=C
COPIES=831
SECONDS_RUN=30
BUILD=1
while [ $# -gt 0 ]; do
  case $1 in
    --copies) COPIES=${2:?}; shift 2 ;;
    --seconds) SECONDS_RUN=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "register.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
WORK=${WORK:-/tmp/tuwhera-bench}
mkdir -p "$WORK"
log() { echo "register.sh: $*" >&2; }
command -v wrk > /dev/null || { log "installing wrk"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >&2; }
[ "$BUILD" = 1 ] && cargo build --release --locked -p tuwhera >&2
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tuwhera

INPUT=$WORK/bods-$COPIES.json
[ -s "$INPUT" ] || { log "cloning the sample $COPIES times"; python3 benches/bods_clone.py --copies "$COPIES" --out "$INPUT"; }
N=$(grep -c '"statementId"' "$INPUT" || true)
DB=$WORK/register-$COPIES.db
rm -f "$DB" "$DB-wal" "$DB-shm"

ingest() { # ingest LABEL → one table row
  local label=$1
  TUWHERA_TIMING=1 /usr/bin/time -v -o "$WORK/register.time" \
    "$BIN" bods ingest --database "sqlite://$DB" "$INPUT" > "$WORK/register.out" 2> "$WORK/register.err" || true
  local wall mb storing total
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(j=1;j<=n;j++) s=s*60+a[j]; print s}' "$WORK/register.time")
  mb=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$WORK/register.time")
  storing=$(awk '/^timing: storing/ {print $3}' "$WORK/register.err")
  total=$(awk '/^timing: total/ {print $3}' "$WORK/register.err")
  local resolving rate
  resolving=$(awk -v t="$total" -v s="$storing" 'BEGIN{printf "%.1f", t-s}')
  rate=$(awk -v n="$N" -v w="$wall" 'BEGIN{ if (w > 0) printf "%.0f", n/w; else print "n/a" }')
  echo "| $label | $N | $wall | $storing | $resolving | $rate | $mb |"
  tail -1 "$WORK/register.err" >&2
}
echo "| run | statements | wall s | storing s | resolving s | statements/s (wall) | peak MB |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
ingest "first ingest"
ingest "same file again"

# Entity pages: anchor companies and the entities in their chains, in random copies.
PATHS=$WORK/register-paths.txt
python3 - "$COPIES" > "$PATHS" <<'PY'
import json, random, sys
copies = int(sys.argv[1])
ids = []
with open("data/bods/uk-psc-gleif-bods04/all_demo.jsonl", encoding="utf-8") as f:
    for line in f:
        if line.strip():
            s = json.loads(line)
            if s.get("recordType") == "relationship":
                subject = s.get("recordDetails", {}).get("subject")
                if isinstance(subject, str):
                    ids.append(subject)
ids = sorted(set(ids))
rng = random.Random(7)
for _ in range(20000):
    print(f"/ownership/entities/{rng.choice(ids)}-c{rng.randrange(copies)}")
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --database "sqlite://$DB" --bind "127.0.0.1:$PORT" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break; sleep 0.5; done
first=$(head -1 "$PATHS")
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$first")
[ "$status" = 200 ] || { log "GET $first answered $status"; exit 1; }
wrk -t2 -c64 -d"${SECONDS_RUN}s" -s benches/search.lua "http://127.0.0.1:$PORT" -- "$PATHS" random > "$WORK/register-wrk.txt" 2>&1
echo
echo "| page | connections | requests/s | p50 ms | p90 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
python3 - "$WORK/register-wrk.txt" <<'PY'
import json, sys
line = next(l for l in open(sys.argv[1]) if l.startswith("wrk-json "))
r = json.loads(line[len("wrk-json "):])
errors = sum(r["errors"].values())
print(f"| /ownership/entities/{{id}} (20,000 at random) | 64 | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {errors} |")
PY
