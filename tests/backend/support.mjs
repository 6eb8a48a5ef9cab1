// Shared by the backend suites: `wxcs emulate` and `wxcs serve` as processes (the binary
// WXCS_BIN names, else this checkout's debug build, which scripts/test.sh runs), free ports, and
// the upload a page makes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WXCS = process.env.WXCS_BIN || join(ROOT, 'target', 'debug', 'wxcs');

/** A free loopback port below Linux's ephemeral range (see scripts/lib.sh's free_ports). */
export async function freePort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Resolves once `url` answers (any status), or throws after `ms`. */
export async function waitFor(url, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fetch(url).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer`);
}

/** A `wxcs` subcommand as a child process (its stderr kept in `log()`), killed by `stop()`. */
export function wxcs(args, env = {}) {
  const child = spawn(WXCS, args, { env: { ...process.env, WXCS_LOG: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  return { child, log: () => log, stop: () => child.kill('SIGKILL') };
}

/** `wxcs emulate` on free ports: `{ wx, cos, stop }`. */
export async function emulator() {
  const [wxPort, cosPort] = [await freePort(), await freePort()];
  const data = mkdtempSync(join(tmpdir(), 'wxcs-backend-test-'));
  const process = wxcs(['emulate', '--wx-port', `${wxPort}`, '--cos-port', `${cosPort}`, '--data-dir', data]);
  const wx = `http://127.0.0.1:${wxPort}`;
  await waitFor(`${wx}/__emulator/stats`);
  return { wx, cos: `http://127.0.0.1:${cosPort}`, stop: process.stop };
}

/** `wxcs serve` in front of the emulator at `wx`, with `env` (flags as variables): `{ url, pid, stop, log }`. */
export async function backend(wx, env) {
  const port = await freePort();
  const process = wxcs(['serve'], {
    WXCS_BIND: '127.0.0.1', PORT: `${port}`, WX_API_BASE: wx, WX_ENV: 'dev-emulator',
    WX_APPID: 'wx0000000000emulator', WX_SECRET: 'emulator-app-secret',
    WXCS_DATA_DIR: mkdtempSync(join(tmpdir(), 'wxcs-serve-')), ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${url}/healthz`);
  } catch (error) {
    throw new Error(`wxcs serve did not start: ${process.log()}`);
  }
  return { url, pid: process.child.pid, stop: process.stop, log: process.log };
}

/** Resident memory of a process, KiB. */
export function rssKib(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

/** An upload as a page makes it: a link from the backend (with `headers`), then the form to COS, `file` last. */
export async function upload(base, headers, path, bytes) {
  const response = await fetch(`${base}/api/storage/upload-credentials`, {
    method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ path, size: bytes.length }),
  });
  const link = await response.json();
  if (!response.ok) return { status: response.status, link };
  const form = new FormData();
  for (const [name, value] of [['key', link.key], ['Signature', link.authorization], ['x-cos-security-token', link.token], ['x-cos-meta-fileid', link.cos_file_id]]) {
    form.append(name, value);
  }
  form.append('file', new Blob([bytes]), 'f.bin');
  const posted = await fetch(link.url, { method: 'POST', body: form });
  return { status: posted.status, link };
}
