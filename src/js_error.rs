//! The one place a failure becomes a JavaScript value, and a thrown value becomes a failure.
//!
//! Every error thrown or rejected by the library is a `StorageError` (`js/storage-error.js`,
//! shipped beside the generated glue): a real `Error` with `name`, a stable `code` from
//! [`ErrorCode`], and detail properties where they apply (`rule` and `byteOffset` for
//! invalid keys; `status`, `errcode`, `cosCode`, `requestId` for service errors).

use wasm_bindgen::prelude::*;
use wx_cloud_storage_core::ErrorCode;

use crate::{failure::Failure, js_value::set};

// `raw_module`: the glue imports `./storage-error.js` from its own folder, the same module
// the package's JS imports, so `instanceof StorageError` holds for every error.
#[wasm_bindgen(raw_module = "./storage-error.js")]
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
    if let Some(cos_code) = details.cos_code {
        set(&error, "cosCode", cos_code.into());
    }
    if let Some(request_id) = details.request_id {
        set(&error, "requestId", request_id.into());
    }
    if let Some(seconds) = details.retry_after {
        set(&error, "retryAfter", seconds.into());
    }
    error
}
