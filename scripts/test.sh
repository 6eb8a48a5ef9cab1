#!/usr/bin/env bash
# Runs every check and test: formatting, clippy (host and wasm32), the native tests of
# every crate (the soak among them), every fuzz target briefly, the release package's build
# and its size budget, and the browser suites in headless Chromium against the package as
# shipped. Sets up what is missing first.
# This is the README's test command; .ci/run calls it and nothing else.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_toolchain
cd "$ROOT"

LOG="$(mktemp)"
STACK_DATA="$(mktemp -d)"
STACK_PID=""
STRICT_PID=""
OPENID_PID=""
PARTS_EMULATOR_PID=""
PARTS_PID=""
cleanup() {
  for pid in "$STACK_PID" "$STRICT_PID" "$OPENID_PID" "$PARTS_EMULATOR_PID" "$PARTS_PID"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  rm -rf "$LOG" "$STACK_DATA" "$STACK_DATA".*
}
trap cleanup EXIT
# run CMD...: runs a test command, keeping its output for the summary.
run() { "$@" 2>&1 | tee -a "$LOG"; }

say "cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt -- --check)
# The bench is not run here (timings are not tests), but it must at least parse.
for script in bench/run.mjs bench/page/bench.js bench/node-backend.mjs; do node --check "$ROOT/$script"; done

say "clippy (host)"
cargo clippy -q --workspace --all-targets --all-features -- -D warnings
say "clippy (wasm32, the release recipe's std)"
cargo_wasm clippy -q -p wx-cloud-storage -p wx-cloud-storage-integrity --lib -- -D warnings

# The process tests, the backend suites and the browser stack all run the wxcs that cargo
# test builds (target/debug/wxcs). A release build here took ~6 of a cold run's ~27 minutes
# and changed none of the outcomes; the demo command and the bench build release.
say "native tests (the process tests run wxcs as a process)"
run cargo test -q --workspace --all-features

say "fuzzing: every target in fuzz/ for 10 s from its seed corpus (scripts/fuzz.sh runs longer)"
run "$ROOT/scripts/fuzz.sh" 10 || fuzz_failed=1

say "npm package build"
"$ROOT/scripts/build.sh"

say "payload budget: init + StorageClient + validateKey, bundled, gzip -9, at most 20 KB"
node "$ROOT/tools/payload.mjs" "$ROOT/pkg" --budget 20000

say "TypeScript: the public API against the package's .d.ts, the adapters against the components' own types, both transports against the one Transport interface"
(cd "$ROOT/tests/types" && npx --no-install tsc -p . && npx --no-install tsc -p tsconfig.components.json && npx --no-install tsc -p tsconfig.transport.json)

say "starting wxcs dev (emulator + backend) on free ports for the browser suites"
# The wxcs cargo test built (`cargo build -p …` alone would compile the server again, with
# other features unified: ~2 min).
WXCS="$ROOT/target/debug/wxcs"
read -r BACKEND_PORT WX_PORT COS_PORT STRICT_PORT OPENID_PORT PARTS_WX_PORT PARTS_COS_PORT PARTS_PORT < <(free_ports 8)
"$WXCS" dev --data-dir "$STACK_DATA" --port "$BACKEND_PORT" --wx-port "$WX_PORT" \
  --cos-port "$COS_PORT" > "$STACK_DATA.log" 2>&1 &
STACK_PID=$!
# A second backend with tight limits (1 KiB uploads, 4 requests a minute per user), in
# front of the same emulator, for the 413 and 429 cases.
WXCS_BIND=127.0.0.1 PORT="$STRICT_PORT" WX_API_BASE="http://127.0.0.1:$WX_PORT" WX_ENV=dev-emulator \
WX_APPID=wx0000000000emulator WX_SECRET=emulator-app-secret WXCS_USERS=big-token=big,busy-token=busy,mp-token=mp,verify-token=verify \
WXCS_MAX_SIZE=1024 WXCS_RATE_PER_MINUTE=4 WXCS_CORS_ORIGINS='*' WXCS_DATA_DIR="$STACK_DATA.strict" \
  "$WXCS" serve > "$STACK_DATA.strict.log" 2>&1 &
STRICT_PID=$!
# A third, behind the mini program harness's Cloud Run gateway: users by X-WX-OPENID.
WXCS_BIND=127.0.0.1 PORT="$OPENID_PORT" WX_API_BASE="http://127.0.0.1:$WX_PORT" WX_ENV=dev-emulator \
WX_APPID=wx0000000000emulator WX_SECRET=emulator-app-secret WXCS_TRUST_WX_OPENID=1 WXCS_DATA_DIR="$STACK_DATA.openid" \
  "$WXCS" serve > "$STACK_DATA.openid.log" 2>&1 &
OPENID_PID=$!
# A fourth, as inside Cloud Run with 开放接口服务 (temporary COS keys: multipart uploads), in
# front of its own emulator in that mode, for the resumable module.
"$WXCS" emulate --open-api --data-dir "$STACK_DATA.parts-emulator" --bind 127.0.0.1 \
  --wx-port "$PARTS_WX_PORT" --cos-port "$PARTS_COS_PORT" --allow-origin '*' > "$STACK_DATA.parts-emulator.log" 2>&1 &
PARTS_EMULATOR_PID=$!
WXCS_BIND=127.0.0.1 PORT="$PARTS_PORT" WX_API_BASE="http://127.0.0.1:$PARTS_WX_PORT" WX_ENV=dev-emulator WX_OPENAPI=1 \
WXCS_USERS=parts-token=parts,other-token=other,demo-token=demo WXCS_CORS_ORIGINS='*' WXCS_DATA_DIR="$STACK_DATA.parts" \
  "$WXCS" serve > "$STACK_DATA.parts.log" 2>&1 &
PARTS_PID=$!
wait_for() { # wait_for URL LOG WHAT
  for _ in $(seq 100); do
    curl -fs "$1" >/dev/null 2>&1 && return
    sleep 0.1
  done
  cat "$2"
  die "$3 did not start"
}
wait_for "http://127.0.0.1:$BACKEND_PORT/healthz" "$STACK_DATA.log" "wxcs dev"
wait_for "http://127.0.0.1:$STRICT_PORT/healthz" "$STACK_DATA.strict.log" "wxcs serve (strict)"
wait_for "http://127.0.0.1:$OPENID_PORT/healthz" "$STACK_DATA.openid.log" "wxcs serve (openid)"
wait_for "http://127.0.0.1:$PARTS_PORT/healthz" "$STACK_DATA.parts.log" "wxcs serve (开放接口服务, multipart)"
export WXCS_TEST_BASE="http://127.0.0.1:$BACKEND_PORT" WXCS_TEST_STRICT="http://127.0.0.1:$STRICT_PORT"
export WXCS_TEST_EMULATOR="http://127.0.0.1:$WX_PORT" WXCS_TEST_OPENID="http://127.0.0.1:$OPENID_PORT"
export WXCS_TEST_PARTS="http://127.0.0.1:$PARTS_PORT" WXCS_TEST_PARTS_EMULATOR="http://127.0.0.1:$PARTS_WX_PORT"

# No test takes three minutes: one that hangs fails, by name, instead of holding CI.
say "backend suites: wxcs serve as a process beside real apps (forward auth against Express sessions)"
WXCS_BIN="$WXCS" run node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=tap tests/backend/*.test.mjs || backend_failed=1

say "mini program suite: the packed package, 构建 npm by miniprogram-ci, in the runtime harness"
run node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=tap tests/miniprogram/runtime.test.mjs || mp_failed=1

say "browser suites: the library, the component adapters, the example pages, the README example, the packed package (Playwright)"
# Screenshots land in target/e2e-screenshots/.
CHROME_PATH="$(find_chrome)" run node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=tap \
  tests/browser/client.test.mjs tests/browser/integrity.test.mjs tests/browser/resumable.test.mjs tests/browser/image.test.mjs tests/browser/components.test.mjs tests/browser/pages.test.mjs tests/browser/readme.test.mjs \
  tests/browser/package.test.mjs tests/browser/frameworks.test.mjs || browser_failed=1

# One closing line for every suite above (cargo's "test result:" lines and node's TAP totals;
# a test node cancelled, e.g. when its file died or timed out, counts as failed), then what
# failed, by name, and the end of each backend's log, so the last screen of a CI log says why.
awk '/test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^# pass / { p += $3 } /^# fail / { f += $3 } /^# cancelled / { f += $3 }
     END { printf "all suites: %d passed, %d failed\n", p, f; exit (f > 0) }' "$LOG" || counted_failed=1
if [ -n "${counted_failed:-}${browser_failed:-}${backend_failed:-}${mp_failed:-}" ]; then
  echo "failed:"; grep -E '^ *not ok |^test .* FAILED$' "$LOG" | sed 's/^ */  /' | head -40 || true
  # (The glob takes the stack's own .log too.)
  for log in "$STACK_DATA".*log; do echo "--- the last lines of $(basename "$log")"; tail -n 15 "$log"; done
fi
[ -z "${browser_failed:-}" ] || die "the browser suites failed (see above)"
[ -z "${backend_failed:-}" ] || die "the backend suites failed (see above)"
[ -z "${mp_failed:-}" ] || die "the mini program suite failed (see above)"
[ -z "${fuzz_failed:-}" ] || die "a fuzz target crashed (see above; the input is in fuzz/artifacts/)"
[ -z "${counted_failed:-}" ] || die "a test failed (named above)"
