#!/usr/bin/env bash
# Benchmark of `tuwhera bods validate` against libcovebods' schema validation (`libcovebods jsv`), side by
# side on the same input in one run. From the repository root:
#
#   bash benches/bods.sh [--copies N] [--no-build]
#
# Inputs: the real UK PSC + GLEIF sample (data/bods/uk-psc-gleif-bods04/all_demo.jsonl, 1,204 statements) as a
# JSON array, and the same cloned N times with new ids (benches/bods_clone.py; default 100: 120,400 statements).
# Our command also checks the rules across statements (libcovebods does those in `pv`, not `jsv`).
# Output: a Markdown table (wall s, peak MB, ratio = libcovebods time / ours). Nothing is asserted.
# Environment: WORK (default /tmp/tuwhera-bench), PEERS (virtualenv with libcovebods; default /tmp/peers).
set -euo pipefail
export LC_ALL=C
COPIES=100
BUILD=1
while [ $# -gt 0 ]; do
  case $1 in
    --copies) COPIES=${2:?}; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bods.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
WORK=${WORK:-/tmp/tuwhera-bench}
mkdir -p "$WORK"
PEERS=${PEERS:-/tmp/peers}
if [ ! -x "$PEERS/bin/libcovebods" ]; then
  python3 -m venv "$PEERS" && "$PEERS/bin/pip" install -q libcovebods >&2
fi
[ "$BUILD" = 1 ] && cargo build --release --locked -p tuwhera >&2
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/tuwhera

SMALL=$WORK/bods-1.json
BIG=$WORK/bods-$COPIES.json
[ -s "$SMALL" ] || python3 benches/bods_clone.py --copies 1 --out "$SMALL"
[ -s "$BIG" ] || python3 benches/bods_clone.py --copies "$COPIES" --out "$BIG"

timed() { # timed LOG cmd... → "seconds peakMB"
  local log=$1; shift
  /usr/bin/time -v -o "$log" "$@" > /dev/null 2>&1 || true
  local wall mb
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(j=1;j<=n;j++) s=s*60+a[j]; print s}' "$log")
  mb=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$log")
  echo "$wall $mb"
}
echo "| input | statements | tuwhera s | MB | libcovebods jsv s | MB | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for f in "$SMALL" "$BIG"; do
  n=$(grep -c '"statementId"' "$f" || true)
  read -r ours ours_mb <<< "$(timed "$WORK/bods-ours.time" "$BIN" bods validate "$f")"
  read -r peer peer_mb <<< "$(timed "$WORK/bods-peer.time" "$PEERS/bin/libcovebods" jsv "$f")"
  ratio=$(awk -v a="$peer" -v b="$ours" 'BEGIN{ if (b > 0) printf "%.1f", a/b; else print "n/a" }')
  echo "| $(basename "$f") | $n | $ours | $ours_mb | $peer | $peer_mb | $ratio |"
done
