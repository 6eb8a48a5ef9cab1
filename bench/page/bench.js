// The in-browser half of the bench: the same files uploaded by wx-cloud-storage, by
// hand-written fetch / XHR + FormData uploads (the way teams do it today), and by axios +
// FormData (as tutorials show it), to the same emulator from the same page. Like is
// compared with like: our default (fetch, no listeners) with hand-written uploads without
// listeners; our onProgress path (XHR) with a hand-written XHR that listens for progress.
import init, { StorageClient } from '/peers/wx-cloud-storage.js';
import axios from '/peers/axios.js';
import { integrity } from '/pkg/integrity.js';
import { createCRC64, createSHA256, jsCrc64 } from '/peers/hashing.js';

const AUTH = { Authorization: 'Bearer demo-token' };
const MIB = new Uint8Array(1024 * 1024);
for (let i = 0; i < MIB.length; i += 65536) crypto.getRandomValues(MIB.subarray(i, i + 65536));

let wasm;
const clients = {};
const CHECKED = new URLSearchParams(location.search).get('checked');
const ours = (concurrency, endpoint = '/api/storage', extra = {}) =>
  (clients[`${concurrency} ${endpoint} ${Object.keys(extra)}`] ??= new StorageClient({ endpoint, headers: AUTH, concurrency, ...extra }));
const digests = integrity();

/**
 * `n` files of `mib` MiB each (Blobs over one random MiB: no per-file generation cost),
 * made once per shape and reused: the browser copies every Blob's bytes into its blob
 * store, and a new 256 MiB Blob per run would exhaust it.
 */
const made = new Map();
const files = (n, mib) => {
  const key = `${n}x${mib}`;
  if (!made.has(key)) made.set(key, Array.from({ length: n }, () => new Blob(Array(mib).fill(MIB))));
  return made.get(key);
};

async function pool(items, concurrency, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function credentials(path, size) {
  const response = await fetch('/api/storage/upload-credentials', {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ path, size }),
  });
  if (!response.ok) throw new Error(`credentials: ${response.status}`);
  return response.json();
}

/** The upload form, in the order COS needs, `file` last. */
function form(link, file) {
  const data = new FormData();
  data.append('key', link.key);
  data.append('Signature', link.authorization);
  data.append('x-cos-security-token', link.token);
  data.append('x-cos-meta-fileid', link.cos_file_id);
  data.append('file', file);
  return data;
}

const xhrPost = (url, body, withProgress) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    if (withProgress) xhr.upload.onprogress = (e) => void e.loaded;
    xhr.open('POST', url);
    xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`COS ${xhr.status}`)));
    xhr.onerror = () => reject(new Error('network'));
    xhr.send(body);
  });

const fetchPost = async (url, body) => {
  const response = await fetch(url, { method: 'POST', body });
  if (response.status >= 300) throw new Error(`COS ${response.status}`);
};

async function oursWith(client, list, tag, options) {
  if (list.length === 1) return void (await client.upload(list[0], `bench/${tag}-0.bin`, options));
  const contentType = options?.contentType;
  const results = await client.uploadMany(list.map((file, i) => ({ file, path: `bench/${tag}-${i}.bin`, contentType })), options);
  const failed = results.find((r) => !r.ok);
  if (failed) throw failed.error;
}

// The floor of any check made in the page: each file read once more, as the integrity
// module reads it (blob.stream(), in a worker), but not hashed. On loopback that read's CPU
// is what integrity costs; the hash adds little to it.
const reader = new Worker(URL.createObjectURL(new Blob([`${streamed}
  onmessage = async ({ data: { id, blob } }) => {
    await streamed(blob, () => {});
    postMessage(id);
  };`], { type: 'text/javascript' })));
const reading = new Map();
let readId = 0;
reader.onmessage = ({ data: id }) => {
  reading.get(id)();
  reading.delete(id);
};
const readInWorker = (blob) =>
  new Promise((resolve) => {
    reading.set(++readId, resolve);
    reader.postMessage({ id: readId, blob });
  });

/**
 * Ours, each file also read once in the worker while it uploads (not hashed), the read
 * starting with its upload as the integrity module's does (uploads in a pool of
 * `concurrency`, like uploadMany's).
 */
const oursReadTwice = (list, concurrency, tag) =>
  pool(list, concurrency, async (file, i) => {
    await Promise.all([ours(concurrency).upload(file, `bench/${tag}-r-${i}.bin`), readInWorker(file)]);
  });

const handwritten = (post) => async (list, concurrency, tag) => {
  await pool(list, concurrency, async (file, i) => {
    const link = await credentials(`bench/${tag}-hand-${i}.bin`, file.size);
    await post(link.url, form(link, file));
  });
};

const VARIANTS = {
  ours: (list, concurrency, tag) => oursWith(ours(concurrency), list, tag),
  // Against a backend that limits size and type: one more call per file, the check.
  oursChecked: (list, concurrency, tag) => oursWith(ours(concurrency, CHECKED), list, `${tag}-c`, { contentType: 'application/octet-stream' }),
  oursProgress: (list, concurrency, tag) => oursWith(ours(concurrency), list, `${tag}-p`, { onProgress: () => {} }),
  // With wx-cloud-storage/integrity: CRC-64 of every file, verdict from COS's header.
  oursIntegrity: (list, concurrency, tag) => oursWith(ours(concurrency, '/api/storage', { integrity: digests }), list, `${tag}-i`),
  oursReadTwice,
  handFetch: handwritten(fetchPost),
  handXhr: handwritten((url, body) => xhrPost(url, body, false)),
  handXhrProgress: handwritten((url, body) => xhrPost(url, body, true)),
  async axios(list, concurrency, tag) {
    await pool(list, concurrency, async (file, i) => {
      const link = await credentials(`bench/${tag}-axios-${i}.bin`, file.size);
      await axios.post(link.url, form(link, file));
    });
  },
};

/** Feeds a Blob's stream to `update`, as every hasher here reads a file. */
async function streamed(blob, update) {
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    update(value);
  }
}

// Hashers over the same Blob, each streaming it: ours (wasm), hash-wasm (hand-tuned wasm),
// js-crc (pure JS).
const HASHERS = {
  oursCrc64: (blob) => digests.digest(blob, ['crc64']).then((d) => d.crc64),
  oursSha256: (blob) => digests.digest(blob, ['sha256']).then((d) => d.sha256),
  hashWasmCrc64: async (blob) => {
    const h = await createCRC64();
    h.init();
    await streamed(blob, (chunk) => h.update(chunk));
    return BigInt(`0x${h.digest()}`).toString();
  },
  hashWasmSha256: async (blob) => {
    const h = await createSHA256();
    h.init();
    await streamed(blob, (chunk) => h.update(chunk));
    return h.digest();
  },
  jsCrc64: async (blob) => {
    const h = jsCrc64.create();
    await streamed(blob, (chunk) => h.update(chunk));
    return BigInt(`0x${h.hex()}`).toString();
  },
};

window.bench = {
  /** Milliseconds `hasher` takes over `mib` MiB made in the page, and what it computed. */
  async hash(hasher, mib) {
    const blob = files(1, mib)[0];
    const start = performance.now();
    const value = await HASHERS[hasher](blob);
    return { ms: performance.now() - start, value };
  },
  async setup() {
    wasm = await init();
  },
  /** Milliseconds to upload `n` files of `mib` MiB with `variant` (0 MiB: the file picked from disk). */
  async upload(variant, n, mib, concurrency, tag) {
    const list = mib ? files(n, mib) : [document.getElementById('disk').files[0]];
    const start = performance.now();
    await VARIANTS[variant](list, concurrency, tag);
    return performance.now() - start;
  },
  /** Wasm linear memory and JS heap (after a GC) before and after uploading the picked file. */
  async memory(variant) {
    made.clear();
    const list = [document.getElementById('disk').files[0]];
    const measure = () => {
      globalThis.gc?.();
      return { wasm: wasm.memory.buffer.byteLength, heap: performance.memory.usedJSHeapSize };
    };
    const before = measure();
    await VARIANTS[variant](list, 1, `memory-${variant}`);
    return { before, after: measure() };
  },
};
