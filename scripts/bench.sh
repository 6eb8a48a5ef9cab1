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
# The same package from the other toolchain, when this machine has it (or can get it), to
# report both: the size a user downloads must not depend on who built it.
other=rustup; [ "$WXCS_TOOLCHAIN" = rustup ] && other=debian
if [ "$other" = debian ] && ! has_debian_toolchain && command -v apt-get >/dev/null; then
  say "installing Debian's Rust $RUST_VERSION to compare its build"
  sudo_apt=""; [ "$(id -u)" -eq 0 ] || sudo_apt=sudo
  $sudo_apt apt-get install -y -q rustc-web cargo-web rust-web-src lld-22 >/dev/null || true
fi
if [ "$other" = rustup ] && ! has_rustup_toolchain && command -v rustup >/dev/null; then
  timeout 600 rustup toolchain install "$RUST_VERSION" --profile minimal --component rust-src || true
fi
if { [ "$other" = debian ] && has_debian_toolchain; } || { [ "$other" = rustup ] && has_rustup_toolchain; }; then
  say "building the package with the $other toolchain too"
  (unset RUSTC RUSTDOC RUSTUP_TOOLCHAIN; WXCS_TOOLCHAIN=$other WXCS_PKG_DIR="$ROOT/target/pkg-$other" \
    CARGO_TARGET_DIR="$ROOT/target/$other" "$ROOT/scripts/build.sh" --package-only)
  export WXCS_OTHER_PKG="$ROOT/target/pkg-$other"
fi
# The backend before the state store (c4af3e2 kept its checks and counters in memory): its
# credential rate is the baseline the store's rows are measured against, in the same run.
baseline="${WXCS_BENCH_BASELINE:-c4af3e2}"
if git -C "$ROOT" cat-file -e "$baseline^{commit}" 2>/dev/null; then
  baseline_src="$ROOT/target/baseline-src"
  if [ "$(git -C "$baseline_src" rev-parse HEAD 2>/dev/null)" != "$(git -C "$ROOT" rev-parse "$baseline^{commit}")" ]; then
    rm -rf "$baseline_src"; git -C "$ROOT" worktree prune
    git -C "$ROOT" worktree add --detach "$baseline_src" "$baseline" >/dev/null
  fi
  say "building wxcs at $baseline (the in-memory baseline)"
  (cd "$baseline_src" && CARGO_TARGET_DIR="$ROOT/target/baseline" cargo build -q --release -p wx-cloud-storage-server --bin wxcs)
  export WXCS_BASELINE_BIN="$ROOT/target/baseline/release/wxcs"
else
  say "commit $baseline is not in this clone: the state rows will have no in-memory baseline"
fi
say "building wxcs (release)"
cargo build -q --release -p wx-cloud-storage-server --bin wxcs
say "running the benches"
CHROME_PATH="$(find_chrome)" WXCS_BIN="$ROOT/target/release/wxcs" node bench/run.mjs
