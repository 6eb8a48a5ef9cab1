// Entry point of the `wx-cloud-storage` npm package in browsers: loads the wasm, and gives
// the client the browser's transport (./transport.js: fetch and XHR).
import { initSync as instantiate, validateKey as validateKeyWasm } from '../shared/wx_cloud_storage.js';
import { StorageClient as Client, assertLoaded, markLoaded } from '../shared/client.js';
import { StorageError } from '../shared/storage-error.js';
import * as transport from './transport.js';

export { StorageError };

/** Uploads files straight to WeChat Cloud Run storage with links from the app's backend. */
export class StorageClient extends Client {
  constructor(options) {
    super(options, transport);
  }
}
/** The browser's AbortController, so code shared with mini programs imports it from one place. */
export const AbortController = globalThis.AbortController;

let loading;

/**
 * Loads the wasm, once: later calls return the same promise (a failed load may be retried),
 * which resolves to `{ memory }`, the wasm's linear memory.
 * Bundlers (Vite, webpack 5) emit the .wasm next to the bundle, and this finds it through
 * `import.meta.url`. `input` overrides where it comes from: a URL, a `Response`, the bytes,
 * a compiled `WebAssembly.Module`, or `{ module_or_path }` of any of these.
 */
export default function init(input) {
  loading ??= load(input).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(input = new URL('./wx_cloud_storage_bg.wasm', import.meta.url)) {
  if (input.module_or_path) input = input.module_or_path;
  if (typeof input === 'string' || input instanceof URL || (typeof Request === 'function' && input instanceof Request)) {
    input = fetch(input);
  }
  input = await input;
  if (typeof Response === 'function' && input instanceof Response) {
    if (!input.ok) {
      throw new StorageError('NETWORK', `could not load the wasm from ${input.url} (${input.status}): serve wx_cloud_storage_bg.wasm beside the bundle, or pass its URL to init()`);
    }
    input = await input.arrayBuffer();
  }
  // Compiled off the main thread, instantiated with the glue's imports.
  const module = input instanceof WebAssembly.Module ? input : await WebAssembly.compile(input);
  return initSync({ module });
}

/**
 * Instantiates the wasm synchronously from its bytes or a compiled `WebAssembly.Module`;
 * `{ memory }`, its linear memory (its only export that is not a function; the exports'
 * own names are the build's, not API).
 */
export function initSync(module) {
  const exports = instantiate(module);
  markLoaded();
  return { memory: Object.values(exports).find((value) => typeof value === 'object') };
}

/** Throws a StorageError (`INVALID_KEY`) when `key` breaks a key rule. */
export function validateKey(key) {
  assertLoaded('validateKey');
  return validateKeyWasm(key);
}
