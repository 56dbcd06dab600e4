#!/usr/bin/env bash
# Regenerate the ocdskit golden fixtures in this directory.
#
# Run from the repository root:
#   crates/ocds/tests/golden/ocdskit/make-golden.sh
# Overrides (defaults shown):
#   OCDSKIT=/tmp/peers/bin/ocdskit
#   SCHEMA=../shared/standards/ocds/1.1.5/release-schema.json   (relative to the repository root)
#   DATA=data/ocds/real-examples
#
# Per publisher (one publisher = one compile run), all of its release files are concatenated in
# byte-order (LC_ALL=C) sorted file-name order, a newline after each file, and then:
#   bare releases:     ocdskit upgrade 1.0:1.1 | ocdskit package-releases | ocdskit compile --schema S [--versioned]
#   release packages:  ocdskit upgrade 1.0:1.1 | ocdskit compile --schema S [--versioned]
# `upgrade` decides per item whether it is 1.0 (see README.md); it is a no-op on the other items.
#
# Outputs: <slug>.compiled.jsonl and <slug>.versioned.jsonl (gzip -9 -n if larger than 2 MiB),
# stderr.txt (everything ocdskit printed on stderr, per step), and variants/ (see README.md).
set -euo pipefail
export LC_ALL=C

OCDSKIT=${OCDSKIT:-/tmp/peers/bin/ocdskit}
SCHEMA=${SCHEMA:-../shared/standards/ocds/1.1.5/release-schema.json}
DATA=${DATA:-data/ocds/real-examples}
OUT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAX_PLAIN=$((2 * 1024 * 1024))

[ -x "$OCDSKIT" ] || { echo "ocdskit not found: $OCDSKIT" >&2; exit 1; }
[ -f "$SCHEMA" ] || { echo "schema not found: $SCHEMA (run from the repository root or set SCHEMA)" >&2; exit 1; }
[ -d "$DATA" ] || { echo "data not found: $DATA (run from the repository root or set DATA)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# slug  directory-under-DATA  kind (releases = bare releases, packages = release packages)
PUBLISHERS="
armenia                     armenia                     packages
australia-nsw               australia/new-south-wales   packages
mexico-cdmx                 mexico/cdmx                 releases
mexico-grupo-aeroportuario  mexico/grupo-aeroportuario  releases
mexico-inai                 mexico/inai                 releases
mexico-jalisco              mexico/jalisco              packages
moldova                     moldova                     releases
paraguay                    paraguay                    releases
uganda                      uganda                      releases
ukraine                     ukraine                     releases
"

STDERR_LOG="$TMP/stderr.txt"
: > "$STDERR_LOG"

# concat DIR: print every *.json file of DIR in byte-order sorted name order, each followed by a newline.
concat() {
    local dir=$1 f
    find "$dir" -maxdepth 1 -type f -name '*.json' -printf '%f\n' | sort | while IFS= read -r f; do
        cat "$dir/$f"
        printf '\n'
    done
}

# step LABEL CMD...: run an ocdskit step, appending its stderr (if any) to the log under a header.
step() {
    local label=$1; shift
    local err="$TMP/step.err"
    if ! "$@" 2> "$err"; then
        echo "FAILED: $label" >&2
        cat "$err" >&2
        exit 1
    fi
    if [ -s "$err" ]; then
        printf '## %s\n' "$label" >> "$STDERR_LOG"
        cat "$err" >> "$STDERR_LOG"
    fi
}

# publish FILE DEST_BASENAME: move FILE to $OUT/DEST(.gz if > 2 MiB), removing the stale other form.
publish() {
    local file=$1 dest=$2
    rm -f "$OUT/$dest" "$OUT/$dest.gz"
    if [ "$(stat -c %s "$file")" -gt "$MAX_PLAIN" ]; then
        gzip -9 -n -c "$file" > "$OUT/$dest.gz"
    else
        cp "$file" "$OUT/$dest"
    fi
}

# run SLUG INPUT_FILE KIND DEST_PREFIX
run() {
    local slug=$1 input=$2 kind=$3 dest=$4
    step "$slug: ocdskit upgrade 1.0:1.1" \
        "$OCDSKIT" upgrade 1.0:1.1 < "$input" > "$TMP/$slug.upgraded.json"
    if [ "$kind" = releases ]; then
        step "$slug: ocdskit package-releases" \
            "$OCDSKIT" package-releases < "$TMP/$slug.upgraded.json" > "$TMP/$slug.package.json"
    else
        cp "$TMP/$slug.upgraded.json" "$TMP/$slug.package.json"
    fi
    step "$slug: ocdskit compile --schema SCHEMA" \
        "$OCDSKIT" compile --schema "$SCHEMA" < "$TMP/$slug.package.json" > "$TMP/$slug.compiled.jsonl"
    step "$slug: ocdskit compile --schema SCHEMA --versioned" \
        "$OCDSKIT" compile --schema "$SCHEMA" --versioned < "$TMP/$slug.package.json" > "$TMP/$slug.versioned.jsonl"
    publish "$TMP/$slug.compiled.jsonl" "$dest.compiled.jsonl"
    publish "$TMP/$slug.versioned.jsonl" "$dest.versioned.jsonl"
}

echo "$PUBLISHERS" | while read -r slug dir kind; do
    [ -n "$slug" ] || continue
    concat "$DATA/$dir/releases" > "$TMP/$slug.input.json"
    run "$slug" "$TMP/$slug.input.json" "$kind" "$slug"
    echo "$slug: $(wc -l < "$TMP/$slug.compiled.jsonl") compiled releases" >&2
done

# Variant: the NSW packages declare "version": "1.0.1", which ocdskit does not treat as 1.0, so
# `upgrade 1.0:1.1` leaves them as they are. Here the declared version is rewritten to "1.0" (the only
# change; one top-level occurrence per file) so that ocdskit upgrades them. See README.md.
mkdir -p "$OUT/variants"
concat "$DATA/australia/new-south-wales/releases" \
    | sed 's/^  "version": "1\.0\.1",$/  "version": "1.0",/' > "$TMP/australia-nsw-v10.input.json"
[ "$(grep -c '"version": "1.0",' "$TMP/australia-nsw-v10.input.json")" -eq 10 ] \
    || { echo "variant: expected 10 rewritten version lines" >&2; exit 1; }
run "australia-nsw-v10" "$TMP/australia-nsw-v10.input.json" packages "variants/australia-nsw.version-1.0"

cp "$STDERR_LOG" "$OUT/stderr.txt"
echo "done: $OUT" >&2
