#!/usr/bin/env bash
# The bench command (not part of the tests): payload, upload throughput, memory, start-up,
# backend load and scaling, each beside a peer measured in the same run. Prints one
# Markdown table and writes it to BENCHMARKS.md. Takes a few minutes.
# WXCS_BENCH_QUICK=1 does fewer runs, to try the command out.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/build.sh"
use_toolchain
cd "$ROOT"
command -v wrk >/dev/null || { say "installing wrk (apt), the load generator"; sudo_apt=""; [ "$(id -u)" -eq 0 ] || sudo_apt=sudo; $sudo_apt apt-get install -y -q wrk >/dev/null; }
if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  say "installing the bench's npm packages (the peers)"
  (cd bench && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi
say "building wxcs (release)"
cargo build -q --release -p wx-cloud-storage-server --bin wxcs
say "running the benches"
CHROME_PATH="$(find_chrome)" WXCS_BIN="$ROOT/target/release/wxcs" node bench/run.mjs
