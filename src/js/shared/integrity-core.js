// The integrity module's logic, the same on every platform (wx-cloud-storage/integrity in
// browsers, its mini program build): options, key templates, skipping what exists, the
// verdict. The platform module gives it the digests (`platform.hash(file, which)`: raw
// bytes, CRC-64 (8, big-endian) then SHA-256 (32) then MD5 (16), those asked for) and a
// file's name (`platform.name(file)`).
import { StorageError } from './storage-error.js';
import { invalid } from './options.js';
import { decimal } from './decimal.js';

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

/** The module's options, checked, with their defaults (`extraOptions`: the platform's own, checked by it). */
function settingsOf(options, extraOptions) {
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
  return { verify, deleteOnMismatch, contentMd5, skipExisting };
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
  const { verify, deleteOnMismatch, contentMd5, skipExisting } = settingsOf(options, extraOptions);
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
    // The upload pipeline's steps (../shared/client.js): name the key, hash, skip what
    // exists, send Content-MD5; report the CRC-64; judge what the storage holds.
    async beforeSend(job) {
      const { file, path } = job;
      const needs = templateNeeds(path);
      // Fail on a bad file (and a bad plain key) before any hashing; a template's key is
      // checked once it is expanded.
      const template = typeof path === 'string' && path.includes('{');
      job.check(template ? 'x' : path);
      const before = needs | (contentMd5 ? MD5 : 0);
      // What must be known before the form can be sent: digests in the key or Content-MD5.
      const early = before ? await digestsOf(hash, file, before | CRC64) : undefined;
      if (template) job.check((job.path = expand(path, () => platform.name(file), early)));
      if (needs && skipExisting) {
        const [found] = (await job.call('exists', { paths: [job.path] })).file_list || [];
        if (found && found.exists) {
          job.done = { fileId: found.fileid, key: found.key, size: job.info.size, crc64: early.crc64, skipped: 'exists' };
          return;
        }
      }
      // Hashed alongside the upload when nothing needed it first.
      job.crc = early ? Promise.resolve(early) : digestsOf(hash, file, CRC64);
      job.crc.catch(() => {});
      if (contentMd5) job.fields.push(['Content-MD5', early.md5Base64]);
      job.wantCrc = true;
    },
    async report(job) {
      if (verify === 'server') job.report = { ...job.report, crc64: (await job.crc).crc64 };
    },
    async afterSend(job, sent) {
      const { crc64 } = await job.crc;
      const verdict = verify === 'server' ? (sent.verified && sent.verified.integrity) || {} : fromHeader(sent.answer, crc64);
      if (verdict.verdict === 'mismatch') {
        let deleted = false;
        if (deleteOnMismatch) deleted = ((await job.call('delete', { file_ids: [sent.fileId] })).delete_list || [])[0]?.status === 0;
        const error = new StorageError('INTEGRITY_MISMATCH', `${sent.key}: the storage holds CRC-64 ${verdict.crc64}, but ${crc64} was sent: the bytes changed on the way. ${deleted ? 'The object was deleted; upload it again' : 'Delete it and upload again'}`);
        Object.assign(error, { fileId: sent.fileId, key: sent.key, expected: crc64, actual: verdict.crc64, deleted });
        throw error;
      }
      const result = Object.assign(job.result, { crc64, integrity: verdict.verdict === 'verified' ? 'verified' : 'unverifiable' });
      if (result.integrity === 'unverifiable') result.integrityReason = verdict.reason || 'header-absent';
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
