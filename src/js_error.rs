//! The one place a failure becomes a JavaScript value.
//!
//! Every error thrown or rejected by the library is a `StorageError` (see
//! `js/storage-error.js`): a real `Error` with `name`, a stable `code` from
//! [`ErrorCode`], and detail properties where they apply (`rule` and `byteOffset` for
//! invalid keys; `status`, `errcode`, `cosCode`, `requestId` for service errors).

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wx_cloud_storage_core::ErrorCode;

use crate::failure::Failure;

#[wasm_bindgen(module = "/src/js/storage-error.js")]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Error)]
    type StorageError;

    #[wasm_bindgen(constructor)]
    fn new(code: &str, message: &str) -> StorageError;
}

/// A `StorageError` with `code` and `message`.
pub(crate) fn storage_error(code: ErrorCode, message: &str) -> JsValue {
    StorageError::new(code.as_str(), message).into()
}

/// Sets `error[name] = value`. Setting a property on a fresh `Error` cannot fail, so the
/// result is ignored.
fn set(error: &JsValue, name: &str, value: JsValue) {
    let _ = Reflect::set(error, &JsValue::from_str(name), &value);
}

/// The `StorageError` for a failure, with every detail it carries.
pub(crate) fn from_failure(failure: Failure) -> JsValue {
    let error = storage_error(failure.code, &failure.message);
    let Some(details) = failure.details else { return error };
    if let Some(key_error) = &details.key_error {
        set(&error, "rule", key_error.rule().into());
        if let Some(at) = key_error.byte_offset() {
            set(&error, "byteOffset", (at as f64).into());
        }
    }
    if let Some(status) = details.status {
        set(&error, "status", status.into());
    }
    if let Some(errcode) = details.errcode {
        set(&error, "errcode", (errcode as f64).into());
    }
    if let Some(cos_code) = &details.cos_code {
        set(&error, "cosCode", cos_code.into());
    }
    if let Some(request_id) = &details.request_id {
        set(&error, "requestId", request_id.into());
    }
    error
}
