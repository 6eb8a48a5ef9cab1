// wx-cloud-storage/integrity in headless Chromium, as shipped (pkg/), against the real
// `wxcs dev` stack: digests against references computed here in Node, every verdict branch
// (the emulator can expose, hide or omit COS's CRC header and corrupt a body in flight),
// server-side verification, content-addressed keys that skip what exists, Content-MD5.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { faults, libraryPageForTests } from './support.mjs';

const opened = libraryPageForTests();

const inPage = (fn, arg) => opened.page.evaluate(fn, arg);

/** CRC-64/XZ, bit by bit from its definition (reflected poly 0xC96C5795D7870F42, init and xorout all ones). */
function referenceCrc64(chunks) {
  const poly = 0xc96c5795d7870f42n;
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    return c;
  });
  // Two 32-bit halves per entry: BigInt per byte would take minutes for 256 MiB.
  const lo = Uint32Array.from(table, (c) => Number(c & 0xffffffffn));
  const hi = Uint32Array.from(table, (c) => Number(c >> 32n));
  let cl = 0xffffffff;
  let ch = 0xffffffff;
  for (const bytes of chunks) {
    for (let i = 0; i < bytes.length; i++) {
      const index = (cl ^ bytes[i]) & 0xff;
      cl = ((cl >>> 8) | (ch << 24)) ^ lo[index];
      ch = (ch >>> 8) ^ hi[index];
    }
  }
  return (((BigInt((ch ^ 0xffffffff) >>> 0)) << 32n) | BigInt((cl ^ 0xffffffff) >>> 0)).toString();
}

test('digests: the CRC-64/XZ check value, and SHA-256 and MD5 equal Node\'s', async () => {
  const text = '123456789';
  const d = await inPage(async (text) => window.t.integrity().digest(new Blob([text])), text);
  assert.equal(d.crc64, '11051210869376104954');
  assert.equal(referenceCrc64([Buffer.from(text)]), '11051210869376104954', 'the reference agrees');
  assert.equal(d.sha256, createHash('sha256').update(text).digest('hex'));
  assert.equal(d.md5, createHash('md5').update(text).digest('hex'));
  assert.equal(d.md5Base64, createHash('md5').update(text).digest('base64'));
  const empty = await inPage(async () => window.t.integrity().digest(new Blob([])));
  assert.equal(empty.crc64, '0');
  assert.equal(empty.sha256, createHash('sha256').digest('hex'));
});

test('the CRC-64 of a 256 MiB file equals a reference implementation, with flat wasm memory', async () => {
  // 256 MiB: one pseudo-random MiB, each copy with its index in the first 4 bytes.
  const mib = new Uint8Array(1 << 20);
  for (let i = 0, x = 2463534242; i < mib.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    mib[i] = x & 0xff;
  }
  const copies = Array.from({ length: 256 }, (_, n) => {
    const copy = Uint8Array.from(mib);
    new DataView(copy.buffer).setUint32(0, n);
    return copy;
  });
  const expected = referenceCrc64(copies);
  const r = await inPage(async (seed) => {
    const mib = new Uint8Array(seed);
    const parts = Array.from({ length: 256 }, (_, n) => {
      const copy = Uint8Array.from(mib);
      new DataView(copy.buffer).setUint32(0, n);
      return copy;
    });
    const blob = new Blob(parts);
    // On the main thread, where its memory can be watched; and in a worker (the default).
    const module = window.t.integrity({ worker: false });
    const memory = await module.ready();
    const before = memory.buffer.byteLength;
    const { crc64 } = await module.digest(new Blob([blob.slice(0, 1 << 20)])); // warm: one chunk
    const warm = memory.buffer.byteLength;
    const whole = await module.digest(blob, ['crc64']);
    const after = memory.buffer.byteLength;
    const inWorker = await window.t.integrity().digest(blob, ['crc64']);
    return { before, warm, after, crc64: whole.crc64, worker: inWorker.crc64, size: blob.size, first: crc64 };
  }, Array.from(mib));
  assert.equal(r.size, 256 * 1024 * 1024);
  assert.equal(r.crc64, expected);
  assert.equal(r.worker, expected, 'the same in the worker');
  assert.equal(r.after, r.warm, `wasm memory grew while hashing 256 MiB: ${r.warm} → ${r.after}`);
  assert.ok(r.after <= r.before + 2 * (1 << 20) + 65536, `one chunk at most: ${r.before} → ${r.after}`);
});

test('an upload whose CRC header the page can read is verified, by fetch and by XHR', async () => {
  await faults({});
  const r = await inPage(async () => {
    const { client, integrity, pattern } = window.t;
    const storage = client({ integrity: integrity() });
    const file = new Blob([pattern(300000)]);
    const plain = await storage.upload(file, 'i/verified.bin');
    const progress = await storage.upload(file, 'i/verified-xhr.bin', { onProgress: () => {} });
    const { crc64 } = await integrity().digest(file);
    return { plain, progress, crc64 };
  });
  for (const result of [r.plain, r.progress]) {
    assert.equal(result.integrity, 'verified');
    assert.equal(result.integrityReason, undefined);
    assert.equal(result.crc64, r.crc64);
    assert.equal(result.size, 300000);
  }
});

test('a body corrupted in flight is INTEGRITY_MISMATCH, and deleted when asked', async () => {
  const r = await inPage(async () => {
    const { client, integrity, pattern, faults, describe } = window.t;
    const caught = async (storage, path) => {
      await faults({ corrupt_next: 1 });
      try {
        await storage.upload(new Blob([pattern(5000)]), path);
        return null;
      } catch (e) {
        return { ...describe(e), fileId: e.fileId, deleted: e.deleted, expected: e.expected, actual: e.actual };
      } finally {
        await faults({});
      }
    };
    const storage = client({ integrity: integrity({ deleteOnMismatch: true }) });
    const deleted = await caught(storage, 'i/corrupt.bin');
    const kept = await caught(client({ integrity: integrity() }), 'i/corrupt-kept.bin');
    const links = await storage.getTempFileUrls([deleted.fileId, kept.fileId]);
    const { crc64 } = await integrity().digest(new Blob([pattern(5000)]));
    return { deleted, kept, crc64, links: links.map((l) => l.ok || l.error.code) };
  });
  for (const e of [r.deleted, r.kept]) {
    assert.equal(e.code, 'INTEGRITY_MISMATCH');
    assert.ok(e.isStorageError);
    assert.equal(e.expected, r.crc64, 'ours is the CRC of what was sent');
    assert.notEqual(e.actual, r.crc64);
    assert.match(e.message, new RegExp(`CRC-64 ${e.actual}, but ${r.crc64} was sent`));
  }
  assert.equal(r.deleted.deleted, true);
  assert.match(r.deleted.message, /The object was deleted/);
  assert.equal(r.kept.deleted, false);
  assert.match(r.kept.message, /Delete it and upload again/);
  assert.deepEqual(r.links, ['NOT_FOUND', true], 'the deleted one is gone, the kept one is there');
});

test('a CRC header hidden by CORS or absent is unverifiable, never a failure; the server verifies anyway', async () => {
  const r = await inPage(async () => {
    const { client, integrity, pattern, faults } = window.t;
    const header = client({ integrity: integrity() });
    const server = client({ integrity: integrity({ verify: 'server' }) });
    const file = new Blob([pattern(70000)]);
    const out = {};
    for (const mode of ['hidden', 'absent']) {
      await faults({ crc_header: mode });
      out[mode] = {
        fetch: await header.upload(file, `i/${mode}.bin`),
        xhr: await header.upload(file, `i/${mode}-xhr.bin`, { onProgress: () => {} }),
        server: await server.upload(file, `i/${mode}-server.bin`),
      };
    }
    await faults({ crc_header: 'hidden', corrupt_next: 1 });
    try {
      await server.upload(file, 'i/hidden-server-corrupt.bin');
      out.serverMismatch = null;
    } catch (e) {
      out.serverMismatch = e.code;
    }
    await faults({});
    return out;
  });
  for (const mode of ['hidden', 'absent']) {
    for (const path of ['fetch', 'xhr']) {
      const result = r[mode][path];
      assert.equal(result.integrity, 'unverifiable', `${mode} ${path}`);
      // A cross-origin page cannot tell a hidden header from a missing one.
      assert.equal(result.integrityReason, 'header-not-exposed', `${mode} ${path}`);
      assert.match(result.crc64, /^\d+$/);
    }
  }
  assert.equal(r.hidden.server.integrity, 'verified', 'the backend reads the CRC with no CORS in the way');
  assert.equal(r.absent.server.integrity, 'unverifiable');
  assert.equal(r.absent.server.integrityReason, 'header-absent');
  assert.equal(r.serverMismatch, 'INTEGRITY_MISMATCH');
});

test('a content-addressed key is uploaded once; the same bytes of two users are two objects', async () => {
  const r = await inPage(async () => {
    const { client, integrity, pattern, stats } = window.t;
    // Bytes of this run only: the store may hold earlier runs' objects.
    const nonce = () => crypto.getRandomValues(new Uint8Array(16));
    const file = new File([pattern(12345), nonce()], 'Photo.JPG');
    const demo = client({ integrity: integrity() });
    const other = client({ integrity: integrity() }, { token: 'demo2-token' });
    const before = (await stats()).uploads;
    const first = await demo.upload(file, 'ca/{sha256}{ext}');
    const second = await demo.upload(file, 'ca/{sha256}{ext}');
    const many = await demo.uploadMany([{ file, path: 'ca/{sha256}{ext}' }, { file: new Blob([nonce()]), path: 'ca/{crc64}-{name}' }]);
    const theirs = await other.upload(file, 'ca/{sha256}{ext}');
    const uploads = (await stats()).uploads - before;
    const bad = await demo.upload(file, 'ca/{sha1}').catch((e) => e.code);
    const { sha256 } = await integrity().digest(file);
    return { first, second, many, theirs, uploads, bad, sha256 };
  });
  assert.equal(r.first.key, `users/demo/ca/${r.sha256}.jpg`);
  assert.equal(r.first.skipped, undefined);
  assert.equal(r.first.integrity, 'verified');
  assert.equal(r.second.skipped, 'exists');
  assert.equal(r.second.fileId, r.first.fileId);
  assert.equal(r.second.key, r.first.key);
  assert.equal(r.many[0].skipped, 'exists');
  assert.equal(r.many[1].ok, true);
  assert.match(r.many[1].key, /^users\/demo\/ca\/\d+-$/);
  assert.equal(r.theirs.key, `users/demo2/ca/${r.sha256}.jpg`, 'in its own folder');
  assert.equal(r.theirs.skipped, undefined, 'another user\'s copy never counts');
  assert.notEqual(r.theirs.fileId, r.first.fileId);
  assert.equal(r.uploads, 3, 'first, the small one, and the other user\'s');
  assert.equal(r.bad, 'INVALID_ARGUMENT');
});

test('Content-MD5: a body that arrives intact is stored; one corrupted in flight is refused by COS', async () => {
  const r = await inPage(async () => {
    const { client, integrity, pattern, faults, rejection, stats } = window.t;
    const storage = client({ integrity: integrity({ contentMd5: true }), retries: 0 });
    const ok = await storage.upload(new Blob([pattern(4096)]), 'i/md5.bin');
    const before = (await stats()).uploads;
    await faults({ corrupt_next: 1 });
    const refused = await rejection(storage.upload(new Blob([pattern(4096)]), 'i/md5-corrupt.bin'));
    await faults({});
    return { ok, refused, stored: (await stats()).uploads - before };
  });
  assert.equal(r.ok.integrity, 'verified');
  assert.equal(r.refused.code, 'UPLOAD_REJECTED');
  assert.equal(r.refused.cosCode, 'BadDigest');
  assert.equal(r.stored, 0, 'nothing stored');
});

test('bad integrity options are INVALID_ARGUMENT naming the option', async () => {
  const codes = await inPage(() => {
    const { integrity, thrown } = window.t;
    return [{ verify: 'maybe' }, { contentMd5: 'yes' }, { colour: 1 }].map((o) => thrown(() => integrity(o)).message);
  });
  assert.match(codes[0], /verify must be 'header' or 'server'/);
  assert.match(codes[1], /contentMd5 must be true or false/);
  assert.match(codes[2], /unknown option colour/);
});

test('hashing runs in a worker where the page allows one, and on the main thread where it does not', async () => {
  const r = await inPage(async () => {
    const { integrity, pattern } = window.t;
    const RealWorker = window.Worker;
    const file = new Blob([pattern(200000)]);
    let made = 0;
    window.Worker = class extends RealWorker {
      constructor(...args) {
        super(...args);
        made++;
      }
    };
    try {
      const inWorker = integrity();
      const a = await inWorker.digest(file);
      const b = await inWorker.digest(file);
      // A page whose CSP refuses blob: workers: the constructor throws.
      window.Worker = class {
        constructor() {
          throw new DOMException('refused by the Content-Security-Policy', 'SecurityError');
        }
      };
      const refused = await integrity().digest(file);
      const main = await integrity({ worker: false }).digest(file);
      return { made, same: [b, refused, main].every((d) => JSON.stringify(d) === JSON.stringify(a)), a };
    } finally {
      window.Worker = RealWorker;
    }
  });
  assert.equal(r.made, 1, 'one worker, reused');
  assert.ok(r.same, 'every way gives the same digests');
  assert.equal(r.a.sha256, createHash('sha256').update(Buffer.from(Array.from({ length: 200000 }, (_, i) => (i * 7) % 251))).digest('hex'));
});

// One upload, one report: against a backend that limits sizes (so it asks for a report) with
// `verify: 'server'` (which reports the CRC-64), the library used to post /verify twice. The
// requests are counted where they leave the page: the browser's resource timing entries.
test('with limits on the backend and verify: server, an upload makes one POST /verify', async () => {
  const r = await inPage(async () => {
    const { strictClient, integrity, blob } = window.t;
    const calls = { n: 0 };
    const storage = strictClient('verify-token', calls, { integrity: integrity({ verify: 'server' }) });
    performance.clearResourceTimings();
    const result = await storage.upload(blob(600), 'v/one.bin', { contentType: 'application/octet-stream' });
    const sent = performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname);
    return { verifies: sent.filter((path) => path.endsWith('/verify')).length, calls: calls.n, integrity: result.integrity };
  });
  assert.equal(r.integrity, 'verified', 'the report was answered with the verdict');
  assert.equal(r.verifies, 1, 'one report per upload');
  assert.equal(r.calls, 2, 'upload-credentials, then verify: nothing else');
});
