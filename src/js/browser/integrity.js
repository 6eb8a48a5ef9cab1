// `wx-cloud-storage/integrity` in browsers: did the bytes arrive intact, and is this file
// already there? An optional module with its own small wasm (the integrity/ crate:
// CRC-64/XZ, SHA-256, MD5), so the base package never carries it. The logic is
// ./integrity-core.js; this file loads the wasm and hashes Blobs, in a worker where the page
// allows one.
//
//   import { integrity } from 'wx-cloud-storage/integrity';
//   const storage = new StorageClient({ endpoint, integrity: integrity({ verify: 'server' }) });
//   const { crc64, integrity: verdict } = await storage.upload(file, 'photos/{sha256}{ext}');
import { StorageError } from '../shared/storage-error.js';
import { CHUNK, hashChunks, makeIntegrity } from '../shared/integrity-core.js';
import { invalid } from '../shared/options.js';
import { offMainThread } from './worker.js';

let loading;

/** Loads the digests' wasm once (`source`: a URL, Response, bytes or WebAssembly.Module): `{ module, exports }`. */
function load(source = new URL('./wx_cloud_storage_integrity.wasm', import.meta.url)) {
  loading ??= (async () => {
    let input = source;
    if (typeof input === 'string' || input instanceof URL) input = fetch(input);
    input = await input;
    if (typeof Response === 'function' && input instanceof Response) {
      if (!input.ok) {
        throw new StorageError('NETWORK', `could not load the integrity wasm from ${input.url} (${input.status}): serve wx_cloud_storage_integrity.wasm beside the bundle, or pass its URL as integrity({ wasm })`);
      }
      input = await input.arrayBuffer();
    }
    const module = input instanceof WebAssembly.Module ? input : await WebAssembly.compile(input);
    return { module, exports: (await WebAssembly.instantiate(module, {})).exports };
  })().catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** A Blob's bytes for hashChunks: its stream, a chunk at a time. Self-contained, like hashChunks. */
function blobReader(blob) {
  const reader = blob.stream().getReader();
  return async () => {
    const { done, value } = await reader.read();
    return done ? undefined : value;
  };
}

/** Hashes in the worker: its wasm instantiated once, from the module it is sent. */
async function hashInWorker({ module, blob, which, chunk }) {
  self.digests = self.digests || (await WebAssembly.instantiate(module, {})).exports;
  return hashChunks(self.digests, which, blobReader(blob), chunk);
}

/**
 * Hashes off the main thread where the page allows a worker from a blob: URL (a strict
 * Content-Security-Policy may not; then, and where there are no workers, on the main
 * thread, a chunk at a time, which never blocks it for long).
 */
function hasher(wasm, useWorker) {
  const onMain = async ({ blob, which }) => hashChunks((await wasm()).exports, which, blobReader(blob), CHUNK);
  const run = offMainThread(hashInWorker, [hashChunks, blobReader], onMain, useWorker);
  return async (blob, which) => run({ module: (await wasm()).module, blob, which, chunk: CHUNK });
}

/**
 * The integrity module for `new StorageClient({ integrity: integrity() })`: every upload's
 * CRC-64 with a verdict, key templates, skipping what exists (see ./integrity-core.js for
 * the options). Browser options:
 * - `worker` (default true): hash in a worker (from a blob: URL) where the page allows
 *   one; false, or a page whose CSP refuses it, hashes on the main thread a chunk at a time.
 * - `wasm`: where the digests' wasm comes from (default: beside this module).
 */
export function integrity(options = {}) {
  const worker = options && options.worker !== undefined ? options.worker : true;
  if (typeof worker !== 'boolean') throw invalid('integrity options: worker must be true or false');
  const wasm = () => load(options && options.wasm);
  return makeIntegrity(options, ['worker', 'wasm'], {
    hash: hasher(wasm, worker),
    ready: () => wasm().then(({ exports }) => exports.memory),
    name: (file) => (typeof file.name === 'string' ? file.name : ''),
    check(file) {
      if (typeof Blob === 'undefined' || !(file instanceof Blob)) throw invalid('digest(blob): blob must be a Blob or File');
    },
  });
}
