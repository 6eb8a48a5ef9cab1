// Types of the `wx-cloud-storage` package in WeChat mini programs (its `miniprogram` build).
// The options, results and errors are the browser build's; files are paths, and downloads
// resolve to a temp file path.
import type {
  StorageClientOptions as BrowserOptions, UploadCredentials, UploadOptions as BrowserUploadOptions, UploadResult,
  UploadManyOptions, UploadManyResult, TempUrlResult, DeleteResult, DownloadOptions as BrowserDownloadOptions,
  StorageErrorCode, ImageModule, ImageOptions, ImageReport, ImageFacts, ListOptions, ListPage, StoredFile,
} from '../index.js';

export type {
  ImageModule, ImageOptions, ImageReport, ImageFacts, ListOptions, ListPage, StoredFile,
  UploadCredentials, UploadResult, UploadManyOptions, UploadManyResult, TempUrlResult, DeleteResult, StorageErrorCode,
};
export { StorageError } from '../index.js';

/** A file: a local path, or what `wx.chooseMedia` / `wx.chooseMessageFile` give. */
export type MiniProgramFile = string | { tempFilePath: string; size?: number } | { path: string; size?: number };

/** Anything shaped like an AbortSignal (this package's AbortController gives one). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What `integrity()` of `wx-cloud-storage/integrity` returns here (opaque to the client). */
export interface IntegrityModule {
  /** Loads the digests' wasm now (otherwise on first use). */
  ready(): Promise<unknown>;
  /** CRC-64/XZ (decimal) and SHA-256 (hex) by wasm, MD5 (hex, base64) by the platform; only those named when given. */
  digest(file: MiniProgramFile, names?: Array<'crc64' | 'sha256' | 'md5'>): Promise<{ crc64?: string; sha256?: string; md5?: string; md5Base64?: string }>;
}

/** What `resumable()` of `wx-cloud-storage/resumable` returns here. */
export interface ResumableModule {
  /** Gives up the stored upload of `file` to `path` (COS drops its parts): whether there was one. */
  discard(file: MiniProgramFile, path: string): Promise<boolean>;
}

export interface StorageClientOptions extends Omit<BrowserOptions, 'credentials' | 'getUploadCredentials' | 'integrity' | 'resumable'> {
  /** CRC-64 of each upload, verdicts, key templates, skipping what exists: `integrity()` of `wx-cloud-storage/integrity`. */
  integrity?: IntegrityModule;
  /** Large files by parts, resumable after a dropped connection or an app restart: `resumable()` of `wx-cloud-storage/resumable`. */
  resumable?: ResumableModule;
  /** Reach the backend through wx.cloud.callContainer (no 合法域名 needed); `endpoint` is then the path. */
  container?: { env: string; service: string };
  /** Replaces the backend call for upload links. */
  getUploadCredentials?: (path: string, file: MiniProgramFile) => UploadCredentials | Promise<UploadCredentials>;
}

export interface UploadOptions extends Omit<BrowserUploadOptions, 'signal'> {
  signal?: AbortSignalLike;
}

export interface DownloadOptions extends Omit<BrowserDownloadOptions, 'signal'> {
  signal?: AbortSignalLike;
}

export interface UploadItem {
  file: MiniProgramFile;
  path: string;
  contentType?: string;
  image?: ImageOptions | boolean;
}

/** Where 构建 npm puts the wasm, for a mini program whose npm packages are at the root. */
export const DEFAULT_WASM_PATH: string;

/** Loads the wasm with WXWebAssembly (base library ≥ 2.14.0); pass its path if not the default. */
export default function init(path?: string): Promise<{ memory: WebAssembly.Memory }>;

/** Throws a `StorageError` (`INVALID_KEY`) when `key` breaks a key rule. */
export function validateKey(key: string): void;

/** The platform's AbortController, or a small one with the same shape. */
export class AbortController {
  readonly signal: AbortSignalLike;
  abort(): void;
}

export class StorageClient {
  constructor(options?: StorageClientOptions);
  upload(file: MiniProgramFile, path: string, options?: UploadOptions): Promise<UploadResult>;
  uploadMany(items: UploadItem[], options?: Omit<UploadManyOptions, 'signal'> & { signal?: AbortSignalLike }): Promise<UploadManyResult[]>;
  getTempFileUrls(fileIds: string[], options?: { maxAge?: number; signal?: AbortSignalLike }): Promise<TempUrlResult[]>;
  /** Downloads a file into a temp file; resolves to its path. */
  download(fileId: string, options?: DownloadOptions): Promise<string>;
  delete(fileIds: string[]): Promise<DeleteResult[]>;
  /** One page of the stored files the caller may list; `cursor` null on the last page. */
  list(options?: ListOptions<AbortSignalLike>): Promise<ListPage>;
  /** Every file `list` would give, page after page (`for await`). */
  listAll(options?: Omit<ListOptions<AbortSignalLike>, 'cursor'>): AsyncIterableIterator<StoredFile>;
}
