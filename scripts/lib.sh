# Sourced by every script in scripts/: paths, logging, and the choice of Rust toolchain.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Two ways to build for wasm32, chosen once per machine:
#  - "rustup": rustup's wasm32-unknown-unknown target is installed (a laptop, most CI);
#    plain cargo and wasm-pack work.
#  - "debian": rustup cannot fetch the target (this project's own machines). Debian's Rust
#    (rustc-web, with the std sources) builds std for wasm32 from source with -Z build-std,
#    and is used for every cargo call so host and wasm artefacts come from one compiler.
# WXCS_TOOLCHAIN=rustup|debian overrides the detection.
wasm_toolchain() {
  if [ -n "${WXCS_TOOLCHAIN:-}" ]; then
    echo "$WXCS_TOOLCHAIN"
  elif command -v rustup >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo rustup
  else
    echo debian
  fi
}
WXCS_TOOLCHAIN="$(wasm_toolchain)"
export WXCS_TOOLCHAIN

# WASM_STD_ARGS: extra cargo arguments for wasm32 builds. use_toolchain exports the rest.
WASM_STD_ARGS=()
use_toolchain() {
  if [ "$WXCS_TOOLCHAIN" = debian ]; then
    export PATH="/usr/bin:$PATH"
    export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
    WASM_STD_ARGS=(-Z build-std=std,panic_abort)
  fi
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
locked_wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# Chromium and its driver, wherever the system put them.
find_chrome() { command -v chromium || command -v chromium-browser || command -v google-chrome || true; }
find_chromedriver() { command -v chromedriver || true; }
