// The bench command's runner (scripts/bench.sh builds first, then runs this): payload,
// upload throughput, memory, start-up, backend load and scaling, each beside a peer
// measured in the same run. Prints one Markdown table and writes it to BENCHMARKS.md.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { miniprogramPayloads, payloads, sizes as sizesOf, ADAPTERS, addedBy } from '../tools/payload.mjs';
import * as esbuild from 'esbuild';
import { cpuPerUpload, median as medianOf, ratioInterval } from './cpu.mjs';
import { stateBench, wrk as wrkFigures } from './state.mjs';
import { resumableBench } from './resumable.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const WXCS = process.env.WXCS_BIN ?? join(ROOT, 'target', 'release', 'wxcs');
const CHROME = process.env.CHROME_PATH || '/usr/bin/chromium';
const QUICK = process.env.WXCS_BENCH_QUICK === '1'; // fewer runs, for trying the command out
// WXCS_BENCH_ONLY=cpu,backend runs only those sections (payload, throughput, uplink, hashing,
// images, cpu, memory, startup, scaling, resumable, backend, state) and writes target/bench-only.md, not BENCHMARKS.md.
const ONLY = process.env.WXCS_BENCH_ONLY ? new Set(process.env.WXCS_BENCH_ONLY.split(',')) : null;
const want = (section) => !ONLY || ONLY.has(section);
const work = mkdtempSync(join(tmpdir(), 'wxcs-bench-'));
// The emulator's store in memory (tmpfs) when the machine has room: on disk, its fsync per
// object swings every upload figure by ±5 % run to run, more than the clients differ.
// Keys are reused across runs, so the store stays near 4 GB.
const store = (() => {
  try {
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (bavail * bsize > 8 * 1024 ** 3) return { dir: mkdtempSync('/dev/shm/wxcs-bench-'), where: 'tmpfs' };
  } catch { /* no /dev/shm */ }
  return { dir: join(work, 'data'), where: 'disk' };
})();
const children = [];
const rows = [];
const log = (...args) => console.error('bench:', ...args);

// Each peer's bundle entry keeps what an app would use reachable, and exports it for the
// start-up bench.
const PEERS = {
  'cos-js-sdk-v5': `export { default } from 'cos-js-sdk-v5';`,
  '@cloudbase/js-sdk (app + storage)': `import cloudbase from '@cloudbase/js-sdk/app';
    import { registerStorage } from '@cloudbase/js-sdk/storage'; registerStorage(cloudbase); export default cloudbase;`,
  axios: `export { default } from 'axios';`,
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const ratio = (ours, peer) => `${(ours / peer).toFixed(2)}×`;

// A fixed-seed generator (mulberry32): the bench's orders and resamples are the same every
// run, and still varied.
let seed = 2026;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const shuffled = (xs) => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};
/**
 * The 95 % interval of median(peer) / median(ours) (ours' throughput over the peer's), by
 * resampling each one's runs: on a machine whose two cores the browser, emulator and
 * backend share, one run swings ±8 %, and the interval says how far to trust the ratio.
 */
function interval(ours, peer) {
  const pick = (xs) => xs.map(() => xs[Math.floor(random() * xs.length)]);
  const ratios = Array.from({ length: 2000 }, () => median(pick(peer)) / median(pick(ours))).sort((a, b) => a - b);
  return `${ratios[50].toFixed(2)}–${ratios[1949].toFixed(2)}`;
}
/** One table row: area, measure, ours, peer name, peer figure, ratio, budget. */
const row = (...cells) => rows.push(cells);

// A free port below Linux's ephemeral range (32768 up): one the kernel picks for ":0" may be
// taken by any outgoing connection before the child binds it.
const taken = new Set();
async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (taken.has(port)) continue;
    const server = createServer();
    const free = await new Promise((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) continue;
    await new Promise((resolve) => server.close(resolve));
    taken.add(port);
    return port;
  }
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not come up`);
}

function start(command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

/** A file of `mib` random-looking MiB on disk. */
function diskFile(mib) {
  const path = join(work, `${mib}MiB.bin`);
  const chunk = randomBytes(1024 * 1024);
  const fd = openSync(path, 'w');
  for (let i = 0; i < mib; i++) writeSync(fd, chunk);
  closeSync(fd);
  return path;
}

async function emulatorStats(wxPort) {
  return fetch(`http://127.0.0.1:${wxPort}/__emulator/stats`).then((r) => r.json());
}

try {
  // 1. Payload. The bundles also serve the browser benches.
  const www = join(work, 'www');
  cpSync(join(HERE, 'page'), www, { recursive: true });
  // The package's own files (the integrity module imports ./index.js beside it), and the
  // hashing peers in one bundle.
  for (const file of ['index.js', 'integrity.js', 'image.js', 'resumable.js', 'wx_cloud_storage_bg.wasm', 'wx_cloud_storage_integrity.wasm']) {
    cpSync(join(ROOT, 'pkg', file), join(www, 'pkg', file));
  }
  // The image bench's photos: the test suite's generator.
  cpSync(join(ROOT, 'tests', 'browser', 'page', 'photos.js'), join(www, 'photos.js'));
  await esbuild.build({
    stdin: { contents: `export { default } from 'compressorjs';`, resolveDir: HERE },
    bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: join(www, 'peers', 'compressor.js'), logLevel: 'error',
  });
  // cos-js-sdk-v5 for the resumable bench's sliceUploadFile.
  await esbuild.build({
    stdin: { contents: `export { default } from 'cos-js-sdk-v5';`, resolveDir: HERE },
    bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: join(www, 'peers', 'cos.js'), logLevel: 'error',
  });
  await esbuild.build({
    stdin: { contents: `export { createCRC64, createSHA256 } from 'hash-wasm'; export { crc_64_xz as jsCrc64 } from 'js-crc/models';`, resolveDir: HERE },
    bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: join(www, 'peers', 'hashing.js'), logLevel: 'error',
  });
  log('payload: bundling with esbuild');
  const sizes = await payloads({ nodePaths: [join(HERE, 'node_modules')], pkgDir: join(ROOT, 'pkg'), outDir: join(www, 'peers'), peers: PEERS });
  const ours = sizes['wx-cloud-storage'];
  if (want('payload')) {
  for (const peer of ['cos-js-sdk-v5', '@cloudbase/js-sdk (app + storage)', 'axios']) {
    for (const kind of ['gzip', 'brotli']) {
      const budget = kind === 'gzip' ? (ours.gzip <= 20000 ? 'yes (≤ 20 KB)' : 'no (≤ 20 KB)') : '';
      row('payload', `wasm + glue, ${kind === 'gzip' ? 'gzip -9' : 'brotli'}`, kb(ours[kind]), peer, kb(sizes[peer][kind]), ratio(ours[kind], sizes[peer][kind]), budget);
    }
  }
  const wasmPart = sizes['wx-cloud-storage (wasm)'];
  const gluePart = sizes['wx-cloud-storage (JS glue)'];
  row('payload', 'of which wasm / JS glue, gzip -9', `${kb(wasmPart.gzip)} / ${kb(gluePart.gzip)}`, '', '', '', '');
  const published = sizes['wx-cloud-storage (as published)'];
  row('payload', 'the files as published (index.js + .wasm, no bundler; each gzip -9)', kb(published.gzip), '', '', '', published.gzip <= 20000 ? 'yes (≤ 20 KB)' : 'no (≤ 20 KB)');
  // The optional integrity module: what importing wx-cloud-storage/integrity adds.
  // (Each file compressed on its own, as a page fetches them.)
  const [extraJs, extraWasm] = ['integrity.js', 'wx_cloud_storage_integrity.wasm'].map((f) => sizesOf(readFileSync(join(ROOT, 'pkg', f))));
  const extra = { gzip: extraJs.gzip + extraWasm.gzip, brotli: extraJs.brotli + extraWasm.brotli };
  row('payload', 'wx-cloud-storage/integrity (optional: JS + its wasm), gzip -9 / brotli; wasm alone gzip -9', `${kb(extra.gzip)} / ${kb(extra.brotli)}; ${kb(extraWasm.gzip)}`, '', '', '', 'not in the base (subpath export)');
  const imageJs = sizesOf(readFileSync(join(ROOT, 'pkg', 'image.js')));
  const compressorJs = sizesOf(readFileSync(join(www, 'peers', 'compressor.js')));
  row('payload', 'wx-cloud-storage/image (optional, JS only), gzip -9 / brotli', `${kb(imageJs.gzip)} / ${kb(imageJs.brotli)}`, 'compressorjs 1.3 (minified)', `${kb(compressorJs.gzip)} / ${kb(compressorJs.brotli)}`, ratio(imageJs.gzip, compressorJs.gzip), 'not in the base (subpath export)');
  // The optional subpaths (the adapters, the resumable module): what each adds to a page that has the base.
  for (const [file, names] of ADAPTERS) {
    const { bundled, published } = await addedBy({ pkgDir: join(ROOT, 'pkg'), file, names });
    row('payload', `wx-cloud-storage/${file.replace('.js', '')} (optional): added over the base, bundled, gzip -9 / brotli; as published, gzip -9`, `${kb(bundled.gzip)} / ${kb(bundled.brotli)}; ${kb(published.gzip)}`, '', '', '', 'not in the base (subpath export)');
  }
  // The mini program build beside cos-wx-sdk-v5, bundled the same way.
  const mp = await miniprogramPayloads({ pkgDir: join(ROOT, 'pkg'), peers: { 'cos-wx-sdk-v5': 'cos-wx-sdk-v5' }, nodePaths: [join(HERE, 'node_modules')] });
  const mpOurs = mp['wx-cloud-storage'];
  const mpPeer = mp['cos-wx-sdk-v5'];
  row('mini program', 'code package bytes (JS + .wasm.br as 构建 npm copies them)', kb(mpOurs.stored), 'cos-wx-sdk-v5 (bundled)', kb(mpPeer.stored), ratio(mpOurs.stored, mpPeer.stored), '');
  row('mini program', 'wasm raw / gzip -9 / brotli', `${kb(mpOurs.wasm.raw)} / ${kb(mpOurs.wasm.gzip)} / ${kb(mpOurs.wasm.brotli)}`, '', '', '', '');
  row('mini program', 'JS raw / gzip -9 / brotli', `${kb(mpOurs.js.raw)} / ${kb(mpOurs.js.gzip)} / ${kb(mpOurs.js.brotli)}`, 'cos-wx-sdk-v5', `${kb(mpPeer.js.raw)} / ${kb(mpPeer.js.gzip)} / ${kb(mpPeer.js.brotli)}`, ratio(mpOurs.js.gzip, mpPeer.js.gzip), '');
  row('mini program', 'JS + wasm, gzip -9', kb(mpOurs.js.gzip + mpOurs.wasm.gzip), 'cos-wx-sdk-v5', kb(mpPeer.js.gzip), ratio(mpOurs.js.gzip + mpOurs.wasm.gzip, mpPeer.js.gzip), '');

  // The same recipe on each toolchain this machine has (scripts/bench.sh builds the other
  // one into WXCS_OTHER_PKG): the size a user downloads must not depend on who built it.
  const builds = [join(ROOT, 'pkg'), process.env.WXCS_OTHER_PKG].filter(Boolean);
  const wasmOf = (dir) => readFileSync(join(dir, 'wx_cloud_storage_bg.wasm'));
  for (const dir of builds) {
    const built = (await payloads({ pkgDir: dir, outDir: mkdtempSync(join(work, 'toolchain-')) }))['wx-cloud-storage'];
    const by = readFileSync(join(dir, '.toolchain'), 'utf8').trim();
    row('payload', `wasm + glue, gzip -9, built by ${by}`, kb(built.gzip), '', '', '', built.gzip <= 20000 ? 'yes (≤ 20 KB)' : 'no (≤ 20 KB)');
  }
  if (builds.length === 2) {
    const [a, b] = builds.map(wasmOf);
    const differing = a.length === b.length ? a.reduce((n, byte, i) => n + (byte !== b[i]), 0) : NaN;
    const same = differing === 0 ? 'identical bytes' : a.length === b.length ? `same size (${a.length} B), ${differing} bytes differ` : `${a.length} B vs ${b.length} B`;
    row('payload', 'the two toolchains\' wasm', same, '', '', '', Math.abs(a.length - b.length) <= a.length / 100 ? 'yes (within 1 %)' : 'no (within 1 %)');
  } else {
    row('payload', 'the other toolchain', 'not installed on this machine', '', '', '', '');
  }
  }

  // The stack: wxcs dev (emulator + backend) serving the bench pages.
  const [port, wxPort, cosPort, servePort, nodePort, checkedPort] = await Promise.all([1, 2, 3, 4, 5, 6].map(freePort));
  start(WXCS, ['dev', '--data-dir', store.dir, '--port', `${port}`, '--wx-port', `${wxPort}`, '--cos-port', `${cosPort}`, '--www', www], { WXCS_LOG: 'warn' });
  // A backend that limits size and type, so every upload is checked after it lands (its cost).
  start(WXCS, ['serve'], {
    WXCS_BIND: '127.0.0.1', PORT: `${checkedPort}`, WX_API_BASE: `http://127.0.0.1:${wxPort}`, WX_ENV: 'dev-emulator',
    WX_APPID: 'wx0000000000emulator', WX_SECRET: 'emulator-app-secret', WXCS_USERS: 'demo-token=demo',
    WXCS_MAX_SIZE: `${1024 * 1024 * 1024}`, WXCS_ALLOWED_TYPES: 'application/octet-stream', WXCS_CORS_ORIGINS: '*',
    WXCS_RATE_PER_MINUTE: '4000000000', WXCS_LOG: 'warn', WXCS_DATA_DIR: join(work, 'state-checked'),
  });
  await waitFor(`http://127.0.0.1:${checkedPort}/healthz`);
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  // A persistent profile, so the browser may page large Blobs to disk (incognito keeps
  // them in memory and refuses a 1 GiB one).
  const browser = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROME,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--js-flags=--expose-gc', '--enable-precise-memory-info'],
  });
  const page = await browser.newPage();
  page.on('pageerror', (error) => log('page error:', error.message));
  await page.goto(`http://127.0.0.1:${port}/?checked=${encodeURIComponent(`http://127.0.0.1:${checkedPort}/api/storage`)}`);
  await page.waitForFunction(() => window.bench);
  await page.evaluate(() => window.bench.setup());
  const upload = (variant, n, mib, concurrency, tag) =>
    page.evaluate(([v, n, m, c, t]) => window.bench.upload(v, n, m, c, t), [variant, n, mib, concurrency, tag]);

  if (want('throughput')) {
    // 2. Throughput: rounds interleave the variants so drift hits all alike, each round in a
    // new order, so none always runs right after the same neighbour (whoever follows a
    // variant meets the garbage and the emulator's work it left behind).
    for (const [n, mib, runs] of [[50, 1, QUICK ? 2 : 30], [1, 256, QUICK ? 1 : 15]]) {
      log(`throughput: ${n} × ${mib} MiB, ${runs} runs each`);
      // The big file is picked from disk; the small ones are made in the page.
      const inPage = mib === 1 ? 1 : 0;
      if (!inPage) await page.setInputFiles('#disk', diskFile(mib));
      const times = { ours: [], handFetch: [], handXhr: [], oursProgress: [], handXhrProgress: [], axios: [], oursChecked: [], oursIntegrity: [] };
      // The many-files round also measures the floor of any in-page check: a second read, no hash.
      const withFloor = n > 1;
      if (withFloor) times.oursReadTwice = [];
      for (const variant of Object.keys(times)) await upload(variant, n, inPage, 3, 'warm'); // warm-up
      for (let run = 0; run < runs; run++) {
        for (const variant of shuffled(Object.keys(times))) times[variant].push(await upload(variant, n, inPage, 3, 't'));
      }
      const mibps = (variant) => (n * mib) / (median(times[variant]) / 1000);
      const what = (n === 1 ? `upload, 1 × ${mib} MiB` : `uploadMany, ${n} × ${mib} MiB (concurrency 3)`) + (inPage ? '' : ', picked from disk');
      const compare = (ours, how, peer, peerName, budgeted) => {
        const r = mibps(ours) / mibps(peer);
        // Budgeted rows to three places, so a ratio just under the budget never reads as 0.97×.
        const shown = budgeted
          ? `${r.toFixed(3)}×${QUICK ? '' : ` (95 %: ${interval(times[ours], times[peer])})`}`
          : ratio(mibps(ours), mibps(peer));
        row('throughput', `${what}, ${how}`, `${mibps(ours).toFixed(0)} MiB/s`, peerName, `${mibps(peer).toFixed(0)} MiB/s`, shown, budgeted ? (r >= 0.97 ? 'yes (≥ 0.97×)' : 'no (≥ 0.97×)') : '');
      };
      compare('ours', 'default (fetch, no preflight)', 'handFetch', 'hand-written fetch + FormData', true);
      compare('ours', 'default (fetch, no preflight)', 'handXhr', 'hand-written XHR + FormData, no listeners', false);
      compare('oursProgress', 'with onProgress (XHR)', 'handXhrProgress', 'hand-written XHR + FormData with a progress listener', true);
      compare('ours', 'default', 'axios', 'axios + FormData', false);
      const checked = mibps('oursChecked') / mibps('ours');
      const withIntegrity = mibps('oursIntegrity') / mibps('ours');
      row('throughput', `${what}, with wx-cloud-storage/integrity (CRC-64 of each file, verdict from COS's header)`, `${mibps('oursIntegrity').toFixed(0)} MiB/s`, 'ours, integrity off', `${mibps('ours').toFixed(0)} MiB/s`, `${withIntegrity.toFixed(3)}×`, n > 1 ? (withIntegrity >= 0.95 ? 'yes (≥ 0.95×)' : 'no (≥ 0.95×)') : '');
      if (withFloor) {
        const floor = mibps('oursReadTwice');
        row('throughput', `${what}, each file only read once more in a worker as integrity reads it, not hashed (the floor of any in-page check)`, `${floor.toFixed(0)} MiB/s`, 'ours, integrity off', `${mibps('ours').toFixed(0)} MiB/s`, `${(floor / mibps('ours')).toFixed(3)}×`, '');
        row('throughput', `${what}, with wx-cloud-storage/integrity, against that floor (what the hashing itself costs)`, `${mibps('oursIntegrity').toFixed(0)} MiB/s`, 'ours + the bare second read', `${floor.toFixed(0)} MiB/s`, `${(mibps('oursIntegrity') / floor).toFixed(3)}×`, '');
      }
      row('throughput', `${what}, backend with --max-size and --allowed-types (each object checked after it lands)`, `${mibps('oursChecked').toFixed(0)} MiB/s`, 'ours, no limits set', `${mibps('ours').toFixed(0)} MiB/s`,
        `${checked.toFixed(3)}×${QUICK ? '' : ` (95 %: ${interval(times.oursChecked, times.ours)})`}`, n > 1 ? (checked >= 0.95 ? 'yes (≥ 0.95×)' : 'no (≥ 0.95×)') : '');
    }
  }

  if (want('uplink')) {
    // 2a. Integrity at a phone's uplink: COS reads each body at 2 MiB/s (the emulator's
    // cos_bytes_per_second), so the network, not this machine's two shared cores, bounds the
    // upload, as it does for users.
    log('throughput: integrity on/off at a 2 MiB/s uplink per upload');
    await fetch(`http://127.0.0.1:${wxPort}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ cos_bytes_per_second: 2 * 1024 * 1024 }) });
    const slow = { ours: [], oursIntegrity: [] };
    await upload('oursIntegrity', 6, 1, 3, 'slow-warm');
    for (let run = 0; run < (QUICK ? 1 : 5); run++) {
      for (const variant of shuffled(Object.keys(slow))) slow[variant].push(await upload(variant, 6, 1, 3, 'slow'));
    }
    await fetch(`http://127.0.0.1:${wxPort}/__emulator/faults`, { method: 'POST', body: '{}' });
    const slowRatio = median(slow.ours) / median(slow.oursIntegrity);
    row('throughput', 'uploadMany, 6 × 1 MiB (concurrency 3) at a 2 MiB/s uplink per upload, with wx-cloud-storage/integrity', `${(6 / (median(slow.oursIntegrity) / 1000)).toFixed(1)} MiB/s`, 'ours, integrity off', `${(6 / (median(slow.ours) / 1000)).toFixed(1)} MiB/s`, `${slowRatio.toFixed(3)}×`, slowRatio >= 0.95 ? 'yes (≥ 0.95×)' : 'no (≥ 0.95×)');
  }

  if (want('hashing')) {
    // 2b. Hashing: 64 MiB made in the page, each hasher streaming it, median of 7 after a warm-up.
    log('hashing: 64 MiB');
    const hashes = {};
    for (const hasher of ['oursCrc64', 'hashWasmCrc64', 'jsCrc64', 'oursSha256', 'hashWasmSha256']) {
      await page.evaluate((h) => window.bench.hash(h, 8), hasher);
      const runs = [];
      for (let i = 0; i < (QUICK ? 2 : 7); i++) runs.push(await page.evaluate((h) => window.bench.hash(h, 64), hasher));
      if (new Set(runs.map((r) => r.value)).size !== 1) throw new Error(`${hasher} gave different digests of the same bytes`);
      hashes[hasher] = { mibps: 64 / (median(runs.map((r) => r.ms)) / 1000), value: runs[0].value };
    }
    if (hashes.oursCrc64.value !== hashes.hashWasmCrc64.value || hashes.oursCrc64.value !== hashes.jsCrc64.value) {
      throw new Error('the CRC-64 hashers disagree');
    }
    if (hashes.oursSha256.value !== hashes.hashWasmSha256.value) throw new Error('the SHA-256 hashers disagree');
    const hashRow = (ours, peer, name, what) => row('hashing', `${what} of 64 MiB in the page (streamed from a Blob)`, `${hashes[ours].mibps.toFixed(0)} MiB/s`, name, `${hashes[peer].mibps.toFixed(0)} MiB/s`, ratio(hashes[ours].mibps, hashes[peer].mibps), '');
    hashRow('oursCrc64', 'hashWasmCrc64', 'hash-wasm 4.13 (wasm)', 'CRC-64/XZ');
    hashRow('oursCrc64', 'jsCrc64', 'js-crc 0.3 (pure JS)', 'CRC-64/XZ');
    hashRow('oursSha256', 'hashWasmSha256', 'hash-wasm 4.13 (wasm)', 'SHA-256');
  }

  if (want('images')) {
    // 2c. Photos made smaller before upload: ours (a worker) beside compressorjs (the main
    // thread), the same settings and photos, alternating, median of 5 passes after a warm-up.
    log('images: camera-sized photos, ours vs compressorjs');
    const imagePage = await browser.newPage();
    await imagePage.goto(`http://127.0.0.1:${port}/images.html`);
    await imagePage.waitForFunction(() => window.imageBenchReady);
    const shapes = [[4032, 3024], [4000, 3000], [3264, 2448], [1920, 1080]];
    const photoBytes = await imagePage.evaluate((s) => window.imageBench.setup(s), shapes);
    const passes = { ours: [], compressorjs: [] };
    for (const variant of Object.keys(passes)) await imagePage.evaluate((v) => window.imageBench.run(v), variant);
    for (let run = 0; run < (QUICK ? 1 : 5); run++) {
      for (const variant of shuffled(Object.keys(passes))) passes[variant].push(await imagePage.evaluate((v) => window.imageBench.run(v), variant));
    }
    await imagePage.close();
    const total = (variant, key) => median(passes[variant].map((pass) => pass.reduce((sum, photo) => sum + photo[key], 0)));
    const longestTask = (variant) => median(passes[variant].map((pass) => Math.max(...pass.map((photo) => photo.longest))));
    const inBytes = photoBytes.reduce((a, b) => a + b, 0);
    const set = `4 camera-like JPEGs (12, 12, 8, 2 MP; ${(inBytes / 1e6).toFixed(1)} MB), fit 1920 × 1920, quality 0.8`;
    row('image', `${set}: time for all four`, `${total('ours', 'ms').toFixed(0)} ms`, 'compressorjs 1.3', `${total('compressorjs', 'ms').toFixed(0)} ms`, ratio(total('ours', 'ms'), total('compressorjs', 'ms')), '');
    const saved = (variant) => `${(total(variant, 'bytes') / 1e6).toFixed(2)} MB (${(100 * (1 - total(variant, 'bytes') / inBytes)).toFixed(0)} % saved)`;
    row('image', `${set}: bytes after`, saved('ours'), 'compressorjs 1.3', saved('compressorjs'), ratio(total('ours', 'bytes'), total('compressorjs', 'bytes')), '');
    row('image', `${set}: longest main-thread task`, `${longestTask('ours').toFixed(0)} ms`, 'compressorjs 1.3', `${longestTask('compressorjs').toFixed(0)} ms`, '', '');
  }

  if (want('memory')) {
    // 3. Memory: a 1 GiB upload.
    log('memory: 1 GiB uploads');
    const memory = {};
    await page.setInputFiles('#disk', diskFile(1024));
    for (const variant of ['ours', 'handFetch']) {
      memory[variant] = await page.evaluate((v) => window.bench.memory(v), variant);
    }
    const grew = (m, k) => m.after[k] - m.before[k];
    const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
    row('memory', 'wasm memory growth over a 1 GiB upload', mb(grew(memory.ours, 'wasm')), '', '', '', grew(memory.ours, 'wasm') < 1024 * 1024 ? 'yes (< 1 MB)' : 'no (< 1 MB)');
    row('memory', 'JS heap growth over a 1 GiB upload (after GC)', mb(grew(memory.ours, 'heap')), 'hand-written fetch + FormData', mb(grew(memory.handFetch, 'heap')), '', '');
    row('memory', 'wasm memory, total after', mb(memory.ours.after.wasm), '', '', '', '');
  }

  if (want('startup')) {
    // 4. Start-up: import() to a usable client, fresh page each time (HTTP cache warm).
    log('start-up');
    const startup = {};
    for (const lib of ['wx-cloud-storage', 'cos-js-sdk-v5', 'axios']) {
      const samples = [];
      for (let i = 0; i < (QUICK ? 3 : 11); i++) {
        const tab = await browser.newPage();
        await tab.goto(`http://127.0.0.1:${port}/startup.html?lib=${lib}`);
        samples.push(await tab.waitForFunction(() => window.startupMs).then((h) => h.jsonValue()));
        await tab.close();
      }
      startup[lib] = median(samples.slice(1));
    }
    for (const peer of ['cos-js-sdk-v5', 'axios']) {
      row('start-up', 'import() → usable client, median', `${startup['wx-cloud-storage'].toFixed(1)} ms`, peer, `${startup[peer].toFixed(1)} ms`, ratio(startup['wx-cloud-storage'], startup[peer]), '');
    }
  }

  if (want('scaling')) {
    // 6. Scaling: 1, 10, 100 files of 1 MiB at concurrency 1, 3, 6.
    log('scaling');
    // A warm-up first: the emulator is still writing the 1 GiB uploads back to disk.
    for (const variant of ['ours', 'handFetch']) await upload(variant, 10, 1, 3, 'scaling-warm');
    for (const n of [1, 10, 100]) {
      for (const concurrency of [1, 3, 6]) {
        const times = { ours: [], handFetch: [] };
        for (let run = 0; run < (QUICK ? 1 : 5); run++) {
          // Who goes first alternates: the one after the other meets its fsyncs still running.
          const order = run % 2 ? ['handFetch', 'ours'] : ['ours', 'handFetch'];
          for (const variant of order) times[variant].push(await upload(variant, n, 1, concurrency, `s${n}-${concurrency}`));
        }
        const [o, h] = [median(times.ours), median(times.handFetch)];
        row('scaling', `${n} × 1 MiB, concurrency ${concurrency}`, `${o.toFixed(0)} ms`, 'hand-written fetch + FormData', `${h.toFixed(0)} ms`, ratio(o, h), '');
      }
    }
  }
  if (want('cpu')) {
    // 2d. The client's CPU per upload (the kernel's counters of every Chromium process):
    // unlike wall-clock throughput it does not move with the machine's load, so it guards
    // rewrites of the upload path. Ours and the hand-written upload of the same files, in
    // the same run, interleaved.
    const count = 50;
    log(`cpu: ${count} × 1 MiB per run, ours and hand-written, interleaved`);
    const samples = await cpuPerUpload({
      variants: ['ours', 'handFetch', 'oursProgress', 'handXhrProgress'], runs: QUICK ? 3 : Number(process.env.WXCS_BENCH_CPU_RUNS || 60), count, shuffled,
      upload: (variant) => upload(variant, count, 1, 3, 'cpu'),
    });
    const pair = (ours, peer, how, peerName) => {
      for (const [type, what] of [['renderer', 'the page\'s renderer and its workers'], ['all', 'all Chromium processes']]) {
        const [o, p] = [ours, peer].map((variant) => samples[variant].map((sample) => sample[type]));
        const [mo, mp] = [medianOf(o), medianOf(p)];
        const [low, high] = ratioInterval(o, p, random);
        row('cpu', `CPU per upload (${what}), uploadMany ${count} × 1 MiB, ${how}`, `${mo.toFixed(2)} ms`, peerName, `${mp.toFixed(2)} ms`, `${(mo / mp).toFixed(3)}× (95 %: ${low.toFixed(2)}–${high.toFixed(2)})`, mo / mp <= 1.05 ? 'yes (≤ 1.05×)' : 'no (≤ 1.05×)');
      }
    };
    pair('ours', 'handFetch', 'default (fetch)', 'hand-written fetch + FormData');
    pair('oursProgress', 'handXhrProgress', 'with onProgress (XHR)', 'hand-written XHR + FormData with a progress listener');
  }

  if (want('resumable')) {
    // 2e. Large files by parts: 300 MiB with a connection dropped half way.
    await resumableBench({ browser, pageOrigin: `http://127.0.0.1:${port}`, diskFile, row, log, median, shuffled, QUICK, WXCS, start, waitFor, freePort, work });
  }

  await browser.close();

  if (want('backend')) {
    // 5. Backend: upload-credential requests against wxcs serve and a Node peer, same emulator.
    log('backend load (wrk)');
    const backendEnv = {
      WXCS_BIND: '127.0.0.1', PORT: `${servePort}`, WX_API_BASE: `http://127.0.0.1:${wxPort}`, WX_ENV: 'dev-emulator',
      WX_APPID: 'wx0000000000emulator', WX_SECRET: 'emulator-app-secret', WXCS_USERS: 'bench-token=bench',
      WXCS_RATE_PER_MINUTE: '4000000000', WXCS_LOG: 'warn', WXCS_DATA_DIR: join(work, 'state-load'),
      WXCS_MAX_CONNECTIONS_PER_ADDRESS: '1024', // wrk is one address: as behind a proxy
    };
    start(WXCS, ['serve'], backendEnv);
    start(process.execPath, [join(HERE, 'node-backend.mjs'), `${nodePort}`, `http://127.0.0.1:${wxPort}`]);
    await waitFor(`http://127.0.0.1:${servePort}/healthz`);
    const wrk = (url, connections) => wrkFigures(HERE, url, connections, QUICK ? 2 : 5);
    const before = await emulatorStats(wxPort);
    const serveUrl = `http://127.0.0.1:${servePort}/api/storage/upload-credentials`;
    const nodeUrl = `http://127.0.0.1:${nodePort}/api/storage/upload-credentials`;
    const results = {};
    for (const connections of [1, 16, 64, 256]) {
      results[connections] = { ours: wrk(serveUrl, connections), node: wrk(nodeUrl, connections) };
    }
    const after = await emulatorStats(wxPort);
    for (const [connections, { ours: o, node }] of Object.entries(results)) {
      const meets = o.rps >= 5000 && o.p99 < 20 ? 'yes' : 'no';
      row('backend', `upload-credentials req/s, concurrency ${connections}`, o.rps.toFixed(0), 'Node http + fetch', node.rps.toFixed(0), ratio(o.rps, node.rps), `${meets} (≥ 5,000/s, p99 < 20 ms)`);
      row('backend', `p50 / p99 latency, concurrency ${connections}`, `${o.p50.toFixed(2)} / ${o.p99.toFixed(2)} ms`, 'Node http + fetch', `${node.p50.toFixed(2)} / ${node.p99.toFixed(2)} ms`, ratio(o.p99, node.p99), '');
      if (o.errors || node.errors) row('backend', `non-2xx answers, concurrency ${connections}`, `${o.errors}`, 'Node http + fetch', `${node.errors}`, '', '');
    }
    // Both backends share the emulator; wxcs serve started cold, the Node peer too: 2 in all
    // is one each. The same count appears whatever the concurrency.
    const fetches = after.stable_token_calls - before.stable_token_calls + after.token_calls - before.token_calls;
    row('backend', 'token fetches during the whole load run (both backends)', `${fetches}`, '', '', '', fetches <= 2 ? 'yes (one per backend per token lifetime)' : 'no');
  }

  if (want('state')) {
    await stateBench({ HERE, QUICK, row, log, median, WXCS, baselineBin: process.env.WXCS_BASELINE_BIN, wxPort, work, start, waitFor, freePort });
  }

  const chrome = execFileSync(CHROME, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(' built')[0].trim();
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${chrome}, Node ${process.versions.node}`;
  const table = [
    '| area | measure | wx-cloud-storage | peer | peer figure | ratio (ours / peer) | budget met |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
  const doc = `# Benchmarks

Generated by \`./scripts/bench.sh\` on ${new Date().toISOString().slice(0, 10)} (${machine}).
Every peer figure was measured in the same run, on the same machine, against the same emulator.
${QUICK ? '\n**Quick mode (WXCS_BENCH_QUICK=1): fewer runs; do not quote these figures.**\n' : ''}
${table}

How each row is measured:

- **payload**: each library bundled by esbuild (minified, ESM, browser) from npm; ours is the
  bundled glue plus the \`.wasm\` it loads (init + StorageClient + validateKey); the package
  ships its browser entry minified (one ES module and a source map), so a page that loads the
  files as they are, with no bundler, gets about the same bytes. gzip -9 and
  brotli 11, by Node's zlib. The package is built by each Rust toolchain the machine has
  (rustup's 1.96.0, Debian's rustc-web 1.96.0), with the same recipe (\`scripts/build.sh\`).
- **mini program**: our \`miniprogram/\` build and cos-wx-sdk-v5 from npm, each bundled by
  esbuild (CommonJS, minified); the code package holds our wasm as \`.wasm.br\`.
- **throughput**: headless Chromium uploads to the emulator on loopback from one page, median
  of ${QUICK ? 'few' : '30 (50 files) / 15 (256 MiB)'} runs after a warm-up, variants interleaved (each round in a new
  order, from a fixed seed); the budgeted rows give the ratio's 95 % interval (resampling
  each variant's runs). The hand-written uploads fetch a
  link from the same backend and post the same form with the same concurrency: by fetch, by XHR
  without listeners, and by XHR with an upload progress listener (which, like our \`onProgress\`
  path, costs a CORS preflight per upload); axios posts the same FormData. Ours by default is
  compared with the hand-written fetch, ours with \`onProgress\` with the listening XHR. Each
  file's bytes are hashed and written by the emulator (its store on ${store.where}${store.where === 'tmpfs' ? ', so disk latency does not drown the clients\' differences' : ''}; keys overwritten run to run), which bounds all alike.
  With \`wx-cloud-storage/integrity\` each file is also read a second time and hashed (CRC-64) in a
  worker while it uploads: on loopback, where the browser, the emulator (which computes MD5
  and CRC-64 of every body) and the backend share two cores, that CPU comes out of the upload; the
  2 MiB/s-uplink row lets the network bound the upload instead, as a phone's does. The
  "floor" row reads each file once more the same way (\`blob.stream()\` in a worker, starting
  with its upload) without hashing it: what any check made in the page must pay here, before
  the hash.
- **cpu**: CPU time (user + system) of every Chromium process (browser, renderer and its
  workers, network service), read from the kernel's counters (\`/proc/<pid>/stat\`) before and
  after each run of 50 × 1 MiB uploads at concurrency 3, divided by 50; ours and the
  hand-written uploads of the same files in the same run, interleaved, median of
  ${QUICK ? 3 : 60} runs with the ratio's 95 % interval. The emulator and the backend are other
  processes and are not counted. Unlike wall-clock throughput, this does not move with the
  machine's load, so it guards rewrites of the upload path.
- **hashing**: a 64 MiB Blob made in the page, each hasher reading it through \`blob.stream()\`
  (the read is part of the figure), median of 7 after a warm-up; every hasher's digest is
  checked against the others. Ours hashes in its worker (the default); the others on the main thread.
- **integrity payload**: \`integrity.js\` and \`wx_cloud_storage_integrity.wasm\` as published,
  each compressed on its own: what a page that imports the subpath downloads on top of the base.
- **adapter payload** (\`wx-cloud-storage/element-plus\`, \`wx-cloud-storage/antd\`): the base
  entry bundled with and without the adapter's import (esbuild, minified, gzip -9 / brotli):
  the difference is what a page that already has the base gains by importing it; as
  published is the file compressed on its own, for a page without a bundler.
- **image**: camera-like photos made in the page by the test suite's generator
  (\`tests/browser/page/photos.js\`: gradients and shapes under per-pixel grain, encoded by the
  browser at a phone's JPEG quality, 0.92, so each is as large as a real photo of its size;
  there are no real photos on this offline machine). Each compressor fits them in
  1920 × 1920 at quality 0.8, keeping JPEG: ours through \`images().prepare\` (decoded and
  encoded in its worker), compressorjs with the same options on the main thread. Median of
  ${QUICK ? 1 : 5} passes over all four after a warm-up, the two alternating; time is per pass,
  bytes are what each would upload; the longest main-thread task (PerformanceObserver
  \`longtask\`) is what the page's user feels as a freeze.
- **memory**: \`WebAssembly.Memory\` size and \`performance.memory.usedJSHeapSize\` after a
  forced GC, before and after one 1 GiB upload.
- **start-up**: a fresh page per sample, \`import()\` of the bundle to a constructed client
  (ours includes fetching and compiling the wasm), median of 10 after one warm-up.
- **backend**: \`wrk\` with ${QUICK ? '2' : '5'} s per concurrency level against \`wxcs serve\` (release) and a
  Node peer (\`bench/node-backend.mjs\`) in front of the same emulator, which issues a real link per
  request. Load generator, both backends and the emulator share this machine's cores.
- **state**: \`wrk\` at concurrency 16, ${QUICK ? 2 : 5} s a run, ${QUICK ? 1 : 5} rounds interleaved, against \`wxcs serve\`
  (release) with its record on SQLite (WAL, a temp dir), on a private MariaDB (started by the
  bench, 256 MB buffer pool) and, as the baseline, the binary at c4af3e2, before the store,
  whose checks and counters lived in memory (\`scripts/bench.sh\` builds it from a git
  worktree); all three run at once in front of the same emulator. Every request is a
  credential request that records its link. Then 100,000 stored products and 100 of the
  bench user's own files are written into each engine's record directly (SQL), and
  \`POST /list\` is timed at concurrency 1, 100 a page.
- **scaling**: median of ${QUICK ? 1 : 5} runs per cell, who goes first alternating; ours is \`uploadMany\` with that concurrency.
`;
  const written = ONLY ? join(ROOT, 'target', 'bench-only.md') : join(ROOT, 'BENCHMARKS.md');
  writeFileSync(written, ONLY ? `${table}\n` : doc);
  console.log(table);
  log(`written to ${written}`);
} finally {
  for (const child of children) child.kill();
  rmSync(work, { recursive: true, force: true });
  rmSync(store.dir, { recursive: true, force: true });
}
