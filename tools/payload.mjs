// The payload: what a user's page downloads for a library, measured one way for everyone.
// Each library is bundled by esbuild (minified, ESM, browser) from npm, then compressed with
// gzip -9 and brotli 11; ours is the bundled glue plus the .wasm it loads.
//
// Used by scripts/build.sh (prints ours), scripts/test.sh (the budget gate: the size is
// deterministic, so this is a check, not a timing) and the bench (ours beside the peers).
//
//   node tools/payload.mjs PKG_DIR [--budget BYTES]
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** The base package: init + StorageClient + validateKey (and StorageError with them). */
export const OURS = 'wx-cloud-storage';
const OUR_ENTRY = `export { default, StorageClient, validateKey } from 'wx-cloud-storage';`;

/** The optional subpaths measured over the base (the upload-component adapters, the resumable module) and what each exports. */
export const ADAPTERS = [['element-plus.js', ['elementPlusUpload']], ['antd.js', ['antdUpload']], ['resumable.js', ['resumable']]];

/** The file name each entry's bundle is written to. */
export const bundleName = (name) => `${name.replace(/ \(.*/, '').replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.js`;

/** Sizes of `bytes`: raw, gzip -9, brotli 11. */
export function sizes(bytes) {
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** `source` (an ES module importing the package) bundled the payload's way: its minified bytes. */
async function bundled(source, pkgDir, nodePaths = []) {
  const result = await build({
    stdin: { contents: source, resolveDir: pkgDir }, bundle: true, minify: true, format: 'esm', platform: 'browser',
    target: 'es2020', supported: { 'top-level-await': true }, write: false, nodePaths, logLevel: 'error',
    alias: { [OURS]: join(pkgDir, 'index.js') },
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  return Buffer.from(result.outputFiles[0].contents);
}

/**
 * What importing `names` from the package's optional module `file` (e.g. element-plus.js)
 * adds to a page that has the base package: the bundle with it minus the base bundle, and
 * the file on its own as published (what a page without a bundler fetches besides the base).
 */
export async function addedBy({ pkgDir, file, names }) {
  const base = sizes(await bundled(OUR_ENTRY, pkgDir));
  const both = sizes(await bundled(`${OUR_ENTRY}\nexport { ${names.join(', ')} } from ${JSON.stringify(join(pkgDir, file))};`, pkgDir));
  return {
    bundled: { raw: both.raw - base.raw, gzip: both.gzip - base.gzip, brotli: both.brotli - base.brotli },
    published: sizes(readFileSync(join(pkgDir, file))),
  };
}

const sum = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

/**
 * Bundles ours and each of `peers` ({ name: entry source }); `nodePaths` lets the entries
 * import the peers. Returns { name: { raw, gzip, brotli } }, with ours also split into
 * `… (wasm)` and `… (JS glue)`, and writes each bundle (and our .wasm) to `outDir`.
 */
export async function payloads({ pkgDir, outDir, peers = {}, nodePaths = [] }) {
  const results = {};
  for (const [name, source] of Object.entries({ [OURS]: OUR_ENTRY, ...peers })) {
    const bytes = await bundled(source, pkgDir, nodePaths);
    writeFileSync(join(outDir, bundleName(name)), bytes);
    results[name] = sizes(bytes);
  }
  copyFileSync(join(pkgDir, 'wx_cloud_storage_bg.wasm'), join(outDir, 'wx_cloud_storage_bg.wasm'));
  results[`${OURS} (wasm)`] = sizes(readFileSync(join(pkgDir, 'wx_cloud_storage_bg.wasm')));
  results[`${OURS} (JS glue)`] = results[OURS];
  results[OURS] = sum(results[`${OURS} (wasm)`], results[`${OURS} (JS glue)`]);
  // A page that imports the package's files as they are (a CDN's ESM link, no bundler)
  // downloads each one compressed on its own.
  results[`${OURS} (as published)`] = sum(results[`${OURS} (wasm)`], sizes(readFileSync(join(pkgDir, 'index.js'))));
  return results;
}

/**
 * The mini program payloads: our `miniprogram/` build and each of `peers` ({ name: module })
 * bundled the same way (esbuild, CommonJS, minified), as { name: { js, wasm, stored } }: the
 * sizes of the JS and of the wasm (raw, gzip, brotli), and the bytes the code package holds
 * (ours ships the wasm brotli-compressed, as `.wasm.br`).
 */
export async function miniprogramPayloads({ pkgDir, peers = {}, nodePaths = [] }) {
  const work = mkdtempSync(join(tmpdir(), 'wxcs-mp-payload-'));
  const results = {};
  try {
    const entries = { [OURS]: join(pkgDir, 'miniprogram', 'index.js'), ...peers };
    for (const [name, module] of Object.entries(entries)) {
      const entry = join(work, `${bundleName(name)}`);
      writeFileSync(entry, `module.exports = require(${JSON.stringify(module)});`);
      const bundled = await build({
        entryPoints: [entry], bundle: true, minify: true, format: 'cjs', platform: 'neutral', target: 'es2017',
        write: false, nodePaths, logLevel: 'error', mainFields: ['main'],
      });
      results[name] = { js: sizes(Buffer.from(bundled.outputFiles[0].contents)) };
    }
    const wasm = readFileSync(join(pkgDir, 'wx_cloud_storage_bg.wasm'));
    const stored = readFileSync(join(pkgDir, 'miniprogram', 'wx_cloud_storage_bg.wasm.br'));
    results[OURS].wasm = sizes(wasm);
    for (const result of Object.values(results)) result.stored = result.js.raw;
    results[OURS].stored += stored.length;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

// The command: our payload, and the budget gate when --budget is given.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const pkgDir = resolve(process.argv[2] || 'pkg');
  const budgetAt = process.argv.indexOf('--budget');
  const budget = budgetAt > 0 ? Number(process.argv[budgetAt + 1]) : undefined;
  const outDir = mkdtempSync(join(tmpdir(), 'wxcs-bundle-'));
  try {
    const ours = await payloads({ pkgDir, outDir });
    for (const part of [`${OURS} (wasm)`, `${OURS} (JS glue)`, OURS, `${OURS} (as published)`]) {
      const { raw, gzip, brotli } = ours[part];
      console.log(`${part.padEnd(28)} ${String(raw).padStart(7)} B raw ${String(gzip).padStart(7)} B gzip -9 ${String(brotli).padStart(7)} B brotli`);
    }
    for (const [file, names] of ADAPTERS) {
      const { bundled: added, published } = await addedBy({ pkgDir, file, names });
      console.log(`+ ${file.padEnd(26)} ${String(added.raw).padStart(7)} B raw ${String(added.gzip).padStart(7)} B gzip -9 ${String(added.brotli).padStart(7)} B brotli over the base, bundled (${published.gzip} B gzip as published)`);
    }
    if (budget !== undefined) {
      // Both ways a page may get the package: bundled by the app, or the files as published.
      for (const [how, part] of [['bundled', OURS], ['as published', `${OURS} (as published)`]]) {
        const total = ours[part].gzip;
        console.log(`payload budget, ${how}: ${total} B gzip -9 of ${budget} B: ${total <= budget ? 'within' : 'OVER'} the budget`);
        if (total > budget) process.exitCode = 1;
      }
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
