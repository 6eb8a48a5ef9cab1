// What the three example pages share: signing in, one StorageClient for the signed-in
// user, error text, saving a Blob.
import init, { StorageClient } from 'wx-cloud-storage';
import { images } from 'wx-cloud-storage/image';

// Until a page signs in, `wxcs dev` takes this fixed demo token (user `demo`). A real app
// sends its own session instead (a cookie with `credentials: 'include'`, or its own JWT);
// the backend maps it to a user, and its folder rules say what that user may do where.
const DEMO_TOKEN = 'demo-token';
let session = null;

/**
 * Signs in with the demo's own login (`wxcs dev` issues JWTs: `demo`/`demo`, and `admin`/
 * `admin` with the roles admin and editor): `{ uid, roles }`. A real app gets its token from
 * its own login; the backend verifies it by the app's JWKS (`--jwt-jwks-url`).
 */
export async function signIn(user, password = user) {
  const response = await fetch('/api/demo/login', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password }),
  });
  const answer = await response.json();
  if (!response.ok) throw Object.assign(new Error(answer.message), { code: answer.code });
  session = answer;
  return { uid: answer.uid, roles: answer.roles };
}

/** The headers of a backend call: the signed-in user's JWT, or the demo token. */
export const authHeaders = () => ({ Authorization: `Bearer ${session ? session.token : DEMO_TOKEN}` });

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
