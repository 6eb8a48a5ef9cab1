#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (host and wasm32), the native tests of
# every crate, and the browser suites in headless Chromium. Sets up what is missing first.
# This is the README's test command; .ci/run calls it and nothing else.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_toolchain
cd "$ROOT"

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# run CMD...: runs a test command, keeping its output for the summary.
run() { "$@" 2>&1 | tee -a "$LOG"; }

say "cargo fmt --check"
cargo fmt --all -- --check

say "clippy (host)"
cargo clippy -q --workspace --all-targets --all-features -- -D warnings
say "clippy (wasm32)"
cargo clippy -q -p wx-cloud-storage --target wasm32-unknown-unknown --all-targets "${WASM_STD_ARGS[@]}" -- -D warnings

say "native tests"
run cargo test -q --workspace --all-features

say "npm package build"
"$ROOT/scripts/build.sh"

say "browser suite: wasm-bindgen-test in headless Chromium"
CHROMEDRIVER="$(find_chromedriver)" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  run cargo test -p wx-cloud-storage --target wasm32-unknown-unknown --tests "${WASM_STD_ARGS[@]}"

# One closing line for every suite above.
awk '/test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "all suites: %d passed, %d failed\n", p, f; exit (f > 0) }' "$LOG"
