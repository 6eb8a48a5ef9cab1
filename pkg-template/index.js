// Entry point of the `wx-cloud-storage` npm package. It re-exports the wasm-bindgen glue,
// adding one thing: a clear StorageError (instead of a TypeError deep in the glue) when
// StorageClient or validateKey is used before `await init()`.
// The StorageError class is a snippet wasm-bindgen emits under a hashed path, filled in
// by scripts/build.sh.
import initWasm, {
  initSync as initWasmSync,
  validateKey as validateKeyWasm,
  StorageClient as WasmStorageClient,
} from './wx_cloud_storage.js';
import { StorageError } from '@SNIPPET@';

export { StorageError };

let ready = false;

/**
 * Loads the wasm (once: later calls return the same promise). Bundlers (Vite, webpack 5)
 * emit the .wasm file next to the bundle and this finds it through `import.meta.url`.
 */
export default async function init(moduleOrPath) {
  const exports = await initWasm(moduleOrPath);
  ready = true;
  return exports;
}

/** Instantiates the wasm synchronously from bytes or a `WebAssembly.Module`. */
export function initSync(module) {
  const exports = initWasmSync(module);
  ready = true;
  return exports;
}

function assertReady(what) {
  if (!ready) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `${what} was used before the wasm was loaded: call \`await init()\` (the default export of 'wx-cloud-storage') once at start-up`,
    );
  }
}

export function validateKey(key) {
  assertReady('validateKey');
  return validateKeyWasm(key);
}

export class StorageClient extends WasmStorageClient {
  constructor(options) {
    assertReady('new StorageClient');
    super(options);
  }
}
