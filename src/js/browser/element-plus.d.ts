// Types of `wx-cloud-storage/element-plus`.
import type { StorageClient, UploadResult } from './index.js';
import type { UploadComponentOptions, UploadPercent } from './components.js';

export type { UploadComponentOptions, UploadPercent } from './components.js';

/** What `<el-upload>` passes its `http-request` handler (the part the handler reads). */
export interface ElementPlusRequest {
  file: File;
  onProgress(event: UploadPercent): void;
  /** Called with the upload's result: it becomes the list item's `response` (`response.fileId`, `response.key`). */
  onSuccess(response: UploadResult): void;
  /** Called with the StorageError (its `code` and `message`); the component drops the item and calls `on-error`. */
  onError(error: Error): void;
}

/**
 * `<el-upload :http-request>` uploading each file with `storage` to `options.path(file)`.
 * The handler returns an abort handle that Element Plus treats as its request: the list's
 * remove and the component's `abort()` cancel the upload (only `abort()` works on it).
 */
export function elementPlusUpload(storage: StorageClient, options: UploadComponentOptions): (request: ElementPlusRequest) => XMLHttpRequest;
