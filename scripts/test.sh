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
STACK_DATA="$(mktemp -d)"
STACK_PID=""
cleanup() {
  [ -n "$STACK_PID" ] && kill "$STACK_PID" 2>/dev/null || true
  rm -rf "$LOG" "$STACK_DATA" "$STACK_DATA.log"
}
trap cleanup EXIT
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

say "TypeScript: the whole public API type-checks against the built .d.ts"
(cd "$ROOT/tests/types" && npx --no-install tsc -p .)

say "starting wxcs dev (emulator + backend) on free ports for the browser suites"
cargo build -q -p wx-cloud-storage-server --bin wxcs
read -r BACKEND_PORT WX_PORT COS_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
"$ROOT/target/debug/wxcs" dev --data-dir "$STACK_DATA" --port "$BACKEND_PORT" --wx-port "$WX_PORT" \
  --cos-port "$COS_PORT" > "$STACK_DATA.log" 2>&1 &
STACK_PID=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$BACKEND_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$BACKEND_PORT/healthz" >/dev/null || { cat "$STACK_DATA.log"; die "wxcs dev did not start"; }
export WXCS_TEST_BACKEND="http://127.0.0.1:$BACKEND_PORT/api/storage"
export WXCS_TEST_EMULATOR="http://127.0.0.1:$WX_PORT"

say "browser suites: wasm-bindgen-test in headless Chromium"
CHROMEDRIVER="$(find_chromedriver)" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  run cargo test -p wx-cloud-storage --target wasm32-unknown-unknown --tests "${WASM_STD_ARGS[@]}"

# One closing line for every suite above.
awk '/test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "all suites: %d passed, %d failed\n", p, f; exit (f > 0) }' "$LOG"
