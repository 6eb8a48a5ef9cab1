// The resumable rows (#30): 300 MiB through a throttled uplink with one connection dropped
// half way, sent by wx-cloud-storage/resumable (parts), by wx-cloud-storage's one POST
// (which must send everything again), and by cos-js-sdk-v5's sliceUploadFile in its
// server-signing mode, against the same emulator (开放接口服务 mode) and backend. Bytes the
// emulator received beyond the file's size (its own counters) and the time, median of the
// runs, the variants interleaved.
import COS from 'cos-js-sdk-v5';

const UPLINK = 40 * 1024 * 1024; // bytes a second, one request at a time
const MIB = 300;

/** Starts the 开放接口服务 emulator and a backend in front of it: their URLs. */
async function stack({ WXCS, start, waitFor, freePort, work }) {
  const [wxPort, cosPort, port] = await Promise.all([freePort(), freePort(), freePort()]);
  start(WXCS, ['emulate', '--open-api', '--data-dir', `${work}/parts-emulator`, '--bind', '127.0.0.1',
    '--wx-port', `${wxPort}`, '--cos-port', `${cosPort}`, '--allow-origin', '*'], { WXCS_LOG: 'warn' });
  start(WXCS, ['serve'], {
    WXCS_BIND: '127.0.0.1', PORT: `${port}`, WX_API_BASE: `http://127.0.0.1:${wxPort}`, WX_ENV: 'dev-emulator', WX_OPENAPI: '1',
    WXCS_USERS: 'bench-token=bench', WXCS_CORS_ORIGINS: '*', WXCS_RATE_PER_MINUTE: '4000000000', WXCS_LOG: 'warn',
    WXCS_DATA_DIR: `${work}/parts-state`,
  });
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  return { wx: `http://127.0.0.1:${wxPort}`, cos: `http://127.0.0.1:${cosPort}`, backend: `http://127.0.0.1:${port}` };
}

export async function resumableBench({ browser, pageOrigin, diskFile, row, log, median, shuffled, QUICK, ...context }) {
  const size = MIB * 1024 * 1024;
  log(`resumable: ${MIB} MiB at ${UPLINK / 1024 / 1024} MiB/s with one dropped connection`);
  const urls = await stack(context);
  const control = async (path, body) => (await fetch(`${urls.wx}${path}`, body ? { method: 'POST', body: JSON.stringify(body) } : {})).json();
  const page = await browser.newPage();
  page.on('pageerror', (error) => log('resumable page error:', error.message));
  // The runner is the peer's signing server: the backend's kind of temporary key, from the sidecar.
  await page.exposeFunction('signCos', async ({ Method, Pathname, Query, Headers }) => {
    const key = await control('/_/cos/getauth');
    return {
      Authorization: COS.getAuthorization({ SecretId: key.TmpSecretId, SecretKey: key.TmpSecretKey, Method, Pathname, Query, Headers }),
      SecurityToken: key.Token,
    };
  });
  const query = new URLSearchParams({ parts: `${urls.backend}/api/storage`, cos: urls.cos, bucket: '6465-dev-emulator-1300000000' });
  await page.goto(`${pageOrigin}/resumable.html?${query}`);
  await page.waitForFunction(() => window.resumableReady);
  await page.setInputFiles('#disk', diskFile(MIB));
  const figures = { parts: [], post: [], cos: [] };
  for (let run = 0; run < (QUICK ? 1 : 3); run++) {
    for (const variant of shuffled(Object.keys(figures))) {
      // The connection that brings the file's half-way byte is dropped.
      await control('/__emulator/faults', { cos_bytes_per_second: UPLINK, drop_after_bytes: size / 2 });
      const before = await control('/__emulator/stats');
      const { ms } = await page.evaluate(([v, key]) => window.resumableBench.run(v, key), [variant, `bench-${variant}-${run}.bin`]);
      const after = await control('/__emulator/stats');
      const received = after.part_bytes_received - before.part_bytes_received + after.file_bytes_received - before.file_bytes_received;
      if (received <= size) throw new Error(`resumable: ${variant}: no connection was dropped (${received} bytes for ${size})`);
      figures[variant].push({ ms, resent: received - size });
      log(`resumable: ${variant}: ${(ms / 1000).toFixed(1)} s, ${((received - size) / 1024 / 1024).toFixed(1)} MiB resent`);
    }
  }
  await control('/__emulator/faults', {});
  await page.close();
  const of = (variant) => ({
    seconds: median(figures[variant].map((f) => f.ms)) / 1000,
    resent: median(figures[variant].map((f) => f.resent)) / 1024 / 1024,
  });
  const ours = of('parts');
  const what = `${MIB} MiB at a ${UPLINK / 1024 / 1024} MiB/s uplink, one connection dropped at 50 % (median of ${figures.parts.length})`;
  for (const [variant, name] of [['post', 'wx-cloud-storage, one POST (today)'], ['cos', 'cos-js-sdk-v5 1.10 sliceUploadFile, server-signed']]) {
    const peer = of(variant);
    row('resumable', `${what}: bytes sent again`, `${ours.resent.toFixed(1)} MiB`, name, `${peer.resent.toFixed(1)} MiB`, '', '');
    row('resumable', `${what}: time`, `${ours.seconds.toFixed(1)} s`, name, `${peer.seconds.toFixed(1)} s`, `${(ours.seconds / peer.seconds).toFixed(2)}×`, '');
  }
}
