// Entry point of the `wx-cloud-storage` package in WeChat mini programs (the `miniprogram`
// build, CommonJS, found by the developer tools' 构建 npm). The same wasm and the same
// client as in browsers; only the loader and the transport (./transport.js: wx.request,
// wx.uploadFile, wx.downloadFile) differ.
/* global WXWebAssembly */
import * as glue from '../shared/wx_cloud_storage_bg.js';
import { StorageClient as Client, assertLoaded, markLoaded } from '../shared/client.js';
import * as transport from './transport.js';

export { StorageError } from '../shared/storage-error.js';

/** Uploads files straight to WeChat Cloud Run storage with links from the app's backend. */
export class StorageClient extends Client {
  constructor(options) {
    super(options, transport);
  }
}

/** Where 构建 npm puts the wasm, for a mini program whose npm packages are at the root. */
export const DEFAULT_WASM_PATH = '/miniprogram_npm/wx-cloud-storage/wx_cloud_storage_bg.wasm.br';

let loading;

/**
 * Loads the wasm with WXWebAssembly (base library 2.14.0 or later, for `.wasm.br`), once:
 * later calls return the same promise (a failed load may be retried), which resolves to
 * `{ memory }`, the wasm's linear memory. `path` is the file's
 * path inside the code package; pass it when your npm packages are not at the root (a
 * `miniprogramRoot`, a subpackage).
 */
export default function init(path = DEFAULT_WASM_PATH) {
  loading ??= load(path).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(path) {
  if (typeof WXWebAssembly === 'undefined') {
    throw new Error('WXWebAssembly is missing: wx-cloud-storage needs WeChat base library 2.14.0 or later');
  }
  // The glue provides the wasm's imports, under the module name the build gave them.
  const result = await WXWebAssembly.instantiate(path, { [glue.WASM_IMPORT_MODULE]: glue });
  // The typings say an Instance; public code receives { instance, module }: take either.
  const { exports } = result.instance || result;
  glue.__wbg_set_wasm(exports);
  markLoaded();
  // Its linear memory: its only export that is not a function (the exports' own names are
  // the build's, not API).
  return { memory: Object.values(exports).find((value) => typeof value === 'object') };
}

/** Throws a StorageError (`INVALID_KEY`) when `key` breaks a key rule. */
export function validateKey(key) {
  assertLoaded('validateKey');
  return glue.validateKey(key);
}

/** The platform's AbortController where it has one; else a small one with the same shape. */
export const AbortController =
  typeof globalThis !== 'undefined' && globalThis.AbortController
    ? globalThis.AbortController
    : class AbortController {
      constructor() {
        const listeners = [];
        this.signal = {
          aborted: false,
          addEventListener: (type, listener) => listeners.push(listener),
          removeEventListener: (type, listener) => {
            const at = listeners.indexOf(listener);
            if (at >= 0) listeners.splice(at, 1);
          },
        };
        this._listeners = listeners;
      }

      /** Aborts every operation given this controller's signal. */
      abort() {
        if (this.signal.aborted) return;
        this.signal.aborted = true;
        for (const listener of this._listeners.slice()) listener();
      }
    };
