export { default, initSync, validateKey, StorageClient, StorageError } from './wx_cloud_storage.js';
export type {
  InitInput, InitOutput, SyncInitInput, StorageErrorCode, StorageClientOptions, UploadCredentials,
  UploadProgress, UploadOptions, UploadResult, UploadItem, BatchProgress, UploadManyOptions,
  UploadManyResult, TempUrlResult, DeleteResult, DownloadProgress, DownloadOptions,
} from './wx_cloud_storage.js';
