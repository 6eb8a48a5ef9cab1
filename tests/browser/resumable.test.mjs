// wx-cloud-storage/resumable in headless Chromium, as shipped (pkg/), against a `wxcs serve`
// in 开放接口服务 mode and its emulator (COS multipart, temporary keys): a 300 MB upload from
// disk whose connection drops half way (`drop_after_bytes`) finishes without resending a
// finished part; a reload at 60 %
// continues from the parts COS holds; a different file with the same name, size and time
// starts afresh; pause and resume; discard cleans up; a part corrupted on the way is sent
// again; a backend outside 开放接口服务 gets the one POST. Parts sent are counted at the
// backend (each PUT is signed there once).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { PARTS, libraryPageForTests, until } from './support.mjs';

const opened = libraryPageForTests();
const MIB = 1 << 20;

/** Parts the backend has signed so far (its /metrics, which answers this machine). */
async function partsSigned() {
  const text = await (await fetch(`${PARTS}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('wxcs_multipart_parts_signed_total'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The 开放接口服务 emulator's counters. */
async function partsStats() {
  return opened.page.evaluate(() => window.t.partsEmulator('/__emulator/stats'));
}

async function partsFaults(body) {
  await opened.page.evaluate((b) => window.t.partsEmulator('/__emulator/faults', b), body);
}

/** Defines window.file(size, seed, name): a File of `size` bytes, every MiB distinct, the same for the same arguments. */
async function fileMaker(page) {
  await page.evaluate(() => {
    window.file = (size, seed, name = 'video.mp4') => {
      const mib = new Uint8Array(1 << 20);
      for (let i = 0, x = seed >>> 0 || 1; i < mib.length; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        mib[i] = x & 0xff;
      }
      const chunks = [];
      for (let at = 0, n = 0; at < size; at += mib.length, n++) {
        const copy = mib.slice(0, Math.min(mib.length, size - at));
        if (copy.length >= 4) new DataView(copy.buffer).setUint32(0, n);
        chunks.push(copy);
      }
      return new File(chunks, name, { type: 'video/mp4', lastModified: 1760000000000 });
    };
  });
}

/** Starts an upload in the page that records its progress in window.progress and ends in window.outcome. */
async function startUpload(page, { size, seed, path, options = {}, pauseAt }) {
  await page.evaluate(({ size, seed, path, options, pauseAt }) => {
    window.progress = 0;
    window.outcome = undefined;
    const controller = new AbortController();
    const storage = window.t.partsClient(options, { integrity: window.t.integrity() });
    storage.upload(window.file(size, seed), path, {
      signal: controller.signal,
      onProgress: ({ loaded, total }) => {
        window.progress = loaded / total;
        if (pauseAt && window.progress >= pauseAt) controller.abort();
      },
    }).then((result) => { window.outcome = { result }; }, (e) => { window.outcome = { error: window.t.describe(e) }; });
  }, { size, seed, path, options, pauseAt });
}

async function finished(page, ms = 120000) {
  await until(() => page.evaluate(() => window.outcome !== undefined), ms);
  return page.evaluate(() => window.outcome);
}

test('a 300 MB upload whose connection drops mid-part finishes, sending no finished part again', async () => {
  const { page } = opened;
  // From disk, as a user picks a video (a 300 MB Blob made in the page would have to fit
  // the browser's in-memory blob store).
  const size = 300 * 1000 * 1000;
  const path = join(mkdtempSync(join(tmpdir(), 'wxcs-resumable-')), 'video.mp4');
  const mib = randomBytes(1 << 20);
  const fd = openSync(path, 'w');
  for (let at = 0; at < size; at += mib.length) writeSync(fd, mib, 0, Math.min(mib.length, size - at));
  closeSync(fd);
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<input type="file" id="disk">'));
  await page.setInputFiles('#disk', path);
  await page.evaluate(() => {
    window.file = () => document.querySelector('#disk').files[0];
  });
  const before = { signed: await partsSigned(), cos: await partsStats() };
  // The connection that brings the file's half-way byte is dropped.
  await partsFaults({ drop_after_bytes: size / 2 });
  await startUpload(page, { size, seed: 1, path: 'big/300.mp4' });
  const { result, error } = await finished(page, 240000);
  await partsFaults({});
  rmSync(dirname(path), { recursive: true, force: true });
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(result.via, 'parts');
  assert.equal(result.integrity, 'verified', 'the joined object has the CRC-64 of the whole file');
  assert.equal(result.size, size);
  const parts = Math.ceil(size / (8 * MIB));
  const cos = await partsStats();
  assert.equal(cos.parts_stored - before.cos.parts_stored, parts, 'each part stored once');
  const received = cos.part_bytes_received - before.cos.part_bytes_received;
  // The dropped part went again (by the library, or by Chromium itself: a PUT is
  // idempotent, and Chromium resends one whose reused connection closed), and nothing else.
  assert.ok(received > size, `the drop happened: ${received} bytes received for ${size}`);
  assert.ok(received <= size + 8 * MIB, `at most one part resent: ${received - size} bytes over`);
  const signed = (await partsSigned()) - before.signed;
  assert.ok(signed === parts || signed === parts + 1, `${signed} parts signed for ${parts}`);
});

test('a reload at 60 % continues from the parts COS holds', async () => {
  const { page } = opened;
  await fileMaker(page);
  await partsFaults({ cos_bytes_per_second: 24 * MIB });
  const before = await partsSigned();
  const size = 40 * MIB;
  await startUpload(page, { size, seed: 2, path: 'big/reloaded.mp4', options: { concurrency: 1 } });
  await until(() => page.evaluate(() => window.progress >= 0.6), 60000);
  assert.ok(await page.evaluate(() => window.progress >= 0.6 && window.outcome === undefined), 'reloading mid-upload');
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await partsFaults({});
  const sentBefore = (await partsSigned()) - before;
  await fileMaker(page);
  await startUpload(page, { size, seed: 2, path: 'big/reloaded.mp4' });
  const { result, error } = await finished(page);
  assert.equal(error, undefined, JSON.stringify(error));
  const sentAfter = (await partsSigned()) - before - sentBefore;
  assert.ok(result.resumedParts >= 2, `continued from ${result.resumedParts} parts`);
  assert.equal(sentAfter, 5 - result.resumedParts, 'only the parts COS did not have');
  assert.equal(result.integrity, 'verified');
});

test('a different file with the same name, size and time does not continue another\'s upload', async () => {
  const { page } = opened;
  await fileMaker(page);
  const size = 33 * MIB;
  await startUpload(page, { size, seed: 3, path: 'big/same-name.mp4', pauseAt: 0.3, options: { concurrency: 1 } });
  assert.equal((await finished(page)).error.code, 'ABORTED');
  const before = await partsSigned();
  await startUpload(page, { size, seed: 4, path: 'big/same-name.mp4' });
  const { result, error } = await finished(page);
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(result.resumedParts, 0, 'nothing of the other file was used');
  assert.equal((await partsSigned()) - before, 5, 'all five parts of this file');
  assert.equal(result.integrity, 'verified', 'the object is this file');
  // The first file still continues its own upload.
  await startUpload(page, { size, seed: 3, path: 'big/same-name.mp4' });
  const first = await finished(page);
  assert.ok(first.result.resumedParts >= 1, JSON.stringify(first));
  assert.equal(first.result.integrity, 'verified');
});

test('pause and resume; discard gives an upload up and COS drops its parts', async () => {
  const { page } = opened;
  await fileMaker(page);
  const size = 34 * MIB;
  await startUpload(page, { size, seed: 5, path: 'big/paused.mp4', pauseAt: 0.5, options: { concurrency: 2 } });
  const paused = await finished(page);
  assert.equal(paused.error.code, 'ABORTED');
  assert.match(paused.error.message, /paused|cancelled|aborted/i);
  await startUpload(page, { size, seed: 5, path: 'big/paused.mp4' });
  const resumed = await finished(page);
  assert.ok(resumed.result.resumedParts >= 1, JSON.stringify(resumed));
  assert.equal(resumed.result.integrity, 'verified');
  // Paused again, then given up: COS no longer has the upload, and the next starts afresh.
  await startUpload(page, { size, seed: 6, path: 'big/discarded.mp4', pauseAt: 0.4, options: { concurrency: 1 } });
  assert.equal((await finished(page)).error.code, 'ABORTED');
  const open = async () => (await page.evaluate(() => window.t.partsEmulator('/__emulator/stats'))).multipart_uploads;
  const before = await open();
  const discarded = await page.evaluate(async () => {
    const r = window.t.resumable();
    window.t.partsClient(undefined, { resumable: r });
    return r.discard(window.file(34 << 20, 6), 'big/discarded.mp4');
  });
  assert.equal(discarded, true);
  assert.equal(await open(), before - 1, 'the upload is gone at COS');
  const again = await page.evaluate(async () => {
    const r = window.t.resumable();
    window.t.partsClient(undefined, { resumable: r });
    return r.discard(window.file(34 << 20, 6), 'big/discarded.mp4');
  });
  assert.equal(again, false, 'nothing left to discard');
});

test('a part corrupted on the way is sent again', async () => {
  const { page } = opened;
  await fileMaker(page);
  await partsFaults({ corrupt_next: 1 });
  const before = await partsSigned();
  await startUpload(page, { size: 33 * MIB, seed: 7, path: 'big/corrupted.mp4' });
  const { result, error } = await finished(page);
  await partsFaults({});
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal((await partsSigned()) - before, 6, 'five parts and the corrupted one again');
  assert.equal(result.integrity, 'verified');
});

test('small files, and a backend that cannot do parts, go by the one POST', async () => {
  const { page } = opened;
  await fileMaker(page);
  const small = await page.evaluate(async () => window.t.partsClient().upload(window.file(3 << 20, 8), 'small.mp4'));
  assert.equal(small.via, 'post');
  const fallback = await page.evaluate(async () => {
    const storage = window.t.client({ resumable: window.t.resumable({ threshold: 1 << 20 }) });
    return storage.upload(window.file(3 << 20, 9), 'fallback.mp4');
  });
  assert.equal(fallback.via, 'post', 'the demo backend is not in 开放接口服务 mode');
  assert.match(fallback.fileId, /^cloud:\/\//);
  const bad = await page.evaluate(() => window.t.rejection((async () => window.t.resumable({ threshold: 10 }))()));
  assert.equal(bad.code, 'INVALID_ARGUMENT');
  assert.match(bad.message, /threshold/);
});
