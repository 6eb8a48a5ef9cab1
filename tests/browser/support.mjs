// Shared by the browser suites: the browser, the running stack, test files.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where screenshots go (kept as test artefacts). */
export const SHOTS = join(ROOT, 'target', 'e2e-screenshots');
mkdirSync(SHOTS, { recursive: true });

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser suites through scripts/test.sh`);
  return value;
}
/** `wxcs dev`: the example pages and the backend, e.g. http://127.0.0.1:41234 */
export const BASE = required('WXCS_TEST_BASE');
/** A second backend in front of the same emulator: 1 KiB uploads, 4 requests a minute. */
export const STRICT = required('WXCS_TEST_STRICT');
/** The emulator's WeChat port, for fault injection and stats. */
export const EMULATOR = required('WXCS_TEST_EMULATOR');
/** A backend as inside Cloud Run with 开放接口服务 (multipart uploads), and its own emulator. */
export const PARTS = required('WXCS_TEST_PARTS');
export const PARTS_EMULATOR = required('WXCS_TEST_PARTS_EMULATOR');

/** The Debian Chromium, with the flags this offline, root-run machine needs. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

export async function faults(body) {
  const response = await fetch(`${EMULATOR}/__emulator/faults`, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`faults: ${response.status}`);
}

/** The emulator's counters (`__emulator/stats`): uploads, objects, `partial_files`, … */
export async function stats() {
  return (await fetch(`${EMULATOR}/__emulator/stats`)).json();
}

/** Resolves once `check()` (sync or async) is truthy, polling every 20 ms, or after `ms`. */
export async function until(check, ms = 10000) {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Where the demo user's files are in `wxcs dev` (the emulator's environment and bucket). */
export const DEMO_FILES = 'cloud://dev-emulator.6465-dev-emulator-1300000000/users/demo';

/** Asks the demo backend about file IDs: their `file_list` statuses (0 = exists). */
export async function statuses(fileIds) {
  const response = await fetch(`${BASE}/api/storage/download-urls`, {
    method: 'POST',
    headers: { Authorization: 'Bearer demo-token', 'content-type': 'application/json' },
    body: JSON.stringify({ file_ids: fileIds }),
  });
  const { file_list: list } = await response.json();
  return list.map((item) => item.status);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A colourful RGB PNG (a gradient), so a gray result is visibly different. */
export function colourPng(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (width * 3 + 1) + 1 + x * 3;
      raw[at] = (x * 255) / width;
      raw[at + 1] = (y * 255) / height;
      raw[at + 2] = 200;
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** `size` bytes of a fixed pattern. */
export function patternBytes(size) {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 251;
  return bytes;
}

/** Reads a Playwright download into a Buffer. */
export async function downloaded(download) {
  const chunks = [];
  for await (const part of await download.createReadStream()) chunks.push(part);
  return Buffer.concat(chunks);
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/**
 * A server on a free loopback port. `route(path, request, response)` may answer a request
 * itself (and return true); otherwise the file `files(path)` names is served with its
 * content type, or 404 when it names none. Resolves to `{ origin, close }`.
 */
export async function loopbackServer({ files, route }) {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (route && (await route(path, request, response))) return;
    const file = files(path);
    try {
      if (!file) throw new Error('no such file');
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/**
 * The library test page (page/library.html, whose `window.t` holds the helpers) on its own
 * loopback origin, loading the package from pkg/ against the running stack. Resolves to
 * `{ page, server }`; the page may drive the emulator's controls through the runner.
 */
export async function libraryPage(browser) {
  const here = join(ROOT, 'tests', 'browser');
  const server = await loopbackServer({
    files: (path) => {
      if (path.startsWith('/pkg/')) return join(ROOT, path);
      if (path.startsWith('/page/')) return join(here, path);
      if (path === '/keys.json') return join(ROOT, 'core', 'tests', 'data', 'keys.json');
      return null;
    },
  });
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error('pageerror:', error.message));
  const control = (base) => async (path, body) => {
    const response = await fetch(`${base}${path}`, body === null ? {} : { method: 'POST', body });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  await page.exposeFunction('emulatorControl', control(EMULATOR));
  await page.exposeFunction('partsEmulatorControl', control(PARTS_EMULATOR));
  const query = new URLSearchParams({
    backend: `${BASE}/api/storage`, strict: `${STRICT}/api/storage`, parts: `${PARTS}/api/storage`, emulator: EMULATOR,
  });
  await page.goto(`${server.origin}/page/library.html?${query}`);
  await page.waitForFunction(() => window.ready === true);
  return { page, server };
}

/**
 * For a test file: the library page opened before its tests and closed after them, with
 * the emulator's faults cleared. The returned object has `page` and `server` once ready.
 */
export function libraryPageForTests() {
  const opened = {};
  before(async () => {
    opened.browser = await launch();
    Object.assign(opened, await libraryPage(opened.browser));
  });
  after(async () => {
    await faults({}).catch(() => {});
    await opened.browser?.close();
    opened.server?.close();
  });
  return opened;
}
