// The integrity module's logic, the same on every platform (wx-cloud-storage/integrity in
// browsers, its mini program build): options, key templates, skipping what exists, the
// verdict. The platform module gives it the digests (`platform.hash(file, which)`: raw
// bytes, CRC-64 (8, big-endian) then SHA-256 (32) then MD5 (16), those asked for) and a
// file's name (`platform.name(file)`).
import { StorageError } from './storage-error.js';
import { invalid } from './options.js';

export const CRC64 = 1;
export const SHA256 = 2;
export const MD5 = 4;
/** Bytes hashed at a time (the one buffer in wasm memory). */
export const CHUNK = 1 << 20;
const TOKENS = { sha256: SHA256, crc64: CRC64, md5: MD5, ext: 0, name: 0 };
const VERIFY = ['header', 'server'];

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// (No btoa in mini programs.)
function base64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    out += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + (i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? BASE64[n & 63] : '=');
  }
  return out;
}

/**
 * The raw digests (`which`: CRC64 | SHA256 | MD5) by the wasm's exports `w` of the bytes
 * that `next()` gives (a Uint8Array at a time, undefined at the end), fed `chunk` bytes at
 * a time. Self-contained (it names nothing outside itself), so the browser's hashing
 * worker runs the same source.
 */
export async function hashChunks(w, which, next, chunk) {
  const handle = w.begin(which);
  let open = true;
  try {
    for (let value = await next(); value; value = await next()) {
      for (let at = 0; at < value.length; at += chunk) {
        const piece = value.subarray(at, at + chunk);
        // Always the one buffer of `chunk` bytes (allocated once, so memory stays flat), its
        // address asked before the view is made: growing memory detaches older views.
        const into = w.chunk(chunk);
        new Uint8Array(w.memory.buffer, into, piece.length).set(piece);
        w.update(handle, piece.length);
      }
    }
    const length = w.finish(handle);
    open = false;
    return new Uint8Array(w.memory.buffer, w.chunk(0), length).slice();
  } finally {
    if (open) w.finish(handle);
  }
}

/** The u64 `hi` × 2³² + `lo` in decimal, without BigInt (older iOS WeChat lacks it). */
function decimal(hi, lo) {
  let out = '';
  do {
    // One long-division step by 10: the remainder of `hi` carries into `lo` (< 10 × 2³², exact).
    const carried = (hi % 10) * 4294967296 + lo;
    hi = Math.floor(hi / 10);
    lo = Math.floor(carried / 10);
    out = (carried % 10) + out;
  } while (hi || lo);
  return out;
}

/** The digests named by `which` from their raw bytes (see the top of this file). */
async function digestsOf(hash, file, which) {
  const out = await hash(file, which);
  const result = {};
  let at = 0;
  if (which & CRC64) {
    const view = new DataView(out.buffer, out.byteOffset, 8);
    result.crc64 = decimal(view.getUint32(0), view.getUint32(4));
    at = 8;
  }
  if (which & SHA256) result.sha256 = hex(out.subarray(at, (at += 32)));
  if (which & MD5) {
    const md5 = out.subarray(at, at + 16);
    result.md5 = hex(md5);
    result.md5Base64 = base64(md5);
  }
  return result;
}

/** `name` split at its last dot: `{ name, ext }` (ext with the dot, lower case). */
function nameParts(full) {
  const dot = full.lastIndexOf('.');
  return dot > 0 ? { name: full.slice(0, dot), ext: full.slice(dot).toLowerCase() } : { name: full, ext: '' };
}

/** The digests a key template needs (0: none, for a plain key or only `{ext}`/`{name}`), checking its tokens. */
function templateNeeds(path) {
  if (typeof path !== 'string') return 0;
  let needs = 0;
  // (replace as a loop over the tokens: older mini program engines lack matchAll)
  path.replace(/\{([^{}]*)\}/g, (_, token) => {
    if (!(token in TOKENS)) {
      throw invalid(`key template ${JSON.stringify(path)}: unknown token {${token}}; the tokens are {sha256}, {crc64}, {md5}, {ext} and {name}`);
    }
    needs |= TOKENS[token];
    return '';
  });
  return needs;
}

/**
 * The integrity module for a StorageClient's `integrity` option, over `platform`. Options
 * (`extraOptions` are the platform's own, checked by it):
 * - `verify`: 'header' (default) reads COS's `x-cos-hash-crc64ecma` from the upload's
 *   answer (a browser can only if the bucket's CORS exposes it); 'server' asks the
 *   backend (`POST {endpoint}/verify` with `crc64`), which reads the stored object's
 *   CRC-64 with no CORS in the way: one more backend call per file.
 * - `deleteOnMismatch` (default false): delete an object whose CRC-64 differs before
 *   raising INTEGRITY_MISMATCH.
 * - `contentMd5` (default false): send `Content-MD5` in the form, so COS refuses a
 *   corrupted body (400 BadDigest) before storing it. Costs a full MD5 pass before sending.
 * - `skipExisting` (default true): a key made from the content (`{sha256}`, `{crc64}` or
 *   `{md5}` in the path) that already exists is not uploaded again (`skipped: 'exists'`).
 */
export function makeIntegrity(options, extraOptions, platform) {
  if (typeof options !== 'object' || options === null) throw invalid('integrity(options): options must be an object');
  const known = ['verify', 'deleteOnMismatch', 'contentMd5', 'skipExisting', ...extraOptions];
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw invalid(`integrity options: unknown option ${name}; the options are ${known.join(', ')}`);
  }
  const { verify = 'header', deleteOnMismatch = false, contentMd5 = false, skipExisting = true } = options;
  if (!VERIFY.includes(verify)) throw invalid(`integrity options: verify must be 'header' or 'server'`);
  for (const [name, value] of Object.entries({ deleteOnMismatch, contentMd5, skipExisting })) {
    if (typeof value !== 'boolean') throw invalid(`integrity options: ${name} must be true or false`);
  }
  const hash = platform.hash;
  return {
    /** Loads the wasm now (else on first use); its memory, which holds one chunk at most. */
    ready: platform.ready,

    /**
     * Digests of a file, in one pass: `{ crc64, sha256, md5, md5Base64 }`, or only those
     * named in `names` (of 'crc64', 'sha256', 'md5').
     */
    digest: async (file, names = ['crc64', 'sha256', 'md5']) => {
      platform.check(file);
      let which = 0;
      for (const name of Array.isArray(names) ? names : [names]) {
        if (!TOKENS[name]) throw invalid(`digest(file, names): unknown digest ${name}; the digests are crc64, sha256 and md5`);
        which |= TOKENS[name];
      }
      return digestsOf(hash, file, which);
    },
    /** One upload (StorageClient calls this for upload() and each uploadMany() item). */
    async upload(client, file, path, contentType, signal, progress) {
      const needs = templateNeeds(path);
      // Fail on a bad file (and a bad plain key) before any hashing; a template's key is
      // checked once it is expanded.
      const template = typeof path === 'string' && path.includes('{');
      const checked = client._target(file, template ? 'x' : path);
      const before = needs | (contentMd5 ? MD5 : 0);
      // What must be known before the form can be sent: digests in the key or Content-MD5.
      const early = before ? await digestsOf(hash, file, before | CRC64) : undefined;
      const key = typeof path === 'string' ? expand(path, () => platform.name(file), early) : path;
      const info = template ? client._target(file, key) : checked;
      if (needs && skipExisting) {
        const [found] = (await client._backend('exists', { paths: [key] }, signal)).file_list || [];
        if (found && found.exists) {
          return { fileId: found.fileid, key: found.key, size: info.size, crc64: early.crc64, skipped: 'exists' };
        }
      }
      // Hashed alongside the upload when nothing needed it first.
      const crc = early ? Promise.resolve(early) : digestsOf(hash, file, CRC64);
      crc.catch(() => {});
      const extra = { fields: contentMd5 ? [['Content-MD5', early.md5Base64]] : undefined };
      const uploaded = await client._upload(file, info, key, contentType, signal, progress, extra);
      const { crc64 } = await crc;
      const verdict = verify === 'server'
        ? (await client._backend('verify', { file_id: uploaded.fileId, crc64 }, signal)).integrity || {}
        : fromHeader(extra.answer, crc64);
      if (verdict.verdict === 'mismatch') {
        let deleted = false;
        if (deleteOnMismatch) [{ ok: deleted }] = await client.delete([uploaded.fileId]);
        const error = new StorageError('INTEGRITY_MISMATCH', `${uploaded.key}: the storage holds CRC-64 ${verdict.crc64}, but ${crc64} was sent: the bytes changed on the way. ${deleted ? 'The object was deleted; upload it again' : 'Delete it and upload again'}`);
        Object.assign(error, { fileId: uploaded.fileId, key: uploaded.key, expected: crc64, actual: verdict.crc64, deleted });
        throw error;
      }
      const result = { ...uploaded, crc64, integrity: verdict.verdict === 'verified' ? 'verified' : 'unverifiable' };
      if (result.integrity === 'unverifiable') result.integrityReason = verdict.reason || 'header-absent';
      return result;
    },
  };
}

/** The verdict from COS's accepting answer: its CRC-64 header against ours. */
function fromHeader(answer, crc64) {
  const theirs = answer && answer.crc;
  if (!theirs) return { verdict: 'unverifiable', reason: answer && answer.cors ? 'header-not-exposed' : 'header-absent' };
  return { verdict: theirs === crc64 ? 'verified' : 'mismatch', crc64: theirs };
}

/** A key template with its tokens replaced (`nameOf()`: the file's name, asked only for `{ext}`/`{name}`). */
function expand(path, nameOf, digests) {
  let parts;
  return path.replace(/\{(sha256|crc64|md5|ext|name)\}/g, (_, token) => {
    if (token !== 'ext' && token !== 'name') return digests[token];
    parts = parts || nameParts(nameOf());
    return parts[token];
  });
}
