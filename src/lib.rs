//! **wx-cloud-storage**: upload files from web pages straight to WeChat Cloud Run
//! object storage, without the page ever holding the AppSecret.
//!
//! This crate is the browser library, compiled to WebAssembly and published to npm. This
//! file holds only the JavaScript exports; the work is in [`client`] (upload logic),
//! `transport` (how requests leave the browser) and `wx-cloud-storage-core` (the rules).
#![deny(missing_docs, missing_debug_implementations)]

mod client;
mod failure;
mod js_error;
mod options;
mod transport;
mod ts;

use wasm_bindgen::prelude::*;
use wx_cloud_storage_core::ErrorCode;

/// Checks an object key against every rule before any upload, and throws a
/// `StorageError` with `code === 'INVALID_KEY'`, the broken `rule` and its `byteOffset`
/// when one is broken. Non-strings throw `INVALID_ARGUMENT`.
///
/// ```js
/// validateKey('users/42/头像.png');      // ok
/// validateKey('a/${filename}.png');    // throws: byte 2: `$` is not allowed …
/// ```
#[wasm_bindgen(js_name = validateKey)]
pub fn validate_key(#[wasm_bindgen(unchecked_param_type = "string")] key: JsValue) -> Result<(), JsValue> {
    let Some(key) = key.as_string() else {
        return Err(js_error::storage_error(
            ErrorCode::InvalidArgument,
            "validateKey(key): key must be a string",
        ));
    };
    wx_cloud_storage_core::validate_key(&key)
        .map_err(|e| js_error::from_failure(failure::Failure::invalid_key(e)))
}

/// Uploads files straight to WeChat Cloud Run storage with links from the app's own
/// credential backend, and downloads, links and deletes them. Every method rejects with a
/// `StorageError` carrying a stable `code`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct StorageClient {
    inner: client::Client,
}

#[wasm_bindgen]
impl StorageClient {
    /// `new StorageClient({ endpoint, headers, credentials, concurrency, retries, timeoutMs,
    /// getUploadCredentials })`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "StorageClientOptions")] options: JsValue,
    ) -> Result<StorageClient, JsValue> {
        client::Client::new(&options).map(|inner| StorageClient { inner }).map_err(js_error::from_failure)
    }

    /// Uploads `file` to `path`; resolves to `{ fileId, key, size }`.
    #[wasm_bindgen(unchecked_return_type = "UploadResult")]
    pub async fn upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Blob")] file: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "UploadOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.inner.upload(file, path, options).await.map_err(js_error::from_failure)
    }

    /// Uploads many files, `concurrency` at a time; one result per item, in input order:
    /// `{ ok: true, fileId, key, size, path }` or `{ ok: false, error, path }`.
    #[wasm_bindgen(js_name = uploadMany, unchecked_return_type = "UploadManyResult[]")]
    pub async fn upload_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UploadItem[]")] items: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "UploadManyOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.inner.upload_many(items, options).await.map_err(js_error::from_failure)
    }

    /// Temporary download URLs, one result per file ID, in order (chunks of 50 inside).
    #[wasm_bindgen(js_name = getTempFileUrls, unchecked_return_type = "TempUrlResult[]")]
    pub async fn get_temp_file_urls(
        &self,
        #[wasm_bindgen(js_name = fileIds, unchecked_param_type = "string[]")] file_ids: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "{ maxAge?: number; signal?: AbortSignal }")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.inner.temp_file_urls(file_ids, options).await.map_err(js_error::from_failure)
    }

    /// Downloads a file as a `Blob`, streamed, with progress when the length is known.
    #[wasm_bindgen(unchecked_return_type = "Blob")]
    pub async fn download(
        &self,
        #[wasm_bindgen(js_name = fileId, unchecked_param_type = "string")] file_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DownloadOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.inner.download(file_id, options).await.map_err(js_error::from_failure)
    }

    /// Deletes files; one result per file ID, in order (chunks of 50 inside).
    #[wasm_bindgen(unchecked_return_type = "DeleteResult[]")]
    pub async fn delete(
        &self,
        #[wasm_bindgen(js_name = fileIds, unchecked_param_type = "string[]")] file_ids: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.inner.delete(file_ids).await.map_err(js_error::from_failure)
    }
}
