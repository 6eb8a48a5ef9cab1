// Builds the package's mini program build into PKG_DIR/miniprogram/ (scripts/build.sh runs
// it): one CommonJS file bundled by esbuild from src/js/miniprogram/index.js (the same
// client as the browser build, given the mini program's transport and loader), the
// wasm-bindgen glue of the `bundler` target (GLUE_DIR), and a UTF-8 codec in place of
// TextEncoder/TextDecoder;
// next to it, the very wasm of the browser build, brotli-compressed (WXWebAssembly loads
// `.wasm.br` from base library 2.14.0).
//
//   node tools/miniprogram.mjs GLUE_DIR PKG_DIR
import { build } from 'esbuild';
import { errorFromEntry } from './entry-plugin.mjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const JS = join(ROOT, 'src', 'js');
const [glueDir, pkgDir] = process.argv.slice(2).map((dir) => resolve(dir));
const out = join(pkgDir, 'miniprogram');
mkdirSync(out, { recursive: true });

// The glue must provide every import of the wasm that ships (the same bytes as the browser's).
const wasm = readFileSync(join(pkgDir, 'wx_cloud_storage_bg.wasm'));
const needed = WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => i.name);
const source = readFileSync(join(glueDir, 'wx_cloud_storage_bg.js'), 'utf8');
const missing = needed.filter((name) => !source.includes(`export function ${name}(`));
if (missing.length) throw new Error(`the bundler glue lacks imports of the wasm: ${missing.join(', ')}`);

const cjs = {
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  // The JS the mini program runtime runs as is (构建 npm copies it untransformed).
  target: 'es2017',
  // Minified: the code package a mini program ships is capped at 2 MB.
  minify: true,
  // The client's own members (`_options`, `_backend`, …: underscored, never read from
  // outside the bundle) get short names too.
  mangleProps: /^_[a-z]/,
  legalComments: 'none',
  logLevel: 'error',
};
await build({
  ...cjs,
  entryPoints: [join(JS, 'miniprogram', 'index.js')],
  outfile: join(out, 'index.js'),
  // TextEncoder / TextDecoder in the glue become the codec's: phones lack the globals.
  inject: [join(JS, 'miniprogram', 'text.js')],
  plugins: [{
    name: 'miniprogram',
    setup(builder) {
      // The wasm-bindgen glue (`--target bundler`), which the sources import as wx_cloud_storage(_bg).js.
      builder.onResolve({ filter: /wx_cloud_storage(_bg)?\.js$/ }, () => ({ path: join(glueDir, 'wx_cloud_storage_bg.js') }));
      builder.onResolve({ filter: /storage-error\.js$/ }, () => ({ path: join(JS, 'shared', 'storage-error.js') }));
    },
  }],
});
// The optional integrity module (require('wx-cloud-storage/integrity')): its own file, which
// takes StorageError from index.js, and its own wasm, the browser build's bytes.
// The image step (require('wx-cloud-storage/image')) likewise, over wx.compressImage, and
// the resumable module (require('wx-cloud-storage/resumable')), over readFile and wx.request.
for (const name of ['integrity', 'image', 'resumable']) {
  await build({
    ...cjs,
    entryPoints: [join(JS, 'miniprogram', `${name}.js`)],
    outfile: join(out, `${name}.js`),
    plugins: [errorFromEntry('./index.js')],
  });
  writeFileSync(join(out, `${name}.d.ts`), readFileSync(join(JS, 'miniprogram', `${name}.d.ts`)));
}
const digests = readFileSync(join(pkgDir, 'wx_cloud_storage_integrity.wasm'));
writeFileSync(join(out, 'wx_cloud_storage_integrity.wasm.br'),
  brotliCompressSync(digests, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: digests.length } }));

writeFileSync(join(out, 'wx_cloud_storage_bg.wasm.br'),
  brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: wasm.length } }));
// The package's root is an ES module package; this folder is CommonJS, as mini programs are.
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs', main: 'index.js' }, null, 2)}\n`);
writeFileSync(join(out, 'index.d.ts'), readFileSync(join(JS, 'miniprogram', 'index.d.ts')));

for (const file of ['index.js', 'integrity.js', 'image.js', 'resumable.js']) {
  const bundle = readFileSync(join(out, file), 'utf8');
  for (const forbidden of ['import.meta', 'XMLHttpRequest', 'FormData', 'fetch(', 'new Blob', 'document.', 'window.', 'BigInt', 'btoa(']) {
    if (bundle.includes(forbidden)) throw new Error(`the mini program build's ${file} uses ${forbidden}, which the runtime lacks`);
  }
}
console.log(`miniprogram/index.js ${readFileSync(join(out, "index.js")).length} B · integrity.js ${readFileSync(join(out, "integrity.js")).length} B · image.js ${readFileSync(join(out, "image.js")).length} B · wx_cloud_storage_bg.wasm.br ${readFileSync(join(out, "wx_cloud_storage_bg.wasm.br")).length} B · wx_cloud_storage_integrity.wasm.br ${readFileSync(join(out, "wx_cloud_storage_integrity.wasm.br")).length} B`);
