#!/usr/bin/env bash
# Regenerate the libcoveocds golden reports in this folder. Run from the repository root:
#
#   bash crates/ocds/tests/golden/libcoveocds/make-reports.sh
#
# Needs: the Python peers in $PEERS (default /tmp/peers: `python3 -m venv /tmp/peers &&
# /tmp/peers/bin/pip install libcoveocds==0.17.0 ocdskit==1.7.0`), the shared folder in $SHARED (default ../shared),
# /usr/bin/time (optional, for the DGCP timing). No network: the standard comes from a local ZIP.
#
# Output (deterministic, byte-identical across runs):
#   inputs/<slug>.json[.gz]   the release package fed to libcoveocds (gzip -n when over 1 MB)
#   <slug>.json[.gz]          libcoveocds' JSON report on it (gzip -n when over 1 MB)
#   dgcp-split-c1.json[.gz]   report on the 29,040 split DGCP releases (its 73 MB input is not kept: see README)
#   README.md                 the tables between the "tables" markers are rewritten
set -euo pipefail
export LC_ALL=C

ROOT=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
cd "$ROOT"
OUT=crates/ocds/tests/golden/libcoveocds
PEERS=${PEERS:-/tmp/peers}
SHARED=$(cd "${SHARED:-../shared}" && pwd)
DATA=data/ocds/real-examples
WORK=${WORK:-$(mktemp -d /tmp/libcoveocds-golden.XXXXXX)}
SKIP_DGCP=${SKIP_DGCP:-0}
PY=python3
OCDSKIT="$PEERS/bin/ocdskit"
COVE="$PEERS/bin/libcoveocds"

mkdir -p "$OUT/inputs" "$WORK"
ZIP="$WORK/standard-1__1__5.zip"
$PY "$OUT/golden.py" zip "$SHARED/standards/ocds/1.1.5" "$ZIP"

# save SRC DEST_WITHOUT_EXT: write DEST.json, or DEST.json.gz when SRC is over 1 MB (removing the other one).
save() {
  local src=$1 dest=$2
  rm -f "$dest.json" "$dest.json.gz"
  if [ "$(stat -c %s "$src")" -gt 1048576 ]; then
    gzip -n -9 -c "$src" > "$dest.json.gz"
  else
    cp "$src" "$dest.json"
  fi
}

# run_cove INPUT SLUG: run libcoveocds offline on INPUT and save the report as SLUG.
run_cove() {
  local input=$1 slug=$2
  "$COVE" --standard-zip "$ZIP" "$input" > "$WORK/$slug.report.json"
  save "$WORK/$slug.report.json" "$OUT/$slug"
  echo "$slug: $(stat -c %s "$input") input bytes, report $(stat -c %s "$WORK/$slug.report.json") bytes" >&2
}

# slug  directory  mode (package: the files are release packages; bare: the files are single releases)
PUBLISHERS="
armenia                     armenia/releases                  package
australia-nsw               australia/new-south-wales/releases package
mexico-cdmx                 mexico/cdmx/releases              bare
mexico-grupo-aeroportuario  mexico/grupo-aeroportuario/releases bare
mexico-inai                 mexico/inai/releases              bare
mexico-jalisco              mexico/jalisco/releases           package
moldova                     moldova/releases                  bare
paraguay                    paraguay/releases                 bare
uganda                      uganda/releases                   bare
ukraine                     ukraine/releases                  bare
"

echo "$PUBLISHERS" | while read -r slug dir mode; do
  [ -n "$slug" ] || continue
  mapfile -t files < <(ls "$DATA/$dir"/*.json | sort)
  input="$WORK/$slug.input.json"
  if [ "$mode" = package ]; then
    # Keep the first package's uri and publishedDate; ocdskit keeps publisher/license/publicationPolicy (last
    # package wins) and the union of extensions, and sets version to 1.1 (its default). --fake fills a missing
    # uri with "placeholder:". No upgrade: releases are copied as published.
    IFS=$'\x1f' read -r uri published < <($PY "$OUT/golden.py" meta "${files[@]}")
    args=(--fake)
    [ -n "$uri" ] && args+=(--uri "$uri")
    [ -n "$published" ] && args+=(--published-date "$published")
    cat "${files[@]}" | "$OCDSKIT" combine-release-packages "${args[@]}" > "$input"
  else
    # Bare releases, wrapped as published (no upgrade) in a version 1.1 package with --fake metadata:
    # uri "placeholder:", publishedDate "9999-01-01T00:00:00Z", publisher {"name": ""}.
    cat "${files[@]}" | "$OCDSKIT" package-releases --fake > "$input"
  fi
  save "$input" "$OUT/inputs/$slug"
  run_cove "$input" "$slug"
done

if [ "$SKIP_DGCP" != 1 ]; then
  $PY "$SHARED/tools/ocds-scale.py" --copies 1 --out "$WORK/c1.jsonl" >&2
  # ocds-scale.py also writes c1.packages.jsonl (29 packages of 1,000 releases + 1 of 40, version 1.1).
  "$OCDSKIT" combine-release-packages --uri "urn:tuwhera-bench:scaled:1000" --published-date "2024-01-01T00:00:00Z" \
    < "$WORK/c1.packages.jsonl" > "$WORK/dgcp-split-c1.input.json"
  sha256sum "$WORK/dgcp-split-c1.input.json" >&2
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$WORK/dgcp-split-c1.time.txt" \
      "$COVE" --standard-zip "$ZIP" "$WORK/dgcp-split-c1.input.json" > "$WORK/dgcp-split-c1.report.json"
    grep -E "Elapsed|Maximum resident" "$WORK/dgcp-split-c1.time.txt" >&2
  else
    "$COVE" --standard-zip "$ZIP" "$WORK/dgcp-split-c1.input.json" > "$WORK/dgcp-split-c1.report.json"
  fi
  save "$WORK/dgcp-split-c1.report.json" "$OUT/dgcp-split-c1"
  $PY "$OUT/golden.py" dates "$WORK/dgcp-split-c1.report.json" >&2
fi

# Rewrite the tables in README.md.
reports=()
for slug in armenia australia-nsw mexico-cdmx mexico-grupo-aeroportuario mexico-inai mexico-jalisco moldova \
            paraguay uganda ukraine dgcp-split-c1; do
  for f in "$OUT/$slug.json" "$OUT/$slug.json.gz"; do [ -f "$f" ] && reports+=("$f"); done
done
$PY "$OUT/golden.py" readme "$OUT/README.md" "${reports[@]}"
echo "work files in $WORK" >&2
