// Types of `wx-cloud-storage/antd`.
import type { StorageClient, UploadResult } from './index.js';
import type { UploadComponentOptions, UploadPercent } from './components.js';

export type { UploadComponentOptions, UploadPercent } from './components.js';

/** What `<Upload>` passes its `customRequest` (the part it reads). */
export interface AntdRequest {
  /** The picked file (a string or plain Blob only if your `beforeUpload` returns one: a string is an INVALID_ARGUMENT). */
  file: Blob | string;
  onProgress?(event: UploadPercent): void;
  /** Called with the upload's result: it becomes the list item's `response` (`response.fileId`, `response.key`). */
  onSuccess?(response: UploadResult): void;
  /** Called with the StorageError and "CODE: message", which the list item's tooltip shows. */
  onError?(error: Error, response?: string): void;
}

/**
 * `<Upload customRequest>` uploading each file with `storage` to `options.path(file)`.
 * The component's remove (and its unmounting) cancels the upload through the returned `abort`.
 */
export function antdUpload(storage: StorageClient, options: UploadComponentOptions): (request: AntdRequest) => { abort(): void };
