#!/usr/bin/env bash
# Installs whatever is missing to build and test wx-cloud-storage, and nothing that is
# already there. Safe to run every time; every other script runs it first.
#   Rust 1.96.0 + std sources  rustup's toolchain, or Debian's rustc-web when rustup cannot
#                              reach its servers (scripts/lib.sh says why one version)
#   wasm-bindgen-cli           exactly the version in Cargo.lock
#   cargo-fuzz, a C++ compiler for the fuzz targets (libFuzzer is C++)
#   Chromium, Node.js, fonts   for the browser suites and screenshots
#   npm packages               build tools, examples, suites (npm ci, offline-first)
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

# 1. Rust 1.96.0 with the standard library's sources (for -Z build-std).
if [ -z "$(detect_toolchain)" ]; then
  if command -v rustup >/dev/null 2>&1; then
    say "installing Rust $RUST_VERSION with rust-src, clippy and rustfmt (rustup)"
    # rustup's servers are not always reachable from every machine: give up after 10 min
    # and fall back to Debian's build of the same version.
    timeout 600 rustup toolchain install "$RUST_VERSION" --profile minimal \
      --component rust-src --component clippy --component rustfmt ||
      say "rustup could not install Rust $RUST_VERSION; trying Debian's rustc-web"
  fi
  if [ -z "$(detect_toolchain)" ]; then
    apt_install rustc-web cargo-web rust-web-src rust-web-clippy lld-22
  fi
  [ -n "$(detect_toolchain)" ] || die "could not install Rust $RUST_VERSION with its std sources"
fi
use_toolchain

# 2. Chromium (Playwright drives it; nothing downloads a browser), Node.js, a CJK font (so
# the screenshots of the Chinese pages are readable), curl.
[ -n "$(find_chrome)" ] || apt_install chromium
command -v node >/dev/null || apt_install nodejs npm
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || apt_install fonts-wqy-microhei
command -v curl >/dev/null || apt_install curl
# MariaDB, for the state store's tests on a real MySQL-family engine (each test binary
# starts its own server on a free port, data under target/; nothing runs as a service).
[ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ] || command -v mariadbd >/dev/null || apt_install mariadb-server

# 3. wasm-bindgen-cli at exactly the locked version.
[ -f "$ROOT/Cargo.lock" ] || (cd "$ROOT" && cargo generate-lockfile -q)
want="$(locked_wasm_bindgen_version)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (have: ${have:-none}; takes ~3 min)"
  # No --locked: its lock file wants a webpki-roots release the registry here lacks.
  cargo install -q wasm-bindgen-cli --version "$want" --force
fi

# 4. cargo-fuzz, and the C++ compiler libfuzzer-sys builds libFuzzer with.
command -v c++ >/dev/null || apt_install g++
FUZZ_VERSION=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $FUZZ_VERSION (takes ~1 min)"
  cargo install -q cargo-fuzz --version "$FUZZ_VERSION" --locked --force
fi

# 5. npm packages, for every folder that declares them.
for dir in "$ROOT/tools" "$ROOT/www-example" "$ROOT/uniapp-example" "$ROOT/taro-example" "$ROOT/tests/types" "$ROOT/tests/browser" "$ROOT/tests/miniprogram" "$ROOT/tests/backend"; do
  if [ -f "$dir/package-lock.json" ] && [ ! -f "$dir/node_modules/.package-lock.json" -o "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in ${dir#"$ROOT"/}"
    if [ "$dir" = "$ROOT/taro-example" ]; then
      # npm ci refuses this lock: @tarojs/binding names optional platform packages (darwin,
      # win32, arm64) that the registry does not have at 4.2.1, so no lock can list them.
      # npm install takes the same lock, fetches what exists, and leaves the lock as it is.
      (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error)
    else
      (cd "$dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
    fi
  fi
done
exit 0
