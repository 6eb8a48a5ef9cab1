// Runs in the test page (client.test.mjs): loads the built package the way an app does,
// and gives the tests small helpers. The page is served from its own loopback origin, so
// every call to the backend and to COS is cross-origin, as in a real deployment.
import init, * as lib from '/pkg/index.js';
import { integrity } from '/pkg/integrity.js';
import { resumable } from '/pkg/resumable.js';
import * as image from '/pkg/image.js';
import { elementPlusUpload } from '/pkg/element-plus.js';
import { antdUpload } from '/pkg/antd.js';
import * as photos from '/page/photos.js';

const params = new URLSearchParams(location.search);
const BACKEND = params.get('backend');
const STRICT_BACKEND = params.get('strict');
const PARTS_BACKEND = params.get('parts');
const EMULATOR = params.get('emulator');
const wasm = await init();

/** A client for `endpoint` as the user of `token`, counting its backend calls in `calls.n`. */
function client(extra = {}, { endpoint = BACKEND, token = 'demo-token', calls = { n: 0 } } = {}) {
  const storage = new lib.StorageClient({
    endpoint,
    headers: () => {
      calls.n++;
      return { Authorization: `Bearer ${token}` };
    },
    ...extra,
  });
  return Object.assign(storage, { calls });
}

const strictClient = (token, calls, extra) => client({ retries: 1, ...extra }, { endpoint: STRICT_BACKEND, token, calls });

/** `size` bytes of a fixed pattern. */
function pattern(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 251;
  return bytes;
}

const blob = (size, type = '') => new Blob([pattern(size)], { type });
const bytesOf = async (b) => new Uint8Array(await b.arrayBuffer());
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The emulator's control routes refuse web pages (a page could otherwise drive a
// developer's emulator), so the test runner calls them for the page (`emulatorControl`,
// exposed by client.test.mjs).
const emulator = (path, body) => window.emulatorControl(path, body === undefined ? null : JSON.stringify(body));
const faults = (body) => emulator('/__emulator/faults', body);
const stats = () => emulator('/__emulator/stats');

/** An upload link for `path`, fetched by hand (for tests that slow COS down after it is issued). */
async function linkFor(path) {
  const response = await fetch(`${BACKEND}/upload-credentials`, {
    method: 'POST',
    headers: { Authorization: 'Bearer demo-token', 'content-type': 'application/json' },
    body: JSON.stringify({ path }),
  });
  return response.json();
}

/** What a test needs to know of a thrown error. */
const describe = (e) => ({
  isError: e instanceof Error, isStorageError: e instanceof lib.StorageError, name: e.name, code: e.code,
  message: e.message, status: e.status, cosCode: e.cosCode, requestId: e.requestId, rule: e.rule,
  byteOffset: e.byteOffset, errcode: e.errcode, retryAfter: e.retryAfter, hasStack: typeof e.stack === 'string',
});

/** The error `promise` rejects with, described; fails the test when it resolves. */
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return describe(e);
  }
  throw new Error('expected a rejection');
}

/** `fn()`'s thrown error, described. */
function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return describe(e);
  }
  throw new Error('expected a throw');
}

/** A client of the 开放接口服务 backend (multipart uploads) with the resumable module. */
const partsClient = (options, extra = {}, token = 'parts-token') =>
  client({ resumable: resumable(options), ...extra }, { endpoint: PARTS_BACKEND, token });
const partsEmulator = (path, body) => window.partsEmulatorControl(path, body === undefined ? null : JSON.stringify(body));

window.t = {
  lib, integrity, image, resumable, partsClient, partsEmulator, PARTS_BACKEND, photos, wasm, BACKEND, EMULATOR, client, strictClient, pattern, blob, bytesOf, same, sleep, faults, stats,
  linkFor, describe, rejection, thrown, adapters: { elementPlusUpload, antdUpload },
};
window.ready = true;
