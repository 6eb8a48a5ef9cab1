#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (release, --target web), then the package
# files from pkg-template/, then prints the payload sizes (raw and gzip -9); then the
# example pages (www-example/dist, which `wxcs dev` serves), consuming that package.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_toolchain
cd "$ROOT"

mode=()
if [ "$WXCS_TOOLCHAIN" = debian ]; then
  # wasm-pack would look for a rustup target; --mode force skips that check.
  mode=(--mode force)
  # std is built from source here, so panics can abort without the formatting and
  # unwinding machinery: about a third of the wasm's gzip size. Only for the shipped
  # release build; tests keep panic messages.
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
fi
say "building the wasm package ($WXCS_TOOLCHAIN toolchain)"
rm -rf pkg
wasm-pack --quiet build --release --target web --no-pack --out-dir pkg "${mode[@]}" . -- "${WASM_STD_ARGS[@]}"
# A current wasm-opt from npm (see Cargo.toml for why not Debian's). The feature flags are
# what rustc 1.87+ emits for wasm32 and wasm-bindgen's externref table needs.
"$ROOT/tools/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types \
  pkg/wx_cloud_storage_bg.wasm -o pkg/wx_cloud_storage_bg.wasm

# The entry module re-exports the generated glue plus the StorageError class, which
# wasm-bindgen emits as a snippet under a hashed folder name.
snippet="$(cd pkg && find snippets -name storage-error.js | head -n 1)"
[ -n "$snippet" ] || die "wasm-bindgen did not emit the StorageError snippet"
version="$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
sed -e "s|@SNIPPET@|./$snippet|" pkg-template/index.js > pkg/index.js
sed -e "s|@SNIPPET@|./$snippet|" pkg-template/index.d.ts > pkg/index.d.ts
sed -e "s|\"version\": \"0.0.0\"|\"version\": \"$version\"|" pkg-template/package.json > pkg/package.json
cp pkg-template/README.md pkg-template/LICENSE pkg/
rm -f pkg/.gitignore

# size LABEL FILE...: the files' combined size, raw and gzip -9.
size() {
  local label="$1"; shift
  printf '%-28s %7d B raw %7d B gzip\n' "$label" "$(cat "$@" | wc -c)" "$(cat "$@" | gzip -9 | wc -c)"
}
mapfile -t snippets < <(find pkg/snippets -name "*.js" | sort)
glue=(pkg/wx_cloud_storage.js pkg/index.js "${snippets[@]}")
say "payload"
size "wx_cloud_storage_bg.wasm" pkg/wx_cloud_storage_bg.wasm
size "JS glue (generated + entry)" "${glue[@]}"
size "total" pkg/wx_cloud_storage_bg.wasm "${glue[@]}"

say "building the example pages (www-example/dist)"
(cd "$ROOT/www-example" && npx --no-install vite build --logLevel warn)
