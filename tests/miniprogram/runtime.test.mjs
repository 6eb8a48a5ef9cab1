// The package in a mini program, as a developer gets it: `npm pack` of pkg/, installed into a
// copy of miniprogram-example/, 构建 npm run by miniprogram-ci (the developer tools' own
// packer, offline), then loaded and used in the Node harness (harness.mjs), which exposes
// only the mini program runtime's globals, against the real emulator and backends over
// HTTP. What the harness cannot prove (real phones) is listed in the README.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createRuntime, readPng, writePng } from './harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through scripts/test.sh`);
  return value;
};
const BASE = env('WXCS_TEST_BASE');
const STRICT = env('WXCS_TEST_STRICT');
const EMULATOR = env('WXCS_TEST_EMULATOR');
const OPENID_BACKEND = env('WXCS_TEST_OPENID');
const PARTS = env('WXCS_TEST_PARTS');
const PARTS_EMULATOR = env('WXCS_TEST_PARTS_EMULATOR');
const OPENID = 'oTest-openid_0123456789abcd';

const work = mkdtempSync(join(tmpdir(), 'wxcs-mp-'));
const project = join(work, 'project');
let runtime;
let lib;

const npm = (cwd, ...args) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, encoding: 'utf8' });

async function emulator(path, body) {
  const response = await fetch(`${EMULATOR}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}
const faults = (body) => emulator('/__emulator/faults', body);
const stats = () => emulator('/__emulator/stats');
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Waits until requests a test left stalled (1.2 s of latency) have reached the emulator's
 * answer, so none of them takes a fault the next test sets: at least 1.5 s, then until two
 * snapshots of the counters 300 ms apart agree (at most 10 s; a slow machine needs more).
 */
async function quiet() {
  await pause(1500);
  for (let last = JSON.stringify(await stats()), i = 0; i < 28; i++) {
    await pause(300);
    const now = JSON.stringify(await stats());
    if (now === last) return;
    last = now;
  }
}

/** A config.js for the example that reaches this test run's `wxcs dev`. */
const exampleConfig = readFileSync(join(ROOT, 'miniprogram-example', 'config.js'), 'utf8').replace("'http://127.0.0.1:8787'", JSON.stringify(BASE));

before(async () => {
  const [packed] = JSON.parse(npm(join(ROOT, 'pkg'), 'pack', '--json', '--pack-destination', work));
  cpSync(join(ROOT, 'miniprogram-example'), project, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('miniprogram_npm') });
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  manifest.dependencies['wx-cloud-storage'] = `file:${join(work, packed.filename)}`;
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest));
  writeFileSync(join(project, 'config.js'), exampleConfig);
  npm(project, 'install');
  // 构建 npm, the way the developer tools do it (any appid and key will do offline).
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  writeFileSync(join(work, 'key.pem'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
  const ci = createRequire(import.meta.url)('miniprogram-ci');
  const ciProject = new ci.Project({ appid: 'touristappid', type: 'miniProgram', projectPath: project, privateKeyPath: join(work, 'key.pem'), ignores: ['node_modules/**/*'] });
  const warnings = await ci.packNpm(ciProject, { reporter: () => {} });
  assert.deepEqual(warnings, [], 'packNpm reports no warning');
  runtime = createRuntime({
    root: project, tmp: join(work, 'tmp'),
    container: { url: OPENID_BACKEND, openid: OPENID, appid: 'wx0000000000emulator', env: 'dev-emulator' },
  });
  lib = runtime.require('wx-cloud-storage');
  await lib.default();
});

after(async () => {
  await faults({}).catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

const client = (extra = {}, calls = { n: 0 }) => new lib.StorageClient({
  endpoint: `${BASE}/api/storage`,
  headers: () => {
    calls.n++;
    return { Authorization: 'Bearer demo-token' };
  },
  ...extra,
});

/** `size` bytes of a fixed pattern. */
const pattern = (size) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 251));

/** What a test needs to know of an error. */
// (The error comes from the harness's realm: `instanceof Error` there, not here.)
const described = (e) => ({
  name: e.name, code: e.code, message: e.message, status: e.status, cosCode: e.cosCode,
  isError: Object.prototype.toString.call(e) === '[object Error]',
});
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return described(e);
  }
  throw new Error('expected a rejection');
}

test('构建 npm copies the mini program build verbatim: CommonJS and the brotli wasm', () => {
  const built = join(project, 'miniprogram_npm', 'wx-cloud-storage');
  assert.deepEqual(readdirSync(built).sort(), ['image.d.ts', 'image.js', 'index.d.ts', 'index.js', 'integrity.d.ts', 'integrity.js', 'package.json',
    'resumable.d.ts', 'resumable.js', 'wx_cloud_storage_bg.wasm.br', 'wx_cloud_storage_integrity.wasm.br']);
  for (const file of readdirSync(built)) {
    assert.ok(readFileSync(join(built, file)).equals(readFileSync(join(ROOT, 'pkg', 'miniprogram', file))), `${file} is the package's`);
  }
  assert.equal(lib.DEFAULT_WASM_PATH, '/miniprogram_npm/wx-cloud-storage/wx_cloud_storage_bg.wasm.br');
});

test('the wasm loads with WXWebAssembly whichever shape instantiate resolves to, with no browser global', async () => {
  for (const shape of ['instance', 'pair']) {
    const other = createRuntime({ root: project, tmp: join(work, `tmp-${shape}`), instantiateResult: shape });
    const fresh = other.require('wx-cloud-storage');
    assert.throws(() => new fresh.StorageClient(), (e) => e.code === 'INVALID_ARGUMENT' && /init\(\)/.test(e.message), 'before init');
    await fresh.default();
    assert.throws(() => fresh.validateKey('a/${filename}'), (e) => e.code === 'INVALID_KEY' && e.rule === 'DOLLAR');
    fresh.validateKey('users/42/头像.png');
    for (const name of ['fetch', 'XMLHttpRequest', 'FormData', 'Blob', 'TextEncoder', 'TextDecoder', 'WebAssembly', 'window', 'document', 'location', 'AbortController', 'URL']) {
      assert.equal(typeof other.context[name], 'undefined', `${name} is absent from the runtime`);
    }
  }
  // A wasm path that is not in the code package fails with what to do.
  const again = createRuntime({ root: project, tmp: join(work, 'tmp-badpath') }).require('wx-cloud-storage');
  await assert.rejects(again.default('/miniprogram_npm/elsewhere/x.wasm.br'), /no such file in the code package/);
});

test('upload reports monotonic progress, ends at the size then waits, and downloads to an equal temp file', async () => {
  const data = pattern(2 * 1024 * 1024);
  const file = { tempFilePath: runtime.temp(data, '.jpg'), size: data.length };
  const events = [];
  const storage = client();
  const result = await storage.upload(file, 'mp/photo.jpg', { onProgress: (e) => events.push(e) });
  assert.equal(result.key, 'users/demo/mp/photo.jpg');
  assert.equal(result.size, data.length);
  assert.ok(events.length >= 2);
  assert.ok(events.every((e, i) => i === 0 || events[i - 1].loaded <= e.loaded), 'monotonic');
  assert.deepEqual([events.at(-1).loaded, events.at(-1).phase], [data.length, 'waiting']);
  const downloadEvents = [];
  const path = await storage.download(result.fileId, { onProgress: (e) => downloadEvents.push(e.loaded) });
  assert.match(path, /^wxfile:\/\//, 'a local temp file path');
  assert.ok(runtime.read(path).equals(data), 'byte for byte');
  assert.equal(downloadEvents.at(-1), data.length);
  // A path string works as well as a chooseMedia file, and its type comes from its name.
  const byPath = await storage.upload(runtime.temp(pattern(10), '.png'), 'mp/by-path.png');
  assert.equal(byPath.size, 10);
  const [link] = await storage.getTempFileUrls([byPath.fileId]);
  assert.equal((await fetch(link.url)).headers.get('content-type'), 'image/png');
});

test('an upload is cancelled mid-body by the AbortController, and nothing is stored', async () => {
  const before = (await stats()).uploads;
  const controller = new lib.AbortController();
  const file = runtime.temp(pattern(8 * 1024 * 1024), '.bin');
  const error = await rejection(client().upload(file, 'mp/cancelled.bin', { signal: controller.signal, onProgress: () => controller.abort() }));
  assert.deepEqual([error.name, error.code, error.isError], ['AbortError', 'ABORTED', true]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal((await stats()).uploads, before, 'no object stored');
});

test('uploadMany reports each file, queues past the platform\'s 10 tasks, and one bad key hides nothing', async () => {
  const items = Array.from({ length: 20 }, (_, i) => ({ file: runtime.temp(pattern(1000 + i), '.bin'), path: i === 7 ? 'mp/$bad.bin' : `mp/batch/${i}.bin` }));
  runtime.stats.maxTasks = 0;
  runtime.stats.uploads.length = 0;
  const results = await client({ concurrency: 16 }).uploadMany(items);
  results.forEach((r, i) => {
    if (i === 7) assert.deepEqual([r.ok, r.error.code], [false, 'INVALID_KEY']);
    else assert.deepEqual([r.ok, r.size, r.path], [true, 1000 + i, `mp/batch/${i}.bin`]);
  });
  assert.ok(runtime.stats.maxTasks <= 10, `at most 10 wx tasks at once (saw ${runtime.stats.maxTasks})`);
  assert.equal(runtime.stats.refusedForCount, 0, 'none refused for the count');
  assert.equal(runtime.stats.uploads.length, 19);
  assert.ok(runtime.stats.uploads.every((u) => u.name === 'file' && u.fields.join() === 'key,Signature,x-cos-security-token,x-cos-meta-fileid'),
    'every form: the fields in COS\'s order (no Content-Type: a .bin has no known type), the file part (written last) named file');
});

test('temporary URLs and delete report each file', async () => {
  const storage = client();
  const { fileId } = await storage.upload(runtime.temp(pattern(3), '.txt'), 'mp/delete-me.txt');
  const [link, missing] = await storage.getTempFileUrls([fileId, fileId.replace('delete-me', 'nope')]);
  assert.equal(link.ok, true);
  assert.ok((await fetch(link.url)).ok);
  assert.equal(missing.error.code, 'NOT_FOUND');
  const [first] = await storage.delete([fileId]);
  const [again] = await storage.delete([fileId]);
  assert.deepEqual([first.ok, again.ok, again.error.code], [true, false, 'NOT_FOUND']);
  assert.equal((await rejection(storage.download(fileId))).code, 'NOT_FOUND');
});

test('list and listAll page through the stored files, as in browsers; through callContainer too', async () => {
  // (Arrays made in the harness's realm are copied out before comparing.)
  const storage = client();
  const folder = `mp/list-${Date.now()}/`;
  for (const name of ['b.txt', 'a.txt', 'c.txt']) await storage.upload(runtime.temp(pattern(5), '.txt'), folder + name);
  const prefix = `users/demo/${folder}`;
  const first = await storage.list({ prefix, limit: 2 });
  assert.deepEqual(Array.from(first.files, (f) => f.name), ['a.txt', 'b.txt']);
  const second = await storage.list({ prefix, limit: 2, cursor: first.cursor });
  assert.deepEqual([Array.from(second.files, (f) => f.name), second.cursor], [['c.txt'], null]);
  const all = [];
  for await (const file of storage.listAll({ prefix, order: 'newest', limit: 1 })) all.push(file);
  assert.deepEqual(Array.from(all, (f) => f.name).sort(), ['a.txt', 'b.txt', 'c.txt']);
  assert.deepEqual(Array.from(Object.keys(all[0])).sort(), ['contentType', 'crc64', 'fileId', 'key', 'name', 'size', 'time']);
  assert.equal((await rejection(storage.list({ limit: 0 }))).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(storage.list({ prefix: 'users/someone-else/' }))).code, 'FORBIDDEN');
  const gateway = new lib.StorageClient({ endpoint: '/api/storage', container: { env: 'dev-emulator', service: 'wxcs' } });
  await gateway.upload(runtime.temp(pattern(4), '.png'), 'listed.png');
  const mine = await gateway.list();
  assert.ok(mine.files.some((f) => f.key === `users/${OPENID}/listed.png`), 'the openid\'s own folder by default');
});

test('through wx.cloud.callContainer, the backend keys the folder by the gateway\'s openid', async () => {
  const storage = new lib.StorageClient({ endpoint: '/api/storage', container: { env: 'dev-emulator', service: 'wxcs' }, headers: { 'X-WX-OPENID': 'oSomeoneElse' } });
  const result = await storage.upload(runtime.temp(pattern(100), '.png'), 'avatar.png');
  assert.equal(result.key, `users/${OPENID}/avatar.png`, 'the gateway\'s openid, not the header the page tried');
  const [link] = await storage.getTempFileUrls([result.fileId]);
  assert.equal(link.ok, true);
  // Without the gateway (a direct call), the same backend knows nobody.
  const direct = await fetch(`${OPENID_BACKEND}/api/storage/upload-credentials`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"a.png"}' });
  assert.equal(direct.status, 401);
  const wrongEnv = new lib.StorageClient({ endpoint: '/api/storage', container: { env: 'other', service: 'wxcs' }, retries: 0 });
  assert.equal((await rejection(wrongEnv.upload(runtime.temp(pattern(1), '.png'), 'b.png'))).code, 'NETWORK');
});

test('a stalled COS answer times out by the stall timer, with a fresh link per attempt', async () => {
  const response = await fetch(`${BASE}/api/storage/upload-credentials`, {
    method: 'POST', headers: { Authorization: 'Bearer demo-token', 'content-type': 'application/json' }, body: '{"path":"mp/stalled.bin"}',
  });
  const link = await response.json();
  let links = 0;
  const storage = client({ timeoutMs: 300, retries: 1, getUploadCredentials: () => { links++; return link; } });
  await faults({ latency_ms: 1200 });
  const error = await rejection(storage.upload(runtime.temp(pattern(4), '.bin'), 'users/demo/mp/stalled.bin'));
  await faults({});
  await quiet();
  assert.equal(error.code, 'TIMEOUT');
  assert.match(error.message, /no byte moved/);
  assert.equal(links, 2);
});

test('every error code that applies, as in browsers', async () => {
  const storage = client({ retries: 1 });
  const file = () => runtime.temp(pattern(16), '.bin');
  const calls = { n: 0 };
  const counted = client({}, calls);
  assert.equal((await rejection(counted.upload(file(), 'a//b.bin'))).code, 'INVALID_KEY');
  assert.equal(calls.n, 0, 'before any request');
  assert.equal((await rejection(storage.upload(42, 'a.bin'))).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(storage.upload('wxfile://tmp_missing.bin', 'a.bin'))).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(storage.upload(file(), 'a.bin', { signal: {} }))).code, 'INVALID_ARGUMENT');
  const anonymous = new lib.StorageClient({ endpoint: `${BASE}/api/storage` });
  assert.deepEqual(await rejection(anonymous.upload(file(), 'a.bin')).then((e) => [e.code, e.status]), ['UNAUTHORIZED', 401]);
  assert.equal((await rejection(storage.upload(file(), 'users/someone/a.bin'))).code, 'FORBIDDEN');
  await faults({ fail_next: 5 });
  const server = await rejection(storage.upload(file(), 'mp/fail.bin'));
  await faults({});
  assert.deepEqual([server.code, server.status, server.cosCode], ['SERVER', 503, 'ServiceUnavailable']);
  await faults({ expire_next: 2 });
  const expired = await rejection(storage.upload(file(), 'mp/late.bin'));
  await faults({});
  assert.deepEqual([expired.code, expired.cosCode], ['CREDENTIALS_EXPIRED', 'ExpiredToken']);
  const controller = new lib.AbortController();
  controller.abort();
  assert.equal((await rejection(storage.upload(file(), 'mp/a.bin', { signal: controller.signal }))).name, 'AbortError');
  const strict = new lib.StorageClient({ endpoint: `${STRICT}/api/storage`, headers: { Authorization: 'Bearer mp-token' }, retries: 0 });
  assert.deepEqual(await rejection(strict.upload(runtime.temp(pattern(2048), '.bin'), 'big.bin')).then((e) => [e.code, e.status]), ['TOO_LARGE', 413]);
  // A COS host outside the 合法域名 lists: NETWORK, saying where to add it.
  const cosHost = new URL((await (await fetch(`${BASE}/api/storage/upload-credentials`, {
    method: 'POST', headers: { Authorization: 'Bearer demo-token', 'content-type': 'application/json' }, body: '{"path":"x"}',
  })).json()).url).host;
  const listed = createRuntime({ root: project, tmp: join(work, 'tmp-domains'), domains: [new URL(BASE).host] });
  const listedLib = listed.require('wx-cloud-storage');
  await listedLib.default();
  const network = await rejection(new listedLib.StorageClient({ endpoint: `${BASE}/api/storage`, headers: { Authorization: 'Bearer demo-token' }, retries: 0 })
    .upload(listed.temp(pattern(4), '.bin'), 'mp/listed.bin'));
  assert.equal(network.code, 'NETWORK');
  assert.ok(network.message.includes(cosHost) && network.message.includes('合法域名'), network.message);
});

test('the example mini program: choose, upload with progress, gray round trip, save, delete; and cancel', async () => {
  const photo = readFileSync(join(ROOT, 'tests', 'miniprogram', 'photo.png'));
  const example = createRuntime({ root: project, tmp: join(work, 'tmp-example'), choose: () => [{ tempFilePath: example.temp(photo, '.png'), size: photo.length, fileType: 'image' }] });
  const options = example.page('pages/index/index.js');
  const page = Object.assign(Object.create(options), {
    data: JSON.parse(JSON.stringify(options.data)),
    setData(patch) { Object.assign(this.data, patch); },
  });
  const until = async (phase) => {
    for (let i = 0; i < 200 && page.data.phase !== phase; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(page.data.phase, phase, page.data.error);
  };
  page.choose();
  await until('done');
  assert.equal(page.data.progress, 100);
  // Compressed first (the switch is on by default): the sizes line says what went up.
  assert.equal(page.data.compress, true);
  assert.equal(page.data.original.image.original.size, photo.length);
  assert.match(page.data.sizes, page.data.original.image.changed ? /^压缩：.+ \(64 × 48\) → / : /^未压缩：.+ \(64 × 48\)（压缩后不会更小）$/);
  assert.ok(example.stats.images.some((call) => call.api === 'compressImage'), 'through wx.compressImage');
  assert.match(page.data.original.fileId, /^cloud:\/\//);
  assert.match(page.data.result.fileId, /gray\/photo-\d+\.png$/);
  const gray = Buffer.from(await (await fetch(page.data.result.url)).arrayBuffer());
  assert.equal(gray.subarray(1, 4).toString(), 'PNG', 'the result is a PNG, shown by its temporary URL');
  await page.save();
  await until('saved');
  const ids = [page.data.original.fileId, page.data.result.fileId];
  await page.remove();
  assert.equal(page.data.phase, 'deleted', page.data.error);
  const [first] = await client().getTempFileUrls([ids[0]]);
  assert.equal(first.error.code, 'NOT_FOUND', 'both files are gone');
  // Cancel while the upload runs.
  await faults({ latency_ms: 1000 });
  page.choose();
  await until('uploading');
  page.cancel();
  await until('cancelled');
  await faults({});
});

// The README's mini program example, as written, in both languages: a page in a mini
// program whose backend is reached by callContainer.
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/<!-- miniprogram-example[^>]*-->\s*```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test('the README has the mini program example in both languages, at most 15 lines each', () => {
  assert.equal(examples.length, 2);
  for (const code of examples) assert.ok(code.trimEnd().split('\n').length <= 15);
});

for (const [i, example] of examples.entries()) {
  test(`README mini program example ${i + 1} uploads with progress and shows the file by temporary URL`, async () => {
    writeFileSync(join(project, `readme-${i}.js`), example);
    const photo = readFileSync(join(HERE, 'photo.png'));
    const page = createRuntime({
      root: project, tmp: join(work, `tmp-readme-${i}`),
      container: { url: OPENID_BACKEND, openid: OPENID, appid: 'wx0000000000emulator', env: 'prod-1a2b' },
      choose: () => [{ tempFilePath: page.temp(photo, '.png'), size: photo.length, fileType: 'image' }],
    });
    const options = page.page(`readme-${i}.js`);
    const instance = Object.assign(Object.create(options), { data: {}, setData(patch) { Object.assign(this.data, patch); } });
    await instance.choose();
    assert.equal(instance.data.percent, 100);
    assert.equal(instance.data.error, undefined);
    const served = await fetch(instance.data.src);
    assert.ok(Buffer.from(await served.arrayBuffer()).equals(photo), 'the photo, by its temporary URL');
  });
}

test('integrity: digests by wasm and by the platform, verdicts from onHeadersReceived, skipping what exists', async () => {
  const { integrity, DEFAULT_INTEGRITY_WASM_PATH } = runtime.require('wx-cloud-storage/integrity');
  assert.equal(DEFAULT_INTEGRITY_WASM_PATH, '/miniprogram_npm/wx-cloud-storage/wx_cloud_storage_integrity.wasm.br');
  const bytes = Buffer.concat([pattern(3 * 1024 * 1024 + 17), randomBytes(16)]); // several chunks; this run's bytes
  const path = runtime.temp(bytes, '.JPG');
  const digests = await integrity().digest(path);
  assert.equal(digests.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.equal(digests.md5, createHash('md5').update(bytes).digest('hex'), 'the platform\'s MD5');
  assert.equal(digests.md5Base64, createHash('md5').update(bytes).digest('base64'));
  assert.equal((await integrity().digest(runtime.temp(Buffer.from('123456789'), '.txt'), ['crc64'])).crc64, '11051210869376104954');

  const storage = client({ integrity: integrity() });
  // No CORS in a mini program: the header hidden from pages is read all the same.
  for (const crcHeader of ['exposed', 'hidden']) {
    await faults({ crc_header: crcHeader });
    const result = await storage.upload(path, `mp/i-${crcHeader}.jpg`, { onProgress: () => {} });
    assert.deepEqual([result.integrity, result.crc64], ['verified', digests.crc64], crcHeader);
  }
  await faults({ crc_header: 'absent' });
  const absent = await storage.upload(path, 'mp/i-absent.jpg');
  assert.deepEqual([absent.integrity, absent.integrityReason], ['unverifiable', 'header-absent']);
  await faults({ corrupt_next: 1 });
  const mismatch = await rejection(client({ integrity: integrity({ deleteOnMismatch: true }) }).upload(path, 'mp/i-corrupt.jpg'));
  await faults({});
  assert.equal(mismatch.code, 'INTEGRITY_MISMATCH');
  assert.match(mismatch.message, /The object was deleted/);

  const before = (await stats()).uploads;
  const first = await storage.upload({ tempFilePath: path, size: bytes.length }, 'mp/ca/{md5}{ext}');
  const again = await storage.upload(path, 'mp/ca/{md5}{ext}');
  const bySha = await storage.upload(path, 'mp/ca/{sha256}');
  assert.equal(first.key, `users/demo/mp/ca/${digests.md5}.jpg`);
  assert.equal(again.skipped, 'exists');
  assert.equal(again.fileId, first.fileId);
  assert.equal(bySha.key, `users/demo/mp/ca/${digests.sha256}`);
  assert.equal((await stats()).uploads - before, 2, 'the second {md5} upload was skipped');

  const md5 = await client({ integrity: integrity({ contentMd5: true }) }).upload(path, 'mp/i-md5.jpg');
  assert.equal(md5.integrity, 'verified');
});

test('image: the same options reach wx.getImageInfo and wx.compressImage, with the browsers\' result shape', async () => {
  const { images, thumbnail, imageType } = runtime.require('wx-cloud-storage/image');
  // A noisy 640 × 480 photo stand-in (noise: halving it really makes it smaller).
  const noise = randomBytes(640 * 480 * 3);
  const photo = writePng(640, 480, (x, y) => noise.subarray((y * 640 + x) * 3, (y * 640 + x) * 3 + 3));
  const path = runtime.temp(photo, '.png');
  const storage = client({ images: images({ quality: 0.6 }) });
  const seen = runtime.stats.images.length;
  const result = await storage.upload({ tempFilePath: path, size: photo.length }, 'mp/photo.png', { image: { maxWidth: 320 } });
  const calls = runtime.stats.images.slice(seen);
  assert.deepEqual({ ...calls.find((c) => c.api === 'compressImage') }, { api: 'compressImage', src: path, quality: 60, compressedWidth: 320, compressedHeight: undefined });
  assert.equal(result.image.changed, true);
  assert.deepEqual(JSON.parse(JSON.stringify({ ...result.image, size: 0 })), {
    width: 320, height: 240, size: 0, type: 'image/png', changed: true,
    original: { width: 640, height: 480, size: photo.length, type: 'image/png' },
  });
  assert.ok(result.image.size < photo.length / 2, `${result.image.size} < half of ${photo.length}`);
  assert.equal(result.size, result.image.size);
  // What was stored is what the result reported.
  const stored = runtime.read(await storage.download(result.fileId));
  assert.equal(stored.length, result.image.size);
  assert.deepEqual([readPng(stored).width, readPng(stored).height], [320, 240]);

  // Within bounds and no smaller: the photo itself goes up; not an image: untouched, no call.
  const tiny = writePng(8, 8, (x, y) => [x * 30, y * 30, 100]);
  const before = runtime.stats.images.length;
  const [small, text] = await storage.uploadMany([
    { file: runtime.temp(tiny, '.png'), path: 'mp/tiny.png', image: true },
    { file: runtime.temp(pattern(100), '.txt'), path: 'mp/notes.txt', image: { maxWidth: 10 } },
  ]);
  assert.deepEqual([small.ok, small.image.changed, small.image.reason, small.size], [true, false, 'not-smaller', tiny.length]);
  assert.equal(runtime.stats.images.slice(before).find((c) => c.api === 'compressImage').compressedWidth, undefined, 'no resize asked of the platform');
  assert.deepEqual([text.ok, text.image.changed, text.image.reason], [true, false, 'not-an-image']);
  assert.equal(runtime.stats.images.filter((c) => c.src.endsWith('.txt')).length, 0);

  const preview = await thumbnail(path, { maxWidth: 64, maxHeight: 64 });
  assert.deepEqual([preview.width, preview.height], [64, 48]);
  assert.equal(runtime.read(preview.url).length, preview.size);
  assert.equal(await imageType(path), 'image/png');
  assert.equal((await rejection(client().upload(path, 'mp/x.png', { image: true }))).code, 'INVALID_ARGUMENT');
  assert.equal((await rejection(storage.upload(path, 'mp/x.png', { image: { maxWidth: 0 } }))).code, 'INVALID_ARGUMENT');
});

test('resumable: parts read by readFile and PUT by wx.request; an app restart continues from the parts COS holds', async () => {
  const MIB = 1 << 20;
  const partsControl = async (path, body) => (await fetch(`${PARTS_EMULATOR}${path}`, body ? { method: 'POST', body: JSON.stringify(body) } : {})).json();
  // One app's storage, kept across its restart; the file stays where the first run picked it.
  const storage = new Map();
  const start = async () => {
    const app = createRuntime({ root: project, tmp: join(work, 'tmp'), storage });
    const pkg = app.require('wx-cloud-storage');
    await pkg.default();
    const { resumable } = app.require('wx-cloud-storage/resumable');
    const storageClient = (extra = {}) => new pkg.StorageClient({
      endpoint: `${PARTS}/api/storage`, headers: { Authorization: 'Bearer parts-token' }, resumable: resumable(), ...extra,
    });
    return { app, pkg, storageClient, resumable };
  };
  const first = await start();
  const bytes = randomBytes(34 * MIB);
  const path = first.app.temp(bytes, '.mp4');
  await partsControl('/__emulator/faults', { cos_bytes_per_second: 24 * MIB });
  const before = await partsControl('/__emulator/stats');
  const controller = new first.pkg.AbortController();
  let progress = 0;
  const cut = await rejection(first.storageClient({ resumable: first.resumable({ concurrency: 1 }) }).upload(path, 'mp/resumed.mp4', {
    signal: controller.signal,
    onProgress: ({ loaded, total }) => {
      progress = loaded / total;
      if (progress >= 0.5) controller.abort();
    },
  }));
  assert.equal(cut.code, 'ABORTED');
  await partsControl('/__emulator/faults', {});
  // The app is killed and started again: a new runtime, the same storage and file.
  const second = await start();
  const result = await second.storageClient().upload(path, 'mp/resumed.mp4');
  assert.equal(result.via, 'parts');
  assert.ok(result.resumedParts >= 1, `continued from ${result.resumedParts} parts`);
  const after = await partsControl('/__emulator/stats');
  assert.equal(after.parts_stored - before.parts_stored, 5, 'each of the five parts stored once');
  assert.ok(after.part_bytes_received - before.part_bytes_received < bytes.length + 8 * MIB, 'at most the part cut short went twice');
  const downloaded = await second.storageClient().download(result.fileId);
  assert.ok(second.app.read(downloaded).equals(bytes), 'the object is the file');
  assert.equal(storage.size, 0, 'nothing left to resume');
  // A backend outside 开放接口服务: the one POST, and the result says so.
  const { resumable } = second;
  const post = await new second.pkg.StorageClient({
    endpoint: `${BASE}/api/storage`, headers: { Authorization: 'Bearer demo-token' }, resumable: resumable({ threshold: MIB }),
  }).upload(second.app.temp(randomBytes(2 * MIB), '.mp4'), 'mp/posted.mp4');
  assert.equal(post.via, 'post');
  // Paused, then given up: COS drops the parts, and nothing is left to resume.
  const other = second.app.temp(randomBytes(33 * MIB), '.mp4');
  const parts = resumable({ concurrency: 1 });
  const pause = new second.pkg.AbortController();
  await partsControl('/__emulator/faults', { cos_bytes_per_second: 24 * MIB });
  const paused = await rejection(second.storageClient({ resumable: parts }).upload(other, 'mp/discarded.mp4', {
    signal: pause.signal,
    onProgress: ({ loaded, total }) => loaded / total >= 0.3 && pause.abort(),
  }));
  await partsControl('/__emulator/faults', {});
  assert.equal(paused.code, 'ABORTED');
  const open = (await partsControl('/__emulator/stats')).multipart_uploads;
  assert.equal(await parts.discard(other, 'mp/discarded.mp4'), true);
  assert.equal((await partsControl('/__emulator/stats')).multipart_uploads, open - 1, 'the upload is gone at COS');
  assert.equal(storage.size, 0, 'and from the app\'s storage');
});
