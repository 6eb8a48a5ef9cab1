// The resumable module's logic, the same on every platform (wx-cloud-storage/resumable in
// browsers, its mini program build): a large file goes to COS in parts, through the
// backend's multipart calls (POST {endpoint}/multipart, …/part, …/parts, …/complete), a
// few parts in flight, each retried on its own; an upload cut short (a dropped connection,
// a paused upload, a reload, an app restart) continues from the parts COS already holds.
//
// What is needed to continue is kept in the platform's storage (`platform.store`:
// localStorage, wx.setStorageSync) under the file's identity: its size, name,
// modification time and a CRC-64 of three 64 KiB samples (start, middle, end), so a
// different file with the same name and size does not continue another's upload. Each
// part's CRC-64 is computed here and checked against the one COS answers for it.
//
// The platform gives: `slice(file, start, end)` (those bytes, a Uint8Array: a part, or a
// sample for the identity), `name(file)`, `modified(file)`, `put(url, headers, part,
// { signal, stallMs, onProgress })` (sends `part`, `{ file, start, end, bytes }`, as it
// sends best; an Outcome, with `crc`: COS's CRC-64 header) and `store` ({ get, set,
// remove } of strings, or null for none).
import { StorageError } from './storage-error.js';
import { invalid } from './options.js';
import { decimal } from './decimal.js';

const MIB = 1024 * 1024;
const SAMPLE = 64 * 1024;
const PREFIX = 'wx-cloud-storage:resumable:';

// CRC-64/XZ (ECMA-182, reflected, as COS's x-cos-hash-crc64ecma) in two 32-bit halves,
// without BigInt (older iOS WeChat lacks it), eight bytes a step ("slicing by 8": eight
// tables, TABLES[k] the CRC of a byte followed by k zero bytes). Every value stays a signed
// 32-bit integer (Int32Array, no `>>> 0` in the loop), which engines keep unboxed. In
// Chromium here: about 50 ms an 8 MiB part, where a byte at a time took 256 ms.
const TABLES = Array.from({ length: 8 }, () => [new Int32Array(256), new Int32Array(256)]);
for (let n = 0; n < 256; n++) {
  let lo = n;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const odd = lo & 1;
    lo = (lo >>> 1) | (hi << 31);
    hi >>>= 1;
    if (odd) {
      lo ^= 0xd7870f42;
      hi ^= 0xc96c5795;
    }
  }
  TABLES[0][0][n] = lo;
  TABLES[0][1][n] = hi;
}
for (let k = 1; k < 8; k++) {
  for (let n = 0; n < 256; n++) {
    const [lo, hi] = [TABLES[k - 1][0][n], TABLES[k - 1][1][n]];
    TABLES[k][0][n] = ((lo >>> 8) | (hi << 24)) ^ TABLES[0][0][lo & 0xff];
    TABLES[k][1][n] = (hi >>> 8) ^ TABLES[0][1][lo & 0xff];
  }
}
const [[L0, H0], [L1, H1], [L2, H2], [L3, H3], [L4, H4], [L5, H5], [L6, H6], [L7, H7]] = TABLES;

/** A running CRC-64/XZ: `update(bytes)` as often as needed, then `value()` in decimal. */
export function crc64() {
  let lo = -1;
  let hi = -1;
  return {
    update(bytes) {
      const whole = bytes.length - (bytes.length & 7);
      let i = 0;
      for (; i < whole; i += 8) {
        const a = lo ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
        const b = hi ^ (bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24));
        lo = L7[a & 0xff] ^ L6[(a >>> 8) & 0xff] ^ L5[(a >>> 16) & 0xff] ^ L4[a >>> 24]
          ^ L3[b & 0xff] ^ L2[(b >>> 8) & 0xff] ^ L1[(b >>> 16) & 0xff] ^ L0[b >>> 24];
        hi = H7[a & 0xff] ^ H6[(a >>> 8) & 0xff] ^ H5[(a >>> 16) & 0xff] ^ H4[a >>> 24]
          ^ H3[b & 0xff] ^ H2[(b >>> 8) & 0xff] ^ H1[(b >>> 16) & 0xff] ^ H0[b >>> 24];
      }
      for (; i < bytes.length; i++) {
        const at = (lo ^ bytes[i]) & 0xff;
        lo = ((lo >>> 8) | (hi << 24)) ^ L0[at];
        hi = (hi >>> 8) ^ H0[at];
      }
    },
    value: () => decimal(~hi >>> 0, ~lo >>> 0),
  };
}

/** The options, checked: `{ threshold, concurrency, store }`. */
function settingsOf(options) {
  if (options === null || typeof options !== 'object') throw invalid('resumable(options): options must be an object');
  const known = ['threshold', 'concurrency', 'store'];
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw invalid(`resumable options: unknown option ${name}; the options are ${known.join(', ')}`);
  }
  const { threshold = 32 * MIB, concurrency = 3, store = true } = options;
  if (!Number.isInteger(threshold) || threshold < MIB) throw invalid('resumable options: threshold must be a whole number of bytes, at least 1 MiB (1048576)');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 6) throw invalid('resumable options: concurrency must be a whole number from 1 to 6');
  const custom = store && typeof store === 'object';
  if (typeof store !== 'boolean' && !(custom && ['get', 'set', 'remove'].every((m) => typeof store[m] === 'function'))) {
    throw invalid('resumable options: store must be true, false, or an object with get, set and remove');
  }
  return { threshold, concurrency, store: custom ? store : store ? undefined : null };
}

/** Reads a stored record (or undefined), never throwing. */
function read(store, name) {
  try {
    const text = store && store.get(name);
    return text ? JSON.parse(text) : undefined;
  } catch (_) {
    return undefined;
  }
}

function write(store, name, value) {
  try {
    if (!store) return;
    if (value === undefined) store.remove(name);
    else store.set(name, JSON.stringify(value));
  } catch (_) { /* a full or absent store only loses the chance to resume */ }
}

/**
 * The resumable module for `new StorageClient({ resumable: resumable() })`. Options:
 * - `threshold` (default 32 MiB): files at least this large go by parts; smaller ones, and
 *   every file when the backend cannot start a multipart upload (it answers 404: it runs
 *   outside 开放接口服务), go by the one POST. The result's `via` says which: 'parts' or
 *   'post'; by parts, `resumedParts` says how many COS already held.
 * - `concurrency` (default 3, at most 6): parts in flight at once.
 * - `store` (default true: the platform's storage): where what is needed to resume is kept;
 *   false keeps nothing (an upload resumes only within one call), or `{ get, set, remove }`.
 * Pausing is aborting the upload's signal: the parts sent stay at COS, and the next upload
 * of the same file to the same path continues from them. `discard(file, path)` gives one up
 * for good (COS drops its parts).
 */
export function makeResumable(options = {}, platform) {
  const settings = settingsOf(options);
  const store = settings.store === undefined ? platform.store : settings.store;
  let client;

  // The stored name of `file` going to `path` through this client's endpoint.
  async function identity(file, path, size) {
    const crc = crc64();
    for (const at of [0, Math.max(0, Math.floor(size / 2) - SAMPLE / 2), Math.max(0, size - SAMPLE)]) {
      crc.update(await platform.slice(file, at, Math.min(size, at + SAMPLE)));
    }
    const parts = [client.endpoint, path, size, platform.name(file), platform.modified(file), crc.value()];
    return PREFIX + JSON.stringify(parts);
  }

  return {
    /** Called by the StorageClient it is given to, with what it needs of it. */
    attach(own) {
      client = own;
    },

    /** Gives up the stored upload of `file` to `path`, if there is one: COS drops its parts. */
    async discard(file, path) {
      if (!client) throw invalid('discard(file, path): give this module to a StorageClient first');
      const info = client.transport.fileInfo(file);
      if (!info) throw invalid('discard(file, path): file must be ' + client.transport.FILE_KINDS);
      const name = await identity(file, path, info.size);
      const record = read(store, name);
      write(store, name, undefined);
      if (!record) return false;
      await client.call('multipart/abort', { uploadId: record.uploadId }).catch((error) => {
        if (error.code !== 'NOT_FOUND') throw error;
      });
      return true;
    },

    // The upload pipeline's send step (../shared/client.js): by parts, or undefined for
    // the one POST.
    async send(job, progress) {
      const size = job.info.size;
      if (size < settings.threshold) {
        job.result.via = 'post';
        return undefined;
      }
      const sent = await sendParts(job, progress, await identity(job.file, job.path, size));
      job.result.via = sent ? 'parts' : 'post';
      return sent;
    },
  };

  // The upload to send `job`'s file by, and the parts COS already holds of it: the stored
  // one if COS still has it, else a new one; undefined when the backend cannot do parts.
  async function openUpload(job, name) {
    const size = job.info.size;
    const stored = read(store, name);
    if (stored) {
      try {
        return { upload: stored, held: (await job.call('multipart/parts', { uploadId: stored.uploadId })).parts || [] };
      } catch (error) {
        if (error.code !== 'NOT_FOUND') throw error;
      }
    }
    let upload;
    try {
      const contentType = job.contentType || job.info.type || undefined;
      upload = await job.call('multipart', { path: job.path, size, contentType });
    } catch (error) {
      if (error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
    write(store, name, { uploadId: upload.uploadId, key: upload.key, fileId: upload.fileId, partSize: upload.partSize, size });
    return { upload, held: [] };
  }

  // The whole upload by parts, continuing a stored one if COS still has it.
  async function sendParts(job, progress, name) {
    const { signal } = job;
    const size = job.info.size;
    const opened = await openUpload(job, name);
    if (!opened) return undefined;
    const { upload, held } = opened;
    const count = Math.max(1, Math.ceil(size / upload.partSize));
    const lengthOf = (n) => (n < count ? upload.partSize : size - upload.partSize * (count - 1));
    const done = new Set(held.filter((p) => p.size === lengthOf(p.partNumber)).map((p) => p.partNumber));
    job.result.resumedParts = done.size;
    const inFlight = new Map();
    let sentBytes = 0;
    for (const n of done) sentBytes += lengthOf(n);
    const report = () => {
      if (!progress) return;
      let loaded = sentBytes;
      for (const bytes of inFlight.values()) loaded += bytes;
      progress({ loaded: Math.min(loaded, size), total: size, phase: 'sending' });
    };
    report();
    const queue = [];
    for (let n = 1; n <= count; n++) if (!done.has(n)) queue.push(n);
    const worker = async () => {
      while (queue.length) {
        const n = queue.shift();
        try {
          await sendPart(job, upload, n, upload.partSize * (n - 1), lengthOf(n), (bytes) => {
            inFlight.set(n, bytes);
            report();
          });
        } catch (error) {
          // The first failure (after the part's own retries) ends the upload: no new part
          // starts, and the parts sent stay at COS for the next try.
          queue.length = 0;
          throw error;
        }
        inFlight.delete(n);
        sentBytes += lengthOf(n);
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(settings.concurrency, queue.length) }, worker));
    if (signal && signal.aborted) throw abortError();
    if (progress) progress({ loaded: size, total: size, phase: 'waiting' });
    const completed = await job.call('multipart/complete', { uploadId: upload.uploadId });
    write(store, name, undefined);
    return {
      fileId: completed.fileId,
      key: completed.key,
      size,
      answer: { status: 200, body: '', crc: completed.crc64 || null, cors: false },
    };
  }

  // One part: signed by the backend, sent, its CRC-64 checked; retried on its own (a fresh
  // signature each time) while the client's retry rules allow.
  async function sendPart(job, upload, number, start, length, moved) {
    const { signal } = job;
    const bytes = await platform.slice(job.file, start, start + length);
    const part = { file: job.file, start, end: start + length, bytes };
    let expected;
    for (let retry = 0; ;) {
      if (signal && signal.aborted) throw abortError();
      const signed = await job.call('multipart/part', { uploadId: upload.uploadId, partNumber: number });
      const sending = platform.put(signed.url, signed.headers, part, {
        signal, stallMs: client.timeoutMs, onProgress: ({ loaded }) => moved(loaded),
      });
      if (expected === undefined) {
        // While the part is on its way (the platform sends it off this thread).
        const crc = crc64();
        crc.update(bytes);
        expected = crc.value();
      }
      const outcome = await sending;
      try {
        const { status, body: text } = client.answered(signed.url, outcome);
        if (status < 200 || status > 299) throw partFailure(number, status, text);
        if (outcome.crc && outcome.crc !== expected) {
          throw Object.assign(new StorageError('INTEGRITY_MISMATCH', `part ${number}: COS holds CRC-64 ${outcome.crc}, but ${expected} was sent`), { status: 0 });
        }
        return;
      } catch (error) {
        moved(0);
        // A corrupted part is sent again, as a dropped one is.
        const retryable = error.code === 'INTEGRITY_MISMATCH' ? Object.assign(new StorageError('SERVER', error.message), { status: 500 }) : error;
        try {
          await client.backoff(retryable, ++retry, signal);
        } catch (_) {
          throw error;
        }
      }
    }
  }
}

function abortError() {
  return new StorageError('ABORTED', 'the upload was paused or cancelled: the parts sent stay at COS, and uploading the same file to the same path again continues from them');
}

/** COS's refusal of a part (status and the XML's code). */
function partFailure(number, status, text) {
  const code = (/<Code>([^<]*)<\/Code>/.exec(text || '') || [])[1] || '';
  const error = new StorageError(status >= 500 ? 'SERVER' : 'UPLOAD_REJECTED', `part ${number}: COS answered ${status} ${code}`);
  error.status = status;
  return error;
}
