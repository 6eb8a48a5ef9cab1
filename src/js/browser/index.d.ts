// Types of the `wx-cloud-storage` npm package (browsers).

/** Loads the wasm; call once at start-up (later calls reuse it). */
export default function init(
  moduleOrPath?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module } | RequestInfo | URL,
): Promise<{ memory: WebAssembly.Memory }>;

/** Instantiates the wasm synchronously from its bytes or a compiled module. */
export function initSync(module: { module: BufferSource | WebAssembly.Module } | BufferSource | WebAssembly.Module): { memory: WebAssembly.Memory };

/**
 * Checks an object key against every rule before any upload; throws a `StorageError` with
 * `code === 'INVALID_KEY'`, the broken `rule` and its `byteOffset`.
 */
export function validateKey(key: string): void;

/**
 * Uploads files straight to WeChat Cloud Run storage with links from the app's own
 * credential backend, and downloads, links and deletes them. Every method rejects with a
 * `StorageError` carrying a stable `code`.
 */
/** The browser's AbortController (the mini program build exports its own), for code shared by both. */
export const AbortController: typeof globalThis.AbortController;

export class StorageClient {
  constructor(options?: StorageClientOptions);
  /** Uploads `file` to `path`. By fetch (no CORS preflight); by XHR when `onProgress` is given. */
  upload(file: Blob, path: string, options?: UploadOptions): Promise<UploadResult>;
  /** Uploads many files, `concurrency` at a time; one result per item, in input order. */
  uploadMany(items: UploadItem[], options?: UploadManyOptions): Promise<UploadManyResult[]>;
  /** Temporary download URLs, one result per file ID, in order (chunks of 50 inside). */
  getTempFileUrls(fileIds: string[], options?: { maxAge?: number; signal?: AbortSignal }): Promise<TempUrlResult[]>;
  /** Downloads a file as a `Blob`, streamed, with progress when the length is known. */
  download(fileId: string, options?: DownloadOptions): Promise<Blob>;
  /** Deletes files; one result per file ID, in order (chunks of 50 inside). */
  delete(fileIds: string[]): Promise<DeleteResult[]>;
  /**
   * One page of the stored files the caller may list: the backend's record of the objects
   * uploaded through it that passed their check. `cursor` is null on the last page.
   */
  list(options?: ListOptions<AbortSignal>): Promise<ListPage>;
  /** Every file `list` would give, page after page: `for await (const file of storage.listAll())`. */
  listAll(options?: Omit<ListOptions<AbortSignal>, 'cursor'>): AsyncIterableIterator<StoredFile>;
}

/** What `list` takes: where, from where, how many, in what order. */
export interface ListOptions<Signal = AbortSignal> {
  /** A folder you may list (`products/`, `users/42/photos/`); default your own folder. */
  prefix?: string;
  /** Where the page starts: the `cursor` of the page before. */
  cursor?: string | null;
  /** Files per page, 1 to 1000. Default 100. */
  limit?: number;
  /** By key (`'name'`, the default) or newest first. */
  order?: 'name' | 'newest';
  /** Only keys containing this (at most 100 characters). */
  contains?: string;
  signal?: Signal;
}

/** One page of a listing. */
export interface ListPage {
  files: StoredFile[];
  /** Pass it back as `cursor` for the next page; null on the last. */
  cursor: string | null;
}

/** A stored file, as the backend's record knows it. */
export interface StoredFile {
  /** The key inside the listed folder (`a.png`, `photos/a.png`). */
  name: string;
  key: string;
  fileId: string;
  /** Bytes, as stored. */
  size: number;
  /** The type it is served with. */
  contentType: string | null;
  /** CRC-64/XZ of the stored object (decimal), when the storage gave one. */
  crc64: string | null;
  /** When it was uploaded, ms since the epoch. */
  time: number;
}
/** Every stable code a `StorageError` can carry. */
export type StorageErrorCode =
  | 'INVALID_KEY' | 'INVALID_ARGUMENT' | 'CREDENTIALS_FAILED' | 'UNAUTHORIZED' | 'FORBIDDEN'
  | 'WECHAT_API' | 'UPLOAD_REJECTED' | 'CREDENTIALS_EXPIRED' | 'TOO_LARGE' | 'NOT_FOUND'
  | 'NETWORK' | 'TIMEOUT' | 'ABORTED' | 'SERVER' | 'RATE_LIMITED' | 'INTEGRITY_MISMATCH';

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
   * for this long — not a wall clock, so slow but moving transfers never time out.
   * An upload without `onProgress` goes by `fetch`, which cannot see its bytes leave: it
   * times out only after `timeoutMs` plus 1 s per 16 KiB of the file (the time a
   * 128 kbit/s link needs), so a slow but healthy upload is never cut off.
   * 0–3600000 ms; 0 turns both off. Default 60000.
   */
  timeoutMs?: number;
  /** Replaces the backend call for upload links. */
  getUploadCredentials?: (path: string, file: Blob) => UploadCredentials | Promise<UploadCredentials>;
  /**
   * CRC-64 of each upload, verdicts, key templates and skipping what exists: the value of
   * `integrity()` from `wx-cloud-storage/integrity`.
   */
  integrity?: IntegrityModule;
  /**
   * The image step (resize, compress, orient, HEIC typed right) that uploads ask for with
   * `image`: the value of `images()` from `wx-cloud-storage/image`.
   */
  images?: ImageModule;
  /**
   * Large files by parts, resumable after a dropped connection, a pause or a reload: the
   * value of `resumable()` from `wx-cloud-storage/resumable`.
   */
  resumable?: ResumableModule;
}

/** What `resumable()` of `wx-cloud-storage/resumable` returns. */
export interface ResumableModule {
  /** Gives up the stored upload of `file` to `path` (COS drops its parts): whether there was one. */
  discard(file: Blob, path: string): Promise<boolean>;
}

/** What `images()` of `wx-cloud-storage/image` returns (opaque to the client). */
export interface ImageModule {
  prepare(file: unknown, contentType: string | undefined, request: ImageOptions | boolean | undefined): Promise<unknown>;
}

/** What the image step makes of a photo. Sides are in pixels, upright. */
export interface ImageOptions {
  /** Widest the photo may go up (default: no limit). 1–16384. */
  maxWidth?: number;
  /** Tallest the photo may go up (default: no limit). 1–16384. */
  maxHeight?: number;
  /** Encoder quality for JPEG and WebP, above 0 to 1. Default 0.8. */
  quality?: number;
  /** Convert to this type (browsers only; default: keep the photo's type). */
  type?: 'image/jpeg' | 'image/png' | 'image/webp';
}

/** An image as it went up, or as it was picked. */
export interface ImageFacts {
  /** Upright pixels (absent when the file was not decoded). */
  width?: number;
  height?: number;
  size: number;
  type: string;
}

/** The image step's report, in an upload's result. */
export interface ImageReport extends ImageFacts {
  /** Whether a new, smaller (or converted) file went up instead of the picked one. */
  changed: boolean;
  /** Why the picked file went up unchanged. */
  reason?: 'not-smaller' | 'not-an-image' | 'unsupported-type' | 'cannot-decode' | 'unsupported-browser';
  original: ImageFacts;
}

/** What `integrity()` of `wx-cloud-storage/integrity` returns (opaque to the client). */
export interface IntegrityModule {
  /** Loads the digests' wasm now (otherwise on first use); its memory (one chunk at most). */
  ready(): Promise<WebAssembly.Memory>;
  /**
   * CRC-64/XZ (decimal, as COS writes it), SHA-256 and MD5 (hex) and MD5 in base64, in one
   * pass; only those named in `names` when given.
   */
  digest(blob: Blob, names?: Array<'crc64' | 'sha256' | 'md5'>): Promise<{ crc64?: string; sha256?: string; md5?: string; md5Base64?: string }>;
}

/** Progress of one upload: bytes of the file sent; `waiting` once all are sent. */
export interface UploadProgress {
  loaded: number;
  total: number;
  phase: 'sending' | 'waiting';
}

export interface UploadOptions {
  /**
   * Bytes of the file actually sent, then a `waiting` phase until COS answers. Asking for
   * progress sends the upload by XMLHttpRequest, which costs one CORS preflight; without
   * it the upload is a plain `fetch` (no preflight).
   */
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /** Stored as the object's Content-Type. Default: the file's own type. */
  contentType?: string;
  /** Resize and compress an image first (needs the client's `images`): `true` for its defaults, or options. */
  image?: ImageOptions | boolean;
}

export interface UploadResult {
  fileId: string;
  key: string;
  size: number;
  /** With the integrity module: CRC-64/XZ of the bytes sent, decimal (COS's form). */
  crc64?: string;
  /**
   * With the integrity module: `verified` when the storage's own CRC-64 was read and
   * equals `crc64`; `unverifiable` when none could be read (see `integrityReason`). A
   * mismatch is never a result: it rejects with `INTEGRITY_MISMATCH`.
   */
  integrity?: 'verified' | 'unverifiable';
  /** `header-not-exposed`: the bucket's CORS hides the CRC header from the page (or it was not sent); `header-absent`: the storage sent none. */
  integrityReason?: 'header-not-exposed' | 'header-absent';
  /** `exists`: a content-addressed key already held these bytes, so nothing was sent. */
  skipped?: 'exists';
  /** With the `image` option: what went up, and what was picked. */
  image?: ImageReport;
  /** With the resumable module: `parts` (a multipart upload) or `post` (one POST: a small file, or a backend that cannot do parts). */
  via?: 'parts' | 'post';
  /** By parts: how many parts COS already held from an earlier try (0 for a new upload). */
  resumedParts?: number;
}

export interface UploadItem {
  file: Blob;
  path: string;
  contentType?: string;
  image?: ImageOptions | boolean;
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
  /** For `RATE_LIMITED`: the seconds the backend asked the caller to wait. */
  retryAfter?: number;
}
