// Types of `wx-cloud-storage/integrity` in mini programs.
import type { IntegrityModule } from './index.js';

export interface IntegrityOptions {
  /** `header` (default): COS's CRC-64 header, read by `UploadTask.onHeadersReceived`; `server`: the backend reads it. */
  verify?: 'header' | 'server';
  /** Delete an object whose CRC-64 differs before rejecting with `INTEGRITY_MISMATCH`. Default false. */
  deleteOnMismatch?: boolean;
  /** Send `Content-MD5` (the platform's MD5 of the file), so COS refuses a corrupted body. Default false. */
  contentMd5?: boolean;
  /** Skip uploading to a content-addressed key (`{sha256}`, `{crc64}`, `{md5}`) that exists. Default true. */
  skipExisting?: boolean;
  /** The digests' wasm path in the code package (default `DEFAULT_INTEGRITY_WASM_PATH`). */
  wasm?: string;
}

/** Where 构建 npm puts the digests' wasm. */
export const DEFAULT_INTEGRITY_WASM_PATH: string;

/** The integrity module for `new StorageClient({ integrity: integrity() })`. */
export function integrity(options?: IntegrityOptions): IntegrityModule;
