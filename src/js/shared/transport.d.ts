// The declared interface between the StorageClient (./client.js) and a platform's
// transport: ../browser/transport.js (fetch, XHR) and ../miniprogram/transport.js
// (wx.request, wx.uploadFile, wx.downloadFile). Each platform entry passes its transport
// to the client; tests/types checks both modules against this interface. Internal: not
// part of the package's public types.

/**
 * How every request settles (never rejecting): an HTTP answer, no answer (`status: 0`),
 * the caller's abort, or the stall timer / deadline of ./stall.js.
 */
export type Outcome =
  | { status: number; body: any; retryAfter?: number; crc?: string | null; cors?: boolean }
  | { status: 0 }
  | { aborted: true }
  | { timeout: number; deadline: boolean };

/** Progress of one request, in bytes: of the body sent ('sending', then 'waiting' for the answer) or received. */
export interface TransportProgress {
  loaded: number;
  total: number;
  phase: 'sending' | 'waiting' | 'receiving';
}

/** A signal with the shape of AbortSignal (mini programs have no AbortSignal class). */
export interface SignalLike {
  aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What a backend call is given. `container`: the mini program's Cloud Run service. */
export interface RequestOptions {
  method: string;
  headers: Record<string, string>;
  body: string;
  credentials?: string;
  container?: { env: string; service: string };
  signal?: SignalLike;
  stallMs: number;
}

/** What a COS form upload is given. */
export interface UploadOptions {
  fileName?: string;
  signal?: SignalLike;
  stallMs: number;
  deadlineMs?: number;
  onProgress?: (progress: TransportProgress) => void;
  wantCrc?: boolean;
}

/** What a download is given. */
export interface DownloadOptions {
  signal?: SignalLike;
  stallMs: number;
  onProgress?: (progress: TransportProgress) => void;
}

export interface Transport {
  /** The page's origin, named in NETWORK errors ('' where there is none). */
  origin(): string;
  /** What upload() takes on this platform, for messages. */
  readonly FILE_KINDS: string;
  /** `{ size, type }` of a file upload() takes here, or undefined for anything else. */
  fileInfo(file: unknown): { size: number; type: string; path?: string } | undefined;
  /** A backend call (JSON in, text out). */
  request(url: string, options: RequestOptions): Promise<Outcome>;
  /** The COS form upload: `fields` in order, then the file, always last. */
  uploadForm(url: string, fields: Array<[string, string]>, file: unknown, options: UploadOptions): Promise<Outcome>;
  /** A download of a link: the body (a Blob, or a temp file path) on 2xx, else its text. */
  download(url: string, options: DownloadOptions): Promise<Outcome>;
}
