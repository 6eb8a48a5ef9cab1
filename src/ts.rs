//! The TypeScript types of the public API, emitted into the generated `.d.ts`. The
//! exports in `lib.rs` refer to them through `unchecked_param_type` /
//! `unchecked_return_type`, so there is no `any` in the public surface.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Every stable code a `StorageError` can carry. */
export type StorageErrorCode =
  | 'INVALID_KEY' | 'INVALID_ARGUMENT' | 'CREDENTIALS_FAILED' | 'UNAUTHORIZED' | 'FORBIDDEN'
  | 'WECHAT_API' | 'UPLOAD_REJECTED' | 'CREDENTIALS_EXPIRED' | 'TOO_LARGE' | 'NOT_FOUND'
  | 'NETWORK' | 'TIMEOUT' | 'ABORTED' | 'SERVER';

/** The answer of `tcb/uploadfile`, as the credential backend forwards it. */
export interface UploadCredentials {
  url: string;
  token: string;
  authorization: string;
  file_id: string;
  cos_file_id: string;
  /** The key the link was issued for, when the backend rewrote the path. */
  key?: string;
}

export type HeadersInit = Record<string, string>;

export interface StorageClientOptions {
  /** The app's credential backend. Default `/api/storage`. */
  endpoint?: string;
  /** Headers for backend calls (e.g. `Authorization`), or a function giving them. */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /** fetch credentials mode for backend calls (`include` for cookie sessions). */
  credentials?: 'include' | 'same-origin' | 'omit';
  /** Files `uploadMany` sends at once (1–16). Default 3. */
  concurrency?: number;
  /** Retries of transient failures (0–10). Default 3. */
  retries?: number;
  /**
   * A stall timer: a request fails with `TIMEOUT` (and is retried) when no byte moves
   * for this long — not a wall clock, so slow but moving uploads never time out.
   * 0–3600000 ms; 0 turns it off. Default 60000.
   */
  timeoutMs?: number;
  /** Replaces the backend call for upload links. */
  getUploadCredentials?: (path: string, file: Blob) => UploadCredentials | Promise<UploadCredentials>;
}

/** Progress of one upload: bytes of the file sent; `waiting` once all are sent. */
export interface UploadProgress {
  loaded: number;
  total: number;
  phase: 'sending' | 'waiting';
}

export interface UploadOptions {
  /** Bytes of the file actually sent, then a `waiting` phase until COS answers. */
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /** Stored as the object's Content-Type. Default: the file's own type. */
  contentType?: string;
}

export interface UploadResult {
  fileId: string;
  key: string;
  size: number;
}

export interface UploadItem {
  file: Blob;
  path: string;
  contentType?: string;
}

/** Progress of `uploadMany`: bytes of all files, files finished, and the file that moved. */
export interface BatchProgress {
  loaded: number;
  total: number;
  completed: number;
  /** The item (by its index in the input) whose bytes just moved or that just finished. */
  item: { index: number; loaded: number; total: number };
}

export interface UploadManyOptions {
  onProgress?: (progress: BatchProgress) => void;
  signal?: AbortSignal;
}

/** Progress of a download: bytes received of `total` (reported when the length is known). */
export interface DownloadProgress {
  loaded: number;
  total: number;
}

export interface DownloadOptions {
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

export type UploadManyResult =
  | ({ ok: true; path: string } & UploadResult)
  | { ok: false; path: string; error: StorageError };

export type TempUrlResult =
  | { ok: true; fileId: string; url: string }
  | { ok: false; fileId: string; error: StorageError };

export type DeleteResult =
  | { ok: true; fileId: string }
  | { ok: false; fileId: string; error: StorageError };

/** A real `Error` from every operation, with a stable `code`. */
export declare class StorageError extends Error {
  name: 'StorageError' | 'AbortError';
  code: StorageErrorCode;
  /** For `INVALID_KEY`: the rule broken. */
  rule?: 'EMPTY' | 'TOO_LONG' | 'LEADING_SLASH' | 'DOUBLE_SLASH' | 'DOT_SEGMENT' | 'DOLLAR' | 'CONTROL_CHAR' | 'FORBIDDEN_CHAR';
  /** For `INVALID_KEY`: the UTF-8 byte where the rule is broken. */
  byteOffset?: number;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** WeChat's errcode (or a list item's status). */
  errcode?: number;
  /** COS's error code, e.g. `MalformedPOSTRequest`. */
  cosCode?: string;
  /** COS's request ID, for Tencent support. */
  requestId?: string;
}
"#;
