export { default, initSync, validateKey } from './wx_cloud_storage.js';
export type { InitInput, InitOutput, SyncInitInput } from './wx_cloud_storage.js';

/** Every stable error code a wx-cloud-storage error can carry in `error.code`. */
export type StorageErrorCode =
  | 'INVALID_KEY' | 'INVALID_ARGUMENT' | 'CREDENTIALS_FAILED' | 'UNAUTHORIZED' | 'FORBIDDEN'
  | 'WECHAT_API' | 'UPLOAD_REJECTED' | 'CREDENTIALS_EXPIRED' | 'TOO_LARGE' | 'NOT_FOUND'
  | 'NETWORK' | 'TIMEOUT' | 'ABORTED' | 'SERVER';

/** The key rule an `INVALID_KEY` error reports in `error.rule`. */
export type KeyRule =
  | 'EMPTY' | 'TOO_LONG' | 'LEADING_SLASH' | 'DOUBLE_SLASH' | 'DOT_SEGMENT' | 'DOLLAR'
  | 'CONTROL_CHAR' | 'FORBIDDEN_CHAR';

/** A real `Error` thrown or rejected by every wx-cloud-storage operation. */
export declare class StorageError extends Error {
  /** `'AbortError'` when the caller's signal fired, else `'StorageError'`. */
  name: 'StorageError' | 'AbortError';
  /** Stable, machine-readable code. */
  code: StorageErrorCode;
  /** For `INVALID_KEY`: the rule broken. */
  rule?: KeyRule;
  /** For `INVALID_KEY`: the byte (UTF-8) where the rule is broken. */
  byteOffset?: number;
}
