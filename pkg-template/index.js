// Entry point of the `wx-cloud-storage` npm package: the wasm-bindgen glue plus the
// StorageError class (a snippet wasm-bindgen emits under a hashed path, filled in by
// scripts/build.sh).
export { default, initSync, validateKey, StorageClient } from './wx_cloud_storage.js';
export { StorageError } from '@SNIPPET@';
