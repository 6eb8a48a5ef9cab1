#!/usr/bin/env bash
# Builds the npm package into pkg/ with the one release recipe (scripts/lib.sh), then the
# example pages (www-example/dist, which `wxcs dev` serves) from that package.
#   1. the wasm: cargo, profile wasm-release, std from source, panic=immediate-abort, MVP
#   2. wasm-bindgen --target web (the glue), then wasm-opt from npm's binaryen
#   3. the optional integrity module (its own wasm, integrity/, and integrity.js), the browser
#      entry (src/js + glue, one minified ES module), types, README, LICENSE, package.json
#   4. the mini program build (tools/miniprogram.mjs), from the same wasm
#   5. the payload, measured the bench's way (esbuild bundle + wasm, gzip -9)
# --package-only stops there (no example pages). WXCS_PKG_DIR puts the package elsewhere
# than pkg/ (the bench builds the other toolchain's package beside it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
use_toolchain
cd "$ROOT"
out="${WXCS_PKG_DIR:-$ROOT/pkg}"

say "building the wasm (Rust $RUST_VERSION, $WXCS_TOOLCHAIN toolchain)"
cargo_wasm build -q --profile wasm-release -p wx-cloud-storage
wasm="${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/wasm-release/wx_cloud_storage.wasm"

rm -rf "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" "$wasm"
# wasm-opt from npm's binaryen 132 (Debian's v108 corrupts wasm-bindgen's tables).
# --mvp-features also validates that nothing beyond WebAssembly 1.0 slipped in.
# wasm-bindgen's runtime exports two mutable Globals (__instance_terminated,
# __abort_handler) that its glue reads only in panic=unwind builds; iOS WeChat refuses a
# module that exports any Global, so they go (one per run: the pass takes one pattern).
wasm_opt() { "$ROOT/tools/node_modules/.bin/wasm-opt" --mvp-features "$@" "$out/wx_cloud_storage_bg.wasm" -o "$out/wx_cloud_storage_bg.wasm"; }
wasm_opt -Oz --converge --strip-producers --strip-target-features --remove-exports=__instance_terminated
wasm_opt --remove-exports=__abort_handler
# One- and two-letter names between the wasm and its glue (tools/wasm-names.mjs says why);
# the mapping is kept for the mini program's glue below.
names="${CARGO_TARGET_DIR:-$ROOT/target}/wasm-names.json"
node "$ROOT/tools/wasm-names.mjs" minify "$out/wx_cloud_storage_bg.wasm" "$names"
node "$ROOT/tools/wasm-names.mjs" glue "$out/wx_cloud_storage.js" "$names" "$out/wx_cloud_storage_bg.wasm"

# The optional integrity module's wasm (wx-cloud-storage/integrity): the same recipe, no
# wasm-bindgen (a plain C ABI), and none of the linker's Globals exported (iOS refuses them).
# Optimised for speed (opt-level 3 in Cargo.toml, wasm-opt -O3): -Oz halves SHA-256's
# throughput for the same gzip size.
cargo_wasm build -q --profile wasm-release -p wx-cloud-storage-integrity
digests="$out/wx_cloud_storage_integrity.wasm"
"$ROOT/tools/node_modules/.bin/wasm-opt" --mvp-features -O3 --strip-debug --strip-producers \
  --strip-target-features --remove-exports=__data_end \
  "${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/wasm-release/wx_cloud_storage_integrity.wasm" -o "$digests"
"$ROOT/tools/node_modules/.bin/wasm-opt" --mvp-features --remove-exports=__heap_base "$digests" -o "$digests"

version="$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
# The browser entry: src/js and the glue bundled into one minified ES module (+ source map).
node "$ROOT/tools/browser.mjs" "$out"
cp src/js/browser/index.d.ts src/js/browser/integrity.d.ts src/js/browser/image.d.ts src/js/browser/resumable.d.ts src/js/browser/element-plus.d.ts src/js/browser/antd.d.ts src/js/browser/components.d.ts "$out/"
# The bundler plugins (wx-cloud-storage/vite for uni-app, wx-cloud-storage/taro for Taro):
# CommonJS as they are; Taro's a real taro/index.js in a CommonJS folder.
cp src/js/plugins/vite.cjs src/js/plugins/vite.d.ts src/js/plugins/bundler-shared.cjs "$out/"
mkdir -p "$out/taro"
cp src/js/plugins/taro.cjs "$out/taro/index.js"
printf '{\n  "type": "commonjs",\n  "main": "index.js"\n}\n' > "$out/taro/package.json"
sed -e "s|\"version\": \"0.0.0\"|\"version\": \"$version\"|" pkg-template/package.json > "$out/package.json"
cp pkg-template/README.md pkg-template/LICENSE "$out/"
# Which compiler built this package, for the bench and for anyone comparing bytes.
echo "$WXCS_TOOLCHAIN: $(rustc --version)" > "$out/.toolchain"

say "the mini program build (miniprogram/: CommonJS, the same wasm, brotli)"
glue="${CARGO_TARGET_DIR:-$ROOT/target}/miniprogram-glue"
rm -rf "$glue"
wasm-bindgen --target bundler --no-typescript --out-dir "$glue" "$wasm"
node "$ROOT/tools/wasm-names.mjs" glue "$glue/wx_cloud_storage_bg.js" "$names" "$out/wx_cloud_storage_bg.wasm"
node "$ROOT/tools/miniprogram.mjs" "$glue" "$out"

say "payload (what a user downloads: esbuild bundle + wasm)"
node "$ROOT/tools/payload.mjs" "$out"
[ "${1:-}" = --package-only ] && exit 0

say "building the example pages (www-example/dist)"
(cd "$ROOT/www-example" && npx --no-install vite build --logLevel warn)
