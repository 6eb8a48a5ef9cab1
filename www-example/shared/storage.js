// What the three example pages share: one StorageClient for the demo user, error text,
// saving a Blob, and the list of uploaded files.
import init, { StorageClient } from 'wx-cloud-storage';
import { images } from 'wx-cloud-storage/image';

// `wxcs dev` accepts this demo user. A real app sends its own session instead (a cookie
// with `credentials: 'include'`, or its bearer token); the backend maps it to a user and
// that user's folder, users/{uid}/.
const DEMO_TOKEN = 'demo-token';
export const authHeaders = { Authorization: `Bearer ${DEMO_TOKEN}` };

let client;
/** The page's StorageClient, after the wasm is loaded (once). */
export async function getStorage() {
  await init();
  // `images`: the image step, for uploads that ask for it (the H5 page's "compress first").
  client ??= new StorageClient({ endpoint: '/api/storage', headers: authHeaders, concurrency: 3, images: images() });
  return client;
}

/** One line for a StorageError: its stable code, then what to do. */
export function describe(error) {
  return error?.code ? `${error.code}: ${error.message}` : String(error?.message ?? error);
}

/** Makes the browser save `blob` as `name`. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The last path segment of a file ID or key. */
export function baseName(id) {
  return id.slice(id.lastIndexOf('/') + 1);
}

// WeChat cloud storage has no "list files" API, so the consoles remember what they
// uploaded, per page, in localStorage: [{ fileId, name, size, type, at }].
export function fileLibrary(name) {
  const storageKey = `wx-cloud-storage-example:${name}`;
  const read = () => {
    try {
      return JSON.parse(localStorage.getItem(storageKey) ?? '[]');
    } catch {
      return [];
    }
  };
  const write = (files) => localStorage.setItem(storageKey, JSON.stringify(files));
  return {
    list: read,
    add(entries) {
      const ids = new Set(entries.map((e) => e.fileId));
      write([...entries, ...read().filter((f) => !ids.has(f.fileId))]);
    },
    remove(fileIds) {
      const gone = new Set(fileIds);
      write(read().filter((f) => !gone.has(f.fileId)));
    },
  };
}
