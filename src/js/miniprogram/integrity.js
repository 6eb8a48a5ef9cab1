// `wx-cloud-storage/integrity` in WeChat mini programs (the mini program build's
// integrity.js, CommonJS): the same logic as in browsers (../integrity-core.js), with the
// wasm loaded by WXWebAssembly and files read a chunk at a time through the
// FileSystemManager. MD5 (the `{md5}` token, `Content-MD5`) is the platform's own digest
// (`getFileInfo`), so it never passes through wasm; COS's CRC header is read with
// `UploadTask.onHeadersReceived`, where no CORS hides it.
//
//   const { integrity } = require('wx-cloud-storage/integrity');
//   const storage = new StorageClient({ endpoint, integrity: integrity() });
/* global WXWebAssembly, wx */
import { CHUNK, CRC64, MD5, SHA256, hashChunks, makeIntegrity } from '../shared/integrity-core.js';
import { fsCall, localFile, readSlice } from './files.js';

/** Where 构建 npm puts the digests' wasm, for a mini program whose npm packages are at the root. */
export const DEFAULT_INTEGRITY_WASM_PATH = '/miniprogram_npm/wx-cloud-storage/wx_cloud_storage_integrity.wasm.br';

let loading;

/** Loads the digests' wasm once with WXWebAssembly (base library 2.14.0 or later). */
function load(path) {
  loading ??= (async () => {
    if (typeof WXWebAssembly === 'undefined') {
      throw new Error('WXWebAssembly is missing: wx-cloud-storage/integrity needs WeChat base library 2.14.0 or later');
    }
    const result = await WXWebAssembly.instantiate(path, {});
    return (result.instance || result).exports;
  })().catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/** The local file at `path` (`size` bytes) for hashChunks: CHUNK bytes at a time. */
function fileReader(path, size) {
  let position = 0;
  return async () => {
    if (position >= size) return undefined;
    const length = Math.min(CHUNK, size - position);
    position += length;
    return readSlice(path, position - length, length);
  };
}

/**
 * The integrity module for `new StorageClient({ integrity: integrity() })`, as in browsers
 * (options in ../integrity-core.js), plus `wasm`: the digests' wasm path in the code
 * package (default DEFAULT_INTEGRITY_WASM_PATH). A file is what upload() takes: a temp
 * file path or `{ tempFilePath | path, size }`. Picked videos (chooseVideo / chooseMedia)
 * may be re-encoded into a new temp file on devices, so the same video can hash
 * differently twice and a content-addressed key will not find it.
 */
export function integrity(options = {}) {
  const wasm = () => load((options && options.wasm) || DEFAULT_INTEGRITY_WASM_PATH);
  const local = (file) => localFile(file, 'digest(file)');
  return makeIntegrity(options, ['wasm'], {
    async hash(file, which) {
      const { path, size } = local(file);
      const inWasm = which & (CRC64 | SHA256);
      const raw = inWasm ? await hashChunks(await wasm(), inWasm, fileReader(path, size), CHUNK) : new Uint8Array(0);
      if (!(which & MD5)) return raw;
      const { digest } = await fsCall('getFileInfo', { filePath: path, digestAlgorithm: 'md5' });
      const out = new Uint8Array(raw.length + 16);
      out.set(raw);
      for (let i = 0; i < 16; i++) out[raw.length + i] = parseInt(digest.slice(2 * i, 2 * i + 2), 16);
      return out;
    },
    ready: () => wasm().then((exports) => exports.memory),
    name: (file) => (file && typeof file.name === 'string' ? file.name : local(file).path.replace(/^.*[\\/]/, '')),
    check: local,
  });
}
