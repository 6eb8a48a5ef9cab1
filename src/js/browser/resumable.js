// `wx-cloud-storage/resumable` in browsers: large files by parts that survive a dropped
// connection, a paused upload and a reload (../shared/resumable-core.js has the logic and
// the options). Parts go by XMLHttpRequest (`PUT`, with the headers the backend signed),
// which reports their progress; what is needed to resume is kept in localStorage.
//
//   import { resumable } from 'wx-cloud-storage/resumable';
//   const storage = new StorageClient({ endpoint, resumable: resumable() });
//   const { fileId, via } = await storage.upload(file, 'videos/a.mp4', { signal, onProgress });
import { guard } from '../shared/stall.js';
import { crcIn } from './transport.js';
import { makeResumable } from '../shared/resumable-core.js';

/**
 * One part PUT to `url` with `headers`, settling as the transports do. The body is the
 * file's own slice, which the browser streams (sending the bytes read for the CRC would
 * copy 8 MiB on the main thread first: about 100 ms a part here).
 */
function put(url, headers, { file, start, end }, { signal, stallMs, onProgress }) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve({ aborted: true });
    const xhr = new XMLHttpRequest();
    const { rearm, settle } = guard(signal, stallMs, false, () => xhr.abort(), resolve);
    xhr.upload.onprogress = (e) => {
      rearm();
      onProgress({ loaded: e.loaded });
    };
    xhr.onload = () => settle({ status: xhr.status, body: xhr.responseText, crc: crcIn(xhr.getAllResponseHeaders()) });
    xhr.onerror = xhr.onabort = () => settle({ status: 0 });
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.send(file.slice(start, end));
  });
}

// localStorage, where the page has it (a sandboxed frame may not).
function localStore() {
  try {
    const store = globalThis.localStorage;
    return store && { get: (k) => store.getItem(k), set: (k, v) => store.setItem(k, v), remove: (k) => store.removeItem(k) };
  } catch (_) {
    return null;
  }
}

/** The resumable module for `new StorageClient({ resumable: resumable() })`. */
export function resumable(options) {
  return makeResumable(options, {
    slice: async (file, start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer()),
    name: (file) => (typeof file.name === 'string' ? file.name : ''),
    modified: (file) => (typeof file.lastModified === 'number' ? file.lastModified : 0),
    put,
    store: localStore(),
  });
}
