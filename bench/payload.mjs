// Payload: each library bundled the same way (esbuild: minified, ESM, browser) from npm,
// then gzip -9 and brotli. Ours is the bundled glue plus the .wasm it loads.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

// Each entry keeps what an app would use reachable, and exports it for the start-up bench.
const ENTRIES = {
  'wx-cloud-storage': `export { default, StorageClient } from 'wx-cloud-storage';`,
  'cos-js-sdk-v5': `export { default } from 'cos-js-sdk-v5';`,
  '@cloudbase/js-sdk (app + storage)': `import cloudbase from '@cloudbase/js-sdk/app';
    import { registerStorage } from '@cloudbase/js-sdk/storage'; registerStorage(cloudbase); export default cloudbase;`,
  axios: `export { default } from 'axios';`,
};

/** The file name each entry's bundle is written to. */
export const bundleName = (name) => `${name.replace(/ \(.*/, '').replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.js`;

/** Sizes of `bytes`: raw, gzip -9, brotli 11. */
function sizes(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/**
 * Bundles each entry; `nodePaths` lets the entries import the peers from tools/ and our
 * package from the bench folder (where bench.sh links pkg/ as node_modules/wx-cloud-storage).
 * Returns { name: { raw, gzip, brotli } } and writes each bundle to `outDir` as <slug>.js.
 */
export async function payloads({ nodePaths, pkgDir, outDir }) {
  const work = mkdtempSync(join(tmpdir(), 'wxcs-payload-'));
  const results = {};
  try {
    for (const [name, source] of Object.entries(ENTRIES)) {
      const entry = join(work, bundleName(name));
      writeFileSync(entry, source);
      const outfile = join(outDir, bundleName(name));
      await build({
        entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser',
        target: 'es2020', supported: { 'top-level-await': true }, outfile, nodePaths, logLevel: 'error',
        alias: { 'wx-cloud-storage': join(pkgDir, 'index.js') },
        define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
      });
      const bytes = readFileSync(outfile);
      if (name === 'wx-cloud-storage') {
        copyFileSync(join(pkgDir, 'wx_cloud_storage_bg.wasm'), join(outDir, 'wx_cloud_storage_bg.wasm'));
        const wasm = readFileSync(join(pkgDir, 'wx_cloud_storage_bg.wasm'));
        results['wx-cloud-storage (wasm)'] = sizes(wasm);
        results['wx-cloud-storage (JS glue)'] = sizes(bytes);
        const total = (k) => results['wx-cloud-storage (wasm)'][k] + results['wx-cloud-storage (JS glue)'][k];
        results[name] = { raw: total('raw'), gzip: total('gzip'), brotli: total('brotli') };
        continue;
      }
      results[name] = sizes(bytes);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}
