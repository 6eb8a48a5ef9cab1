//! **wx-cloud-storage**: upload files from web pages straight to WeChat Cloud Run
//! object storage, without the page ever holding the AppSecret.
//!
//! This crate is the browser library, compiled to WebAssembly and published to npm. This
//! file holds only the JavaScript exports; the rules live in `wx-cloud-storage-core`.
#![deny(missing_docs, missing_debug_implementations)]

mod js_error;

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
    wx_cloud_storage_core::validate_key(&key).map_err(|e| js_error::invalid_key(&e))
}
