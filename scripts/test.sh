#!/usr/bin/env bash
# Runs every test of the workspace. This is the command README.md gives and .ci/run calls.
#
# The store's tests run against SQLite and PostgreSQL alike: this script starts a
# throwaway PostgreSQL server (installing the Debian package if it is missing) on a
# free port in a temporary directory, and stops it on exit. The browser tests need
# Chromium, ChromeDriver and axe-core: setup_browser installs them when missing.
#
# Release mode: the golden tests compile and validate real datasets (tens of MB), which
# takes seconds optimised and minutes in a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

start_postgres() {
  local bin
  if ! bin=$(pg_bin); then
    echo "test.sh: installing PostgreSQL (Debian package postgresql)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin=$(pg_bin)
  fi
  PGTMP=$(mktemp -d /tmp/tuwhera-pg.XXXXXX)
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # initdb refuses to run as root: run the server as the postgres user, in a directory it owns.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGTMP" postgres
    chown postgres "$PGTMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PGTMP/data" -U tuwhera --auth=trust -E UTF8 >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/log" -w \
    -o "-p $PORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  trap 'stop_postgres' EXIT
  export TUWHERA_TEST_POSTGRES="postgres://tuwhera@127.0.0.1:$PORT"
  STOP=("${as[@]}" "$bin/pg_ctl" -D "$PGTMP/data" -m fast stop)
}

stop_postgres() {
  "${STOP[@]}" >/dev/null 2>&1 || true
  rm -rf "$PGTMP"
}

# The browser tests (crates/cli/tests/browser.rs) drive Debian's Chromium through
# chromedriver and check every page with axe-core, pinned in scripts/browser-tools.
# browser.rs fails when these variables are missing (unless TUWHERA_SKIP_BROWSER=1), so
# that a run which skipped this step cannot pass without having checked the pages.
setup_browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "test.sh: installing Chromium and ChromeDriver (Debian packages chromium, chromium-driver)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq chromium chromium-driver >&2
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] || {
      echo "test.sh: could not install chromium and chromium-driver" >&2
      exit 1
    }
  fi
  if [ ! -f scripts/browser-tools/node_modules/axe-core/axe.min.js ]; then
    echo "test.sh: installing axe-core (npm ci in scripts/browser-tools)" >&2
    (cd scripts/browser-tools && npm ci --silent --no-audit --no-fund) >&2
  fi
  export TUWHERA_AXE_JS="$PWD/scripts/browser-tools/node_modules/axe-core/axe.min.js"
  export TUWHERA_CHROMEDRIVER=/usr/bin/chromedriver
  export TUWHERA_CHROMIUM=/usr/bin/chromium
  export TUWHERA_SCREENSHOTS="$PWD/target/screenshots"
}

# The action plan's PDF report is checked by extracting its text (crates/plan/tests/pdf.rs).
setup_pdftotext() {
  if ! command -v pdftotext >/dev/null 2>&1; then
    echo "test.sh: installing pdftotext (Debian package poppler-utils)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq poppler-utils >&2
  fi
}

start_postgres
setup_browser
setup_pdftotext
cargo test --workspace --release --locked "$@"
