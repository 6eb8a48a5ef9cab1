// The library in headless Chromium, through its public API, as shipped: the release
// package in pkg/ (the bytes users download), loaded by a page on its own loopback origin,
// against the real `wxcs dev` stack (emulator + credential backend) over HTTP. Faults the
// emulator can inject (5xx, dropped connections, expired links, latency, a slow uplink)
// stand in for a bad network; a second, strict backend gives 413 and 429.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BASE, ROOT, libraryPageForTests } from './support.mjs';

const opened = libraryPageForTests();

/** Runs `fn` in the page (where `window.t` holds the helpers) and returns what it returns. */
const inPage = (fn, arg) => opened.page.evaluate(fn, arg);

test('validateKey gives every key of the shared table its verdict, with rule and byte offset', async () => {
  const cases = JSON.parse(readFileSync(join(ROOT, 'core', 'tests', 'data', 'keys.json'), 'utf8'));
  assert.ok(cases.length >= 40);
  const verdicts = await inPage((cases) => cases.map(({ key }) => {
    try {
      window.t.lib.validateKey(key);
      return null;
    } catch (e) {
      return window.t.describe(e);
    }
  }), cases);
  cases.forEach((c, i) => {
    const verdict = verdicts[i];
    if (c.rule === null) return assert.equal(verdict, null, `${c.why}: ${JSON.stringify(c.key)} refused`);
    assert.ok(verdict, `${c.why}: ${JSON.stringify(c.key)} accepted, expected ${c.rule}`);
    assert.equal(verdict.name, 'StorageError');
    assert.ok(verdict.isStorageError && verdict.hasStack, 'a real StorageError');
    assert.equal(verdict.code, 'INVALID_KEY');
    assert.equal(verdict.rule, c.rule, c.why);
    assert.equal(verdict.byteOffset, c.at ?? undefined, c.why);
    if (c.at !== null) assert.ok(verdict.message.startsWith(`byte ${c.at}: `), verdict.message);
  });
  const nonStrings = await inPage(() => [5, null, undefined].map((v) => window.t.thrown(() => window.t.lib.validateKey(v)).code));
  assert.deepEqual(nonStrings, ['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
});

test('round trips are byte-exact, into the user\'s folder', async () => {
  const results = await inPage(async () => {
    const { client, pattern, bytesOf, same } = window.t;
    const storage = client();
    const out = [];
    for (const [path, size] of [['t/empty.bin', 0], ['t/one.bin', 1], ['t/一兆.bin', 1024 * 1024]]) {
      const data = pattern(size);
      const result = await storage.upload(new Blob([data]), path);
      const back = await bytesOf(await storage.download(result.fileId));
      out.push({ path, ...result, same: same(back, data) });
    }
    return out;
  });
  for (const r of results) {
    assert.equal(r.key, `users/demo/${r.path}`, 'the backend put it in the user\'s folder');
    assert.ok(r.fileId.startsWith('cloud://'));
    assert.ok(r.same, `${r.path} came back byte for byte`);
  }
  assert.deepEqual(results.map((r) => r.size), [0, 1, 1024 * 1024]);
});

test('invalid keys fail before any request; a non-Blob is INVALID_ARGUMENT', async () => {
  const r = await inPage(async () => {
    const { client, blob, rejection, stats } = window.t;
    const storage = client();
    const before = (await stats()).uploads;
    const errors = [];
    for (const bad of ['/a.png', 'a/${filename}', 'a//b', 'a/../b', 'q?.png']) errors.push(await rejection(storage.upload(blob(1), bad)));
    return { errors, calls: storage.calls.n, stored: (await stats()).uploads - before, notBlob: await rejection(storage.upload('not a blob', 'a.png')) };
  });
  assert.deepEqual(r.errors.map((e) => e.code), Array(5).fill('INVALID_KEY'));
  assert.ok(r.errors.every((e) => typeof e.rule === 'string'));
  assert.equal(r.calls, 0, 'the backend was never asked');
  assert.equal(r.stored, 0);
  assert.equal(r.notBlob.code, 'INVALID_ARGUMENT');
});

test('temp URLs for 120 IDs take three backend calls and come back in input order', async () => {
  const r = await inPage(async () => {
    const { client, blob } = window.t;
    const storage = client();
    const real = (await storage.upload(blob(2, 'text/plain'), 't/urls.txt')).fileId;
    const before = storage.calls.n;
    const ids = Array.from({ length: 120 }, (_, i) => (i % 40 === 7 ? real : real.replace('urls.txt', `missing-${i}`)));
    const results = await storage.getTempFileUrls(ids, { maxAge: 60 });
    return { calls: storage.calls.n - before, results: results.map((x) => ({ ok: x.ok, fileId: x.fileId, url: x.url, code: x.error?.code })) };
  });
  assert.equal(r.calls, 3, 'chunks of 50');
  assert.equal(r.results.length, 120);
  r.results.forEach((x, i) => {
    assert.equal(x.ok, i % 40 === 7, `item ${i}`);
    if (x.ok) assert.match(x.url, /^http/);
    else {
      assert.ok(x.fileId.endsWith(`missing-${i}`), 'input order');
      assert.equal(x.code, 'NOT_FOUND');
    }
  });
});

test('delete reports each file; a deleted file is NOT_FOUND', async () => {
  const r = await inPage(async () => {
    const { client, blob, rejection } = window.t;
    const storage = client();
    const { fileId } = await storage.upload(blob(3, 'text/plain'), 't/delete.txt');
    const first = await storage.delete([fileId]);
    const again = await storage.delete([fileId]);
    return { first: first[0].ok, again: again[0].ok, againCode: again[0].error.code, download: await rejection(storage.download(fileId)) };
  });
  assert.deepEqual([r.first, r.again, r.againCode, r.download.code], [true, false, 'NOT_FOUND', 'NOT_FOUND']);
});

test('injected 5xx are retried; exhausted retries say SERVER with COS\'s details', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection } = window.t;
    await faults({ fail_next: 2 });
    const ok = await client({ retries: 3 }).upload(blob(5), 't/retry.bin');
    await faults({ fail_next: 5 });
    const error = await rejection(client({ retries: 1 }).upload(blob(1), 't/fail.bin'));
    await faults({});
    return { ok: typeof ok.fileId, error };
  });
  assert.equal(r.ok, 'string', 'two 503s, then success');
  assert.equal(r.error.code, 'SERVER');
  assert.equal(r.error.status, 503);
  assert.equal(r.error.cosCode, 'ServiceUnavailable');
  assert.equal(typeof r.error.requestId, 'string');
});

test('an expired link is refreshed once, then reported', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection } = window.t;
    const storage = client();
    await faults({ expire_next: 1 });
    const ok = await storage.upload(blob(4), 't/late.bin');
    await faults({ expire_next: 2 });
    const error = await rejection(storage.upload(blob(4), 't/later.bin'));
    await faults({});
    return { ok: typeof ok.fileId, error };
  });
  assert.equal(r.ok, 'string');
  assert.equal(r.error.code, 'CREDENTIALS_EXPIRED');
  assert.equal(r.error.cosCode, 'ExpiredToken');
});

test('backend refusals map to UNAUTHORIZED and FORBIDDEN', async () => {
  const r = await inPage(async () => {
    const { lib, BACKEND, client, blob, rejection } = window.t;
    const anonymous = new lib.StorageClient({ endpoint: BACKEND });
    return {
      anonymous: await rejection(anonymous.upload(blob(1), 'a.bin')),
      foreign: await rejection(client().upload(blob(1), 'users/someone-else/a.bin')),
    };
  });
  assert.equal(r.anonymous.code, 'UNAUTHORIZED');
  assert.equal(r.anonymous.status, 401);
  assert.equal(r.foreign.code, 'FORBIDDEN');
});

test('an upload aborted before it starts is an AbortError and stores nothing', async () => {
  const r = await inPage(async () => {
    const { client, blob, rejection, stats } = window.t;
    const controller = new AbortController();
    controller.abort();
    const before = (await stats()).uploads;
    const error = await rejection(client().upload(blob(1), 't/aborted.bin', { signal: controller.signal }));
    return { error, stored: (await stats()).uploads - before };
  });
  assert.equal(r.error.code, 'ABORTED');
  assert.equal(r.error.name, 'AbortError');
  assert.equal(r.stored, 0);
});

test('bad options are INVALID_ARGUMENT, naming the option', async () => {
  const r = await inPage(async () => {
    const { lib, client, blob, thrown, rejection } = window.t;
    const made = [{ retries: -1 }, { retries: 1.5 }, { headers: 5 }, { credentials: 'sometimes' }, { getUploadCredentials: 'no' },
      { concurrency: 17 }, { timeoutMs: -1 }, 'endpoint'].map((options) => thrown(() => new lib.StorageClient(options)));
    const storage = client();
    const calls = [
      await rejection(storage.upload(blob(1), 'a.bin', { onProgress: 'x' })),
      await rejection(storage.upload(blob(1), 'a.bin', { signal: {} })),
      await rejection(storage.upload(blob(1), 'a.bin', { contentType: 5 })),
      await rejection(storage.getTempFileUrls(['cloud://e.b/k'], { maxAge: 0 })),
      await rejection(storage.getTempFileUrls('cloud://e.b/k')),
      await rejection(storage.getTempFileUrls([])),
      await rejection(storage.delete([5])),
      await rejection(storage.download(5)),
      await rejection(storage.list({ limit: 0 })),
      await rejection(storage.list({ limit: 1001 })),
      await rejection(storage.list({ order: 'oldest' })),
      await rejection(storage.list({ prefix: 5 })),
      await rejection(storage.list({ cursor: 7 })),
      await rejection(storage.list('users/demo/')),
      await rejection(client({ headers: () => ({ Authorization: 5 }) }).upload(blob(1), 'a.bin')),
      await rejection(client({ headers: () => { throw new Error('no session'); } }).upload(blob(1), 'a.bin')),
    ];
    return { made, calls, callsToBackend: storage.calls.n };
  });
  for (const e of [...r.made, ...r.calls]) assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
  assert.match(r.made[0].message, /retries must be a whole number from 0 to 10/);
  assert.match(r.made[3].message, /credentials must be include, same-origin or omit, not "sometimes"/);
  assert.match(r.calls[1].message, /signal must be an AbortSignal/);
  assert.match(r.calls[3].message, /maxAge/);
  assert.equal(r.calls.at(-1).message, 'no session', 'a throwing headers callback keeps its message');
  assert.match(r.calls[8].message, /limit must be a whole number from 1 to 1000/);
  assert.match(r.calls[10].message, /order must be name or newest/);
  assert.equal(r.callsToBackend, 0);
});

test('list pages through the stored files the backend recorded, in either order, filtered; listAll walks every page', async () => {
  const r = await inPage(async () => {
    const { client, blob } = window.t;
    const storage = client();
    const folder = `t/list-${Date.now()}/`;
    const names = ['c.bin', 'a.bin', 'b.bin', 'd-x.bin', 'e-x.bin'];
    for (const name of names) await storage.upload(blob(3), folder + name);
    const prefix = `users/demo/${folder}`;
    const pages = [];
    for (let cursor = null; ;) {
      const page = await storage.list({ prefix, limit: 2, cursor: cursor || undefined });
      pages.push(page.files.map((f) => f.name));
      if (!(cursor = page.cursor)) break;
    }
    const walked = [];
    for await (const file of storage.listAll({ prefix, limit: 2, order: 'newest' })) walked.push(file);
    const filtered = await storage.list({ prefix, contains: '-x' });
    const [deleted] = await storage.delete([walked[0].fileId]);
    const after = (await storage.list({ prefix })).files.map((f) => f.name);
    return { pages, walked, filtered: filtered.files.map((f) => f.name), deleted: deleted.ok, after, first: walked[0] };
  });
  assert.deepEqual(r.pages, [['a.bin', 'b.bin'], ['c.bin', 'd-x.bin'], ['e-x.bin']], 'by name, two to a page');
  assert.deepEqual(r.walked.map((f) => f.name).sort(), ['a.bin', 'b.bin', 'c.bin', 'd-x.bin', 'e-x.bin']);
  assert.equal(r.walked[0].name, 'e-x.bin', 'newest first');
  assert.deepEqual(r.filtered, ['d-x.bin', 'e-x.bin']);
  assert.ok(r.deleted);
  assert.deepEqual(r.after, ['a.bin', 'b.bin', 'c.bin', 'd-x.bin'], 'a delete leaves the list');
  const f = r.first;
  assert.equal(f.size, 3);
  assert.match(f.key, /^users\/demo\/t\/list-\d+\/e-x\.bin$/);
  assert.ok(f.fileId.endsWith(f.key) && /^\d+$/.test(f.crc64) && f.time > 1.7e12, JSON.stringify(f));
});

test('list refuses a folder the user may not list, and a backend answer without files', async () => {
  const r = await inPage(async () => {
    const { client, rejection } = window.t;
    const storage = client();
    const foreign = await rejection(storage.list({ prefix: 'users/someone-else/' }));
    const outside = await rejection(storage.list({ prefix: 'users/' }));
    return { foreign, outside };
  });
  assert.equal(r.foreign.code, 'FORBIDDEN');
  assert.equal(r.outside.code, 'FORBIDDEN', 'a prefix wider than one folder');
  // A backend whose answer is not a page.
  await opened.page.route('**/list', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"files": 5}' }));
  try {
    const broken = await inPage(() => window.t.rejection(window.t.client().list()));
    assert.equal(broken.code, 'CREDENTIALS_FAILED', broken.message);
    assert.match(broken.message, /list answered without files/);
  } finally {
    await opened.page.unroute('**/list');
  }
});

test('progress by XHR is monotonic, ends at the file size, then waits for COS', async () => {
  const r = await inPage(async () => {
    const { client, pattern, bytesOf, same } = window.t;
    const storage = client();
    const data = pattern(5 * 1024 * 1024);
    const events = [];
    const result = await storage.upload(new Blob([data], { type: 'image/png' }), 't/progress.bin', { onProgress: (e) => events.push(e) });
    return { events, same: same(await bytesOf(await storage.download(result.fileId)), data) };
  });
  const size = 5 * 1024 * 1024;
  assert.ok(r.events.length >= 2, JSON.stringify(r.events));
  assert.ok(r.events.every((e, i) => i === 0 || r.events[i - 1].loaded <= e.loaded), 'monotonic');
  assert.ok(r.events.every((e) => e.loaded <= size && e.total === size));
  const last = r.events.at(-1);
  assert.deepEqual([last.loaded, last.phase], [size, 'waiting'], 'ends at the size, then waits for the server');
  assert.ok(r.same);
});

test('a default upload goes by fetch with no CORS preflight; one with onProgress pays one', async () => {
  const r = await inPage(async () => {
    const { client, blob, stats } = window.t;
    const storage = client();
    const before = (await stats()).preflights;
    for (let i = 0; i < 3; i++) await storage.upload(blob(1000), `t/simple-${i}.bin`);
    const afterPlain = (await stats()).preflights;
    await storage.upload(blob(1000), 't/with-progress.bin', { onProgress: () => {} });
    const afterProgress = (await stats()).preflights;
    return { plain: afterPlain - before, progress: afterProgress - afterPlain };
  });
  assert.equal(r.plain, 0, 'three default uploads, no OPTIONS at COS');
  assert.equal(r.progress, 1, 'upload listeners make the request non-simple');
});

test('a throwing progress callback never breaks the upload', async () => {
  const r = await inPage(async () => {
    const { client, blob } = window.t;
    let calls = 0;
    const result = await client().upload(blob(64 * 1024), 't/throwing.bin', { onProgress: () => { calls++; throw new Error('a buggy progress bar'); } });
    return { ok: typeof result.fileId, calls };
  });
  assert.equal(r.ok, 'string');
  assert.ok(r.calls > 0, 'the callback was called');
});

test('aborting while the body is sent stores nothing', async () => {
  const r = await inPage(async () => {
    const { client, blob, rejection, stats } = window.t;
    const before = (await stats()).uploads;
    const controller = new AbortController();
    const error = await rejection(client().upload(blob(8 * 1024 * 1024), 't/abort-mid.bin', { onProgress: () => controller.abort(), signal: controller.signal }));
    return { error, stored: (await stats()).uploads - before };
  });
  assert.deepEqual([r.error.code, r.error.name, r.stored], ['ABORTED', 'AbortError', 0]);
});

test('a batch of 20 with 2 bad keys stores 18, reports 2, and its progress adds up', async () => {
  const r = await inPage(async () => {
    const { client, blob, rejection } = window.t;
    const storage = client({ concurrency: 4 });
    const items = Array.from({ length: 20 }, (_, i) => ({
      file: blob(1000 + i),
      path: i === 5 ? 'batch/$bad.bin' : i === 13 ? '/batch/leading.bin' : `batch/${i}.bin`,
    }));
    const events = [];
    const lastPerItem = Array(20).fill(null);
    const results = await storage.uploadMany(items, { onProgress: (e) => { events.push(e.loaded); lastPerItem[e.item.index] = [e.item.loaded, e.item.total]; } });
    return {
      results: results.map((x) => ({ ok: x.ok, path: x.path, size: x.size, code: x.error?.code })),
      events, lastPerItem, empty: await rejection(storage.uploadMany([])),
    };
  });
  assert.equal(r.results.length, 20);
  r.results.forEach((x, i) => {
    if (i === 5 || i === 13) {
      assert.equal(x.ok, false, `item ${i}`);
      assert.equal(x.code, 'INVALID_KEY');
    } else {
      assert.equal(x.ok, true, `item ${i}`);
      assert.equal(x.path, `batch/${i}.bin`, 'input order');
      assert.equal(x.size, 1000 + i);
    }
  });
  r.lastPerItem.forEach((last, i) => assert.deepEqual(last, [1000 + i, 1000 + i], `item ${i} ends at its size`));
  assert.ok(r.events.every((x, i) => i === 0 || r.events[i - 1] <= x), 'aggregate progress is monotonic');
  assert.equal(r.events.at(-1), Array.from({ length: 20 }, (_, i) => 1000 + i).reduce((a, b) => a + b), 'and ends at the total');
  assert.equal(r.empty.code, 'INVALID_ARGUMENT');
});

test('a dropped connection is retried; exhausted retries say NETWORK', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection } = window.t;
    await faults({ drop_next: 1 });
    const ok = await client().upload(blob(300 * 1024), 't/dropped.bin');
    // More drops than two attempts need: Chromium itself resends a request whose reused
    // keep-alive socket was reset before any answer, once per idle socket it holds.
    await faults({ drop_next: 20 });
    const error = await rejection(client({ retries: 1 }).upload(blob(300 * 1024), 't/dropped2.bin'));
    await faults({});
    return { ok: typeof ok.fileId, error };
  });
  assert.equal(r.ok, 'string', 'retried after the connection dropped');
  assert.equal(r.error.code, 'NETWORK');
});

test('a server that refuses this origin gives NETWORK naming the origin and Web 安全域名', async () => {
  const r = await inPage(async () => {
    const { lib, EMULATOR, blob, rejection } = window.t;
    // The emulator's WeChat port sends no CORS headers (like api.weixin.qq.com).
    const storage = new lib.StorageClient({ endpoint: `${EMULATOR}/api/storage`, retries: 0 });
    return { error: await rejection(storage.upload(blob(1), 'a.bin')), origin: location.origin };
  });
  assert.equal(r.error.code, 'NETWORK');
  assert.ok(r.error.message.includes(r.origin) && r.error.message.includes('CORS') && r.error.message.includes('Web 安全域名'), r.error.message);
});

test('a 50 MiB round trip is byte-exact', async () => {
  const r = await inPage(async () => {
    const { client, pattern, bytesOf } = window.t;
    const chunk = pattern(1024 * 1024);
    const parts = Array.from({ length: 50 }, (_, i) => { const part = chunk.slice(); part[0] = i; return part; });
    const storage = client();
    const { fileId } = await storage.upload(new Blob(parts), 't/fifty.bin');
    const all = await bytesOf(await storage.download(fileId));
    let bad = -1;
    for (let i = 0; i < 50 && bad < 0; i++) {
      const got = all.subarray(i * 1048576, (i + 1) * 1048576);
      if (got[0] !== i || !got.subarray(1).every((x, j) => x === chunk[j + 1])) bad = i;
    }
    return { length: all.length, bad };
  });
  assert.equal(r.length, 50 * 1024 * 1024);
  assert.equal(r.bad, -1, `MiB ${r.bad} differs`);
});

test('a stalled backend call times out and is retried once', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection, sleep } = window.t;
    const storage = client({ timeoutMs: 300, retries: 1 });
    await faults({ latency_ms: 1500 });
    const error = await rejection(storage.upload(blob(1), 't/stalled.bin'));
    await faults({});
    await sleep(1500); // the backend's slowed calls finish before the next test
    return { error, calls: storage.calls.n };
  });
  assert.equal(r.error.code, 'TIMEOUT');
  assert.match(r.error.message, /no byte moved .* for 300 ms/);
  assert.equal(r.calls, 2, 'one retry after the first stall');
});

test('with onProgress, a stalled COS answer times out by the stall timer, with a fresh link per attempt', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection, linkFor, sleep } = window.t;
    const link = await linkFor('t/stalled-cos.bin');
    let links = 0;
    const storage = client({ timeoutMs: 300, retries: 1, getUploadCredentials: () => { links++; return link; } });
    await faults({ latency_ms: 1200 });
    const error = await rejection(storage.upload(blob(4), 'users/demo/t/stalled-cos.bin', { onProgress: () => {} }));
    await faults({});
    await sleep(1500);
    return { error, links };
  });
  assert.equal(r.error.code, 'TIMEOUT');
  assert.match(r.error.message, /no byte moved/);
  assert.equal(r.links, 2, 'a fresh link for the retry');
});

test('without onProgress, a hung upload ends at its deadline: timeoutMs plus 1 s per 16 KiB', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection, linkFor, sleep } = window.t;
    const link = await linkFor('t/hung.bin');
    const storage = client({ timeoutMs: 400, retries: 0, getUploadCredentials: () => link });
    await faults({ latency_ms: 5000 });
    const started = performance.now();
    const error = await rejection(storage.upload(blob(16 * 1024), 'users/demo/t/hung.bin'));
    const took = performance.now() - started;
    await faults({});
    await sleep(5000);
    return { error, took };
  });
  assert.equal(r.error.code, 'TIMEOUT');
  assert.match(r.error.message, /did not answer within 1400 ms/);
  assert.ok(r.took >= 1400 && r.took < 4500, `ended at the deadline, not at COS's answer (${r.took} ms)`);
});

test('without onProgress, a slow but healthy upload is never cut off by timeoutMs', async () => {
  const r = await inPage(async () => {
    const { client, pattern, bytesOf, same, faults, linkFor } = window.t;
    const link = await linkFor('t/slow-uplink.bin');
    const data = pattern(96 * 1024);
    // COS reads at 32 KiB/s: the upload takes about 3 s, six times timeoutMs.
    const storage = client({ timeoutMs: 500, retries: 0, getUploadCredentials: () => link });
    await faults({ cos_bytes_per_second: 32 * 1024 });
    const started = performance.now();
    const result = await storage.upload(new Blob([data]), 'users/demo/t/slow-uplink.bin');
    const took = performance.now() - started;
    await faults({});
    return { took, same: same(await bytesOf(await storage.download(result.fileId)), data) };
  });
  assert.ok(r.took > 2000, `the upload really was slow (${r.took} ms)`);
  assert.ok(r.same, 'and arrived whole');
});

test('aborting while waiting for COS rejects at once', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, rejection, linkFor, stats, sleep } = window.t;
    const link = await linkFor('t/abort-waiting.bin');
    const storage = client({ getUploadCredentials: () => link });
    const controller = new AbortController();
    const before = (await stats()).uploads;
    await faults({ latency_ms: 1200 });
    const error = await rejection(storage.upload(blob(14), 'users/demo/t/abort-waiting.bin', {
      onProgress: (e) => { if (e.phase === 'waiting') controller.abort(); },
      signal: controller.signal,
    }));
    const during = (await stats()).uploads; // COS is still sleeping on the request
    await faults({});
    await sleep(1500);
    return { error, storedBeforeCosAnswered: during - before };
  });
  assert.deepEqual([r.error.code, r.error.name], ['ABORTED', 'AbortError']);
  assert.equal(r.storedBeforeCosAnswered, 0, 'rejected before COS answered');
});

test('downloads report progress and abort mid-stream', async () => {
  const r = await inPage(async () => {
    const { client, pattern, bytesOf, same, rejection } = window.t;
    const storage = client();
    const data = pattern(3 * 1024 * 1024);
    const { fileId } = await storage.upload(new Blob([data]), 't/download.bin');
    const events = [];
    const whole = await storage.download(fileId, { onProgress: (e) => events.push([e.loaded, e.total]) });
    const controller = new AbortController();
    const error = await rejection(storage.download(fileId, { onProgress: () => controller.abort(), signal: controller.signal }));
    return { same: same(await bytesOf(whole), data), events, error };
  });
  const size = 3 * 1024 * 1024;
  assert.ok(r.same);
  assert.ok(r.events.length >= 2);
  assert.ok(r.events.every(([loaded, total], i) => total === size && (i === 0 || r.events[i - 1][0] < loaded)), 'monotonic');
  assert.equal(r.events.at(-1)[0], size);
  assert.deepEqual([r.error.code, r.error.name], ['ABORTED', 'AbortError']);
});

test('a backend 413 is TOO_LARGE and never retried', async () => {
  const r = await inPage(async () => {
    const { strictClient, blob, rejection } = window.t;
    const calls = { n: 0 };
    const storage = strictClient('big-token', calls);
    const error = await rejection(storage.upload(blob(2048), 'big.bin'));
    const refusedCalls = calls.n;
    const ok = await storage.upload(blob(1024), 'ok.bin');
    return { error, refusedCalls, ok: typeof ok.fileId, okCalls: calls.n - refusedCalls };
  });
  assert.deepEqual([r.error.code, r.error.status], ['TOO_LARGE', 413]);
  assert.equal(r.refusedCalls, 1, '4xx other than 429 is never retried');
  assert.equal(r.ok, 'string');
  assert.equal(r.okCalls, 2, 'a backend that limits sizes gets the link call, then the check of the object');
});

test('a backend 429 asking for a longer wait than the backoff is reported at once as RATE_LIMITED, with the wait', async () => {
  // The backend counts in fixed one-minute windows (shared by its instances). The five calls
  // must fall in one window with more than 10 s of it left, so a test that would start in
  // the window's last 20 s waits for the next one.
  const into = Date.now() % 60_000;
  if (into > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 250));
  const r = await inPage(async () => {
    const { strictClient, blob, rejection } = window.t;
    const calls = { n: 0 };
    const storage = strictClient('busy-token', calls);
    // This backend limits sizes, so each upload is two calls: its link, then its check.
    for (let i = 0; i < 2; i++) await storage.upload(blob(1), `busy-${i}.bin`);
    const allowed = calls.n;
    const error = await rejection(storage.upload(blob(1), 'busy-5.bin'));
    return { allowed, error, calls: calls.n };
  });
  assert.equal(r.allowed, 4);
  assert.deepEqual([r.error.code, r.error.status], ['RATE_LIMITED', 429]);
  // The backend asks for the rest of the window.
  assert.ok(r.error.retryAfter > 10 && r.error.retryAfter <= 60, `retryAfter ${r.error.retryAfter}`);
  assert.equal(r.calls, 5, 'not retried: the asked wait is longer than the 10 s backoff cap');
});

test('a 200 MiB upload grows wasm memory by less than 1 MiB', async () => {
  const r = await inPage(async () => {
    const { client, wasm } = window.t;
    const storage = client();
    await storage.upload(new Blob([]), 't/warm.bin'); // allocates what any upload needs
    const mib = new Uint8Array(1024 * 1024);
    const file = new Blob(Array(200).fill(mib));
    const before = wasm.memory.buffer.byteLength;
    const result = await storage.upload(file, 't/two-hundred.bin');
    return { size: result.size, grew: wasm.memory.buffer.byteLength - before };
  });
  assert.equal(r.size, 200 * 1024 * 1024);
  assert.ok(r.grew < 1024 * 1024, `wasm memory grew ${r.grew} bytes`);
});

// The fault matrix (README "When things fail"): every fault the emulator can inject, each
// recovered from or reported by its documented code, and in no case a half-stored object.
test('after every injected fault the store holds exactly the uploads that succeeded, and no part file', async () => {
  const r = await inPage(async () => {
    const { client, blob, faults, stats } = window.t;
    const matrix = [
      ['one 503', { fail_next: 1 }, 'ok'],
      ['503 on every try', { fail_next: 9 }, 'SERVER'],
      ['connection dropped mid-body once', { drop_next: 1 }, 'ok'],
      // (Chromium resends a request once per reset idle keep-alive socket: drops to spare.)
      ['connection dropped on every try', { drop_next: 60 }, 'NETWORK'],
      ['link expired once', { expire_next: 1 }, 'ok'],
      ['link expired twice', { expire_next: 2 }, 'CREDENTIALS_EXPIRED'],
    ];
    const rows = [];
    for (const [name, fault, _] of matrix) {
      const before = await stats();
      await faults(fault);
      const storage = client({ retries: 2 });
      const outcome = await storage.upload(blob(200 * 1024), `t/matrix/${Date.now()}-${rows.length}.bin`)
        .then(() => 'ok', (error) => error.code);
      await faults({});
      const now = await stats();
      rows.push([name, outcome, now.objects - before.objects, now.partial_files]);
    }
    return { rows, want: matrix.map(([name, , want]) => [name, want, want === 'ok' ? 1 : 0, 0]) };
  });
  assert.deepEqual(r.rows, r.want);
});

test('a backend 429 whose Retry-After fits the backoff is waited out, then the upload succeeds', async () => {
  let refused = 0;
  // The real backends' limits answer in minutes; this stub answers the first link request
  // with a 1 s Retry-After, the way a gateway in front of a backend might, then lets calls through.
  await opened.page.route(`${BASE}/api/storage/upload-credentials`, async (route) => {
    if (route.request().method() === 'POST' && refused === 0) {
      refused++;
      return route.fulfill({
        status: 429,
        headers: { 'retry-after': '1', 'access-control-allow-origin': opened.server.origin, 'access-control-expose-headers': 'retry-after' },
        contentType: 'application/json',
        body: JSON.stringify({ error: 'too many requests' }),
      });
    }
    return route.continue();
  });
  try {
    const r = await inPage(async () => {
      const { client, blob } = window.t;
      const storage = client({ retries: 1 });
      const started = performance.now();
      const result = await storage.upload(blob(10), 't/after-429.bin');
      return { fileId: typeof result.fileId, took: performance.now() - started, calls: storage.calls.n };
    });
    assert.equal(refused, 1, 'the stub answered 429 once');
    assert.equal(r.fileId, 'string');
    assert.ok(r.took >= 1000, `waited the asked 1 s, not the shorter backoff (${r.took} ms)`);
    assert.equal(r.calls, 2, 'asked again once');
  } finally {
    await opened.page.unroute(`${BASE}/api/storage/upload-credentials`);
  }
});

test('offline, and a backend host that does not resolve, are NETWORK errors that say what to check', async () => {
  await opened.page.context().setOffline(true);
  let offline;
  try {
    offline = await inPage(async () => {
      const { client, blob, rejection } = window.t;
      return rejection(client({ retries: 1 }).upload(blob(10), 't/offline.bin'));
    });
  } finally {
    await opened.page.context().setOffline(false);
  }
  const unresolvable = await inPage(async () => {
    const { lib, blob, rejection } = window.t;
    const storage = new lib.StorageClient({ endpoint: 'http://wxcs-no-such-host.invalid/api/storage', retries: 1 });
    return rejection(storage.upload(blob(10), 't/nowhere.bin'));
  });
  for (const error of [offline, unresolvable]) {
    assert.equal(error.code, 'NETWORK');
    assert.match(error.message, /^no answer from .*: check the network/);
  }
  assert.match(unresolvable.message, /wxcs-no-such-host\.invalid/);
});
