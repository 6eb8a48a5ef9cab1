// Types of `wx-cloud-storage/integrity`.
import type { IntegrityModule } from './index.js';

export interface IntegrityOptions {
  /**
   * Where the storage's CRC-64 comes from. `header` (default): COS's answer to the upload
   * (a page can read it only when the bucket's CORS exposes `x-cos-hash-crc64ecma`);
   * `server`: the backend reads the stored object's CRC-64 (one more backend call per file).
   */
  verify?: 'header' | 'server';
  /** Delete an object whose CRC-64 differs before rejecting with `INTEGRITY_MISMATCH`. Default false. */
  deleteOnMismatch?: boolean;
  /** Send `Content-MD5`, so COS refuses a corrupted body (400 BadDigest). Costs an MD5 pass first. Default false. */
  contentMd5?: boolean;
  /** Skip uploading to a content-addressed key (`{sha256}`, `{crc64}`, `{md5}`) that exists. Default true. */
  skipExisting?: boolean;
  /** Hash in a worker (from a blob: URL) where the page allows one, else on the main thread. Default true. */
  worker?: boolean;
  /** Where the digests' wasm comes from (default: `wx_cloud_storage_integrity.wasm` beside the module). */
  wasm?: string | URL | Response | BufferSource | WebAssembly.Module;
}

/**
 * The integrity module for `new StorageClient({ integrity: integrity() })`: CRC-64 of every
 * upload with a verdict, key templates (`{sha256}`, `{crc64}`, `{md5}`, `{ext}`, `{name}`)
 * and skipping files that are already stored.
 */
export function integrity(options?: IntegrityOptions): IntegrityModule;
