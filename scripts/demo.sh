#!/usr/bin/env bash
# The demo: sets up what is missing, builds the npm package, the example pages and wxcs, then runs
# `wxcs dev` (emulator + credential backend + example pages) on http://127.0.0.1:8787/.
# No WeChat account needed. Ctrl-C stops it; uploaded files persist in the data directory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/build.sh"
use_toolchain
cd "$ROOT"
say "building wxcs"
cargo build -q --release -p wx-cloud-storage-server --bin wxcs
exec "$ROOT/target/release/wxcs" dev "$@"
