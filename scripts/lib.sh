# Sourced by every script in scripts/: paths, logging, and the choice of Rust toolchain.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$HOME/.cargo/bin:$PATH"

# Each step's line says how long the command has run (the first script sets the start), so
# a CI log shows where the time goes.
WXCS_STARTED_AT="${WXCS_STARTED_AT:-$(date +%s)}"
export WXCS_STARTED_AT
say() { printf '\033[1m==> [%ss] %s\033[0m\n' "$(($(date +%s) - WXCS_STARTED_AT))" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# One compiler for every build, so the published wasm is the same bytes whoever builds it:
# Rust 1.96.0, with the standard library built from its source (-Z build-std) for wasm32.
# Two places provide exactly that, and scripts/setup.sh installs whichever it can:
#  - "rustup": rustup's 1.96.0 toolchain with the rust-src component (a laptop, most CI);
#  - "debian": Debian's rustc-web 1.96.0 with rust-web-src (machines whose rustup cannot
#    reach its servers). Used for every cargo call then, so host and wasm artefacts come
#    from one compiler.
# Both build the wasm with the same flags (WASM_RUSTFLAGS); the two wasm files differ by
# well under 1 % (the bench prints both). WXCS_TOOLCHAIN=rustup|debian overrides the choice.
RUST_VERSION=1.96.0
export RUST_VERSION

has_rustup_toolchain() {
  command -v rustup >/dev/null 2>&1 &&
    rustup run "$RUST_VERSION" rustc --version >/dev/null 2>&1 &&
    [ -d "$(rustup run "$RUST_VERSION" rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ]
}

has_debian_toolchain() {
  [ -x /usr/bin/rustc ] && /usr/bin/rustc --version 2>/dev/null | grep -q "^rustc $RUST_VERSION" &&
    [ -d /usr/lib/rustlib/src/rust/library ]
}

# Which of the two this machine has now ("" if neither).
detect_toolchain() {
  if [ -n "${WXCS_TOOLCHAIN:-}" ]; then
    echo "$WXCS_TOOLCHAIN"
  elif has_rustup_toolchain; then
    echo rustup
  elif has_debian_toolchain; then
    echo debian
  fi
}

# The release recipe's flags for the wasm, on either toolchain:
#  - panic=immediate-abort: panics abort with no message, so neither the unwinding nor the
#    formatting machinery enters the wasm (std is built from source, which allows it);
#  - target-cpu=mvp: WebAssembly 1.0 features only. WeChat publishes no feature table for
#    WXWebAssembly, and some WeChat engines and old iOS lacked sign-ext and reference-types;
#  - location-detail=none, fmt-debug=none: no source locations or Debug text either;
#  - remap-path-prefix: no path of this machine in the output.
wasm_rustflags() {
  local sysroot="$1"
  printf '%s ' -Zunstable-options -Cpanic=immediate-abort -Ctarget-cpu=mvp \
    -Zlocation-detail=none -Zfmt-debug=none \
    "--remap-path-prefix=$ROOT=/wx-cloud-storage" \
    "--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
    "--remap-path-prefix=$sysroot/lib/rustlib/src/rust=/rust"
}

# WASM_STD_ARGS: the extra cargo arguments for wasm32 builds (see cargo_wasm). use_toolchain
# exports the rest: the compiler for every cargo call, and the wasm's RUSTFLAGS.
WASM_STD_ARGS=(-Z build-std=std,panic_abort)
use_toolchain() {
  WXCS_TOOLCHAIN="$(detect_toolchain)"
  export WXCS_TOOLCHAIN
  local sysroot
  case "$WXCS_TOOLCHAIN" in
    rustup)
      export RUSTUP_TOOLCHAIN="$RUST_VERSION"
      sysroot="$(rustc --print sysroot)"
      ;;
    debian)
      export PATH="/usr/bin:$PATH"
      export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
      sysroot=/usr
      ;;
    *) die "no Rust $RUST_VERSION with its std sources: run scripts/setup.sh" ;;
  esac
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$(wasm_rustflags "$sysroot")"
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
}

# cargo_wasm SUBCOMMAND ARGS...: a cargo call for wasm32 with the release recipe's std.
# RUSTC_BOOTSTRAP lets the stable compiler take -Z build-std; it is set for these calls
# only, so host crates that probe for nightly features see a stable compiler.
cargo_wasm() {
  local subcommand="$1"; shift
  RUSTC_BOOTSTRAP=1 cargo "$subcommand" --target wasm32-unknown-unknown "${WASM_STD_ARGS[@]}" "$@"
}

# The wasm-bindgen version pinned in Cargo.lock (the CLI must match it exactly).
locked_wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# free_ports N: N distinct ports that are free now, below Linux's ephemeral range (32768
# up). A port the kernel picks for ":0" is in that range, and any outgoing connection may
# take it again before our server binds it (seen once as AddrInUse).
free_ports() {
  python3 -c '
import random, socket, sys
ports = []
while len(ports) < int(sys.argv[1]):
    port = random.randrange(20000, 32000)
    with socket.socket() as s:
        try: s.bind(("127.0.0.1", port))
        except OSError: continue
    if port not in ports: ports.append(port)
print(*ports)' "$1"
}

# Chromium, wherever the system put it.
find_chrome() { command -v chromium || command -v chromium-browser || command -v google-chrome || true; }
