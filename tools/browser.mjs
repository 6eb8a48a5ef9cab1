// Builds the package's browser entry into PKG_DIR/index.js (scripts/build.sh runs it): one
// ES module, minified by esbuild, from src/js and the wasm-bindgen glue in PKG_DIR, with a
// source map (index.js.map, sources included) for debugging. Shipped minified so that what
// a page downloads is the same whether or not the app bundles it again: a CDN's ESM link
// or a page that imports the file as it is gets the budgeted bytes too (20 KB gzip with
// the wasm), not the commented sources (27 KB).
//
//   node tools/browser.mjs PKG_DIR
import { build } from 'esbuild';
import { errorFromEntry } from './entry-plugin.mjs';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const JS = join(ROOT, 'src', 'js');
const pkgDir = resolve(process.argv[2]);
const glue = join(pkgDir, 'wx_cloud_storage.js');

const esm = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // ES2020, which the README's oldest browsers (Chrome 80, Safari 14) have: newer syntax in
  // the sources, such as `??=` (Chrome 85), is lowered.
  target: 'es2020',
  minify: true,
  // The client's own members (`_options`, `_backend`, …: underscored, never read from
  // outside the bundle) get short names too.
  mangleProps: /^_[a-z]/,
  legalComments: 'none',
  logLevel: 'error',
};
await build({
  ...esm,
  entryPoints: [join(JS, 'browser', 'index.js')],
  outfile: join(pkgDir, 'index.js'),
  sourcemap: true,
  sourcesContent: true,
  plugins: [{
    name: 'glue',
    setup(builder) {
      // The wasm-bindgen glue (`--target web`), which the sources import as wx_cloud_storage.js.
      builder.onResolve({ filter: /wx_cloud_storage\.js$/ }, () => ({ path: glue }));
      // The glue's own import of the error class: the one module the client uses.
      builder.onResolve({ filter: /storage-error\.js$/ }, () => ({ path: join(JS, 'shared', 'storage-error.js') }));
    },
  }],
});
rmSync(glue);

// The optional modules (wx-cloud-storage/integrity, /image, /resumable, /element-plus, /antd): each its
// own minified ES module that takes StorageError from the entry above, so all share one class.
for (const name of ['integrity.js', 'image.js', 'resumable.js', 'element-plus.js', 'antd.js']) {
  await build({
    ...esm,
    entryPoints: [join(JS, 'browser', name)],
    outfile: join(pkgDir, name),
    plugins: [errorFromEntry('./index.js')],
  });
}

// Bundlers (Vite, webpack 5) find the wasm by this exact pattern: it must survive minifying.
const bundle = readFileSync(join(pkgDir, 'index.js'), 'utf8');
if (!bundle.includes('new URL("./wx_cloud_storage_bg.wasm",import.meta.url)')) {
  throw new Error('the browser bundle lost new URL("./wx_cloud_storage_bg.wasm", import.meta.url)');
}
if (!readFileSync(join(pkgDir, 'integrity.js'), 'utf8').includes('new URL("./wx_cloud_storage_integrity.wasm",import.meta.url)')) {
  throw new Error('the integrity module lost new URL("./wx_cloud_storage_integrity.wasm", import.meta.url)');
}
console.log(`index.js ${bundle.length} B`);
