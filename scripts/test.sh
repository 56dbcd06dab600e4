#!/usr/bin/env bash
# Runs every test of the workspace. This is the command README.md gives and .ci/run calls.
# Release mode: the golden tests compile and validate real datasets (tens of MB), which
# takes seconds optimised and minutes in a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release --locked "$@"
