#!/usr/bin/env bash
# Installs whatever is missing to build and test wx-cloud-storage, and nothing that is
# already there. Safe to run every time; every other script runs it first.
#   wasm32 toolchain  rustup's target if installed, else Debian's Rust 1.96 + std sources
#   wasm-bindgen-cli  exactly the version in Cargo.lock
#   wasm-pack, Chromium + chromedriver, Node.js
#   npm packages      for the browser suites, examples and benchmarks (npm ci, offline-first)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]}: install them with your package manager"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing ${missing[*]} (apt)"
  if [ $APT_UPDATED -eq 0 ]; then $sudo apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# 1. Rust for wasm32.
if [ "$WXCS_TOOLCHAIN" = debian ]; then
  apt_install rustc-web cargo-web rust-web-src rust-web-clippy lld-22
  [ -d /usr/lib/rustlib/src/rust/library ] || die "rust-web-src did not provide /usr/lib/rustlib/src/rust"
fi
use_toolchain

# 2. Chromium and chromedriver (matched versions: both from the same source).
if [ -z "$(find_chrome)" ] || [ -z "$(find_chromedriver)" ]; then
  apt_install chromium chromium-driver
fi
command -v node >/dev/null || apt_install nodejs npm
# A CJK font, so the end-to-end screenshots of the Chinese pages are readable.
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || apt_install fonts-wqy-microhei
command -v curl >/dev/null || apt_install curl

# 3. wasm-bindgen-cli at exactly the locked version; wasm-pack.
[ -f "$ROOT/Cargo.lock" ] || (cd "$ROOT" && cargo generate-lockfile -q)
want="$(locked_wasm_bindgen_version)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (have: ${have:-none}; takes ~3 min)"
  # No --locked: its lock file wants a webpki-roots release the registry here lacks.
  cargo install -q wasm-bindgen-cli --version "$want" --force
fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (takes ~3 min)"
  cargo install -q wasm-pack
fi

# 4. npm packages, for every folder that declares them.
for dir in "$ROOT/tools" "$ROOT/www-example" "$ROOT/tests/types" "$ROOT/tests/e2e"; do
  if [ -f "$dir/package-lock.json" ] && [ ! -f "$dir/node_modules/.package-lock.json" -o "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
  fi
done
exit 0
