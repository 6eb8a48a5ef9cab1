//! **wx-cloud-storage**: upload files from web pages and WeChat mini programs straight to
//! WeChat Cloud Run object storage, without the client ever holding the AppSecret.
//!
//! This crate is compiled to WebAssembly and published to npm. It holds the library's
//! rules, as plain synchronous functions: the key rules, the COS upload form, what every
//! answer means (error mapping) and the retry policy. The package's small JavaScript
//! (`js/`) does only what JavaScript does in fewer bytes: checking the shape of options,
//! awaiting, the worker pool, progress events, and the platform transport (fetch/XHR in
//! browsers, `wx.*` in mini programs). So one wasm, with no import from either platform,
//! serves both, and the async machinery never enters the wasm.
//!
//! Only [`validate_key`] is public API; the other exports are called by the package's JS
//! (`js/client.js`) and are not re-exported by its entry.
#![deny(missing_docs, missing_debug_implementations)]

mod answers;
mod failure;
mod js_error;
mod js_value;
mod upload;

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wx_cloud_storage_core::{
    retry::{is_retryable, upload_deadline_ms, RetryPolicy},
    ErrorCode,
};

use crate::{
    failure::Failure,
    js_error::from_failure,
    js_value::{text, whole},
};

// SAFETY: the wasm runs on one thread (no atomics, no shared memory), which is what
// AssumeSingleThreaded requires.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// A result whose failure is thrown to JavaScript as a `StorageError`.
type Thrown<T> = Result<T, JsValue>;

fn throw<T>(result: Result<T, Failure>) -> Thrown<T> {
    result.map_err(from_failure)
}

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
        return throw(Err(Failure::invalid("validateKey(key): key must be a string")));
    };
    throw(wx_cloud_storage_core::validate_key(&key).map_err(Failure::invalid_key))
}

/// Internal: checks an upload's path and size before any request.
#[wasm_bindgen(js_name = checkUpload)]
pub fn check_upload(path: JsValue, size: f64) -> Result<(), JsValue> {
    throw(upload::check(&path, size))
}

/// Internal: the COS form for an upload link: `{url, key, fileId, fileName, fields}`.
#[wasm_bindgen(js_name = uploadForm)]
pub fn upload_form(credentials: JsValue, path: JsValue, content_type: JsValue) -> Result<JsValue, JsValue> {
    throw(upload::form(&credentials, &text(&path), content_type.as_string()))
}

/// Internal: the deadline of an upload that cannot report progress, in ms (0: none).
#[wasm_bindgen(js_name = uploadDeadline)]
pub fn upload_deadline(timeout_ms: f64, size: f64) -> f64 {
    upload_deadline_ms(timeout_ms, size).unwrap_or(0.0)
}

/// Internal: a backend call's HTTP answer (and the seconds of its `Retry-After` header,
/// `undefined` for none) → its JSON object, or throws what it means.
#[wasm_bindgen(js_name = backendAnswer)]
pub fn backend_answer(
    url: JsValue,
    status: u16,
    body: JsValue,
    retry_after: f64,
) -> Result<JsValue, JsValue> {
    throw(answers::backend(&url, status, &body, whole(retry_after)))
}

/// Internal: a COS upload's HTTP answer → nothing on 2xx, or throws what it means.
#[wasm_bindgen(js_name = uploadAnswer)]
pub fn upload_answer(status: u16, body: JsValue) -> Result<(), JsValue> {
    // Only a refusal's body is read (into wasm memory): a success's says nothing.
    throw(if (200..300).contains(&status) { Ok(()) } else { answers::upload(status, &text(&body)) })
}

/// Internal: the `StorageError` a download's non-2xx answer means.
#[wasm_bindgen(js_name = downloadFailure)]
pub fn download_failure(file_id: JsValue, status: u16, body: JsValue) -> JsValue {
    from_failure(answers::download_failure(&text(&file_id), status, &text(&body)))
}

/// Internal: the `StorageError` of a request that got no answer (`origin`: the page's,
/// or empty outside a browser).
#[wasm_bindgen(js_name = networkError)]
pub fn network_error(url: JsValue, origin: JsValue) -> JsValue {
    from_failure(Failure::no_answer(&text(&url), &text(&origin)))
}

/// Internal: the `StorageError` of a request that timed out after `ms`: a stall, or the
/// `deadline` of an upload that cannot report progress.
#[wasm_bindgen(js_name = timeoutError)]
pub fn timeout_error(url: JsValue, ms: f64, deadline: bool) -> JsValue {
    from_failure(Failure::timed_out(&text(&url), ms as u64, deadline))
}

/// Internal: checks file IDs; how many one backend call may carry (50).
#[wasm_bindgen(js_name = checkFileIds)]
pub fn check_file_ids(file_ids: JsValue, method: JsValue) -> Result<usize, JsValue> {
    throw(answers::check_file_ids(&file_ids, &text(&method)))
}

/// Internal: one result per file ID of a chunk, from a batch endpoint's answer.
#[wasm_bindgen(js_name = batchResults)]
pub fn batch_results(endpoint: JsValue, chunk: Array, answer: JsValue) -> Result<JsValue, JsValue> {
    throw(answers::batch_results(&text(&endpoint), &chunk, &answer))
}

/// Internal: how long to wait before retry number `retry` after an error with `code`
/// (HTTP `status`, 0 for none; `retryAfter`, the seconds the server asked for), in ms; -1
/// when a retry cannot fix it, the `retries` (`undefined`: 3) are used up, or the server
/// asked for a longer wait than the backoff allows. `random` is drawn uniformly from
/// [0, 1) by the caller: the backoff has full jitter.
#[wasm_bindgen(js_name = retryDelay)]
pub fn retry_delay(
    code: JsValue,
    status: u16,
    retry: u32,
    retries: f64,
    random: f64,
    retry_after: f64,
) -> f64 {
    let default = RetryPolicy::default();
    let policy = RetryPolicy { retries: whole(retries).unwrap_or(default.retries), ..default };
    match code.as_string().and_then(|code| ErrorCode::parse(&code)) {
        Some(code) if is_retryable(code, Some(status).filter(|s| *s != 0)) => policy
            .delay_after_ms(retry, random, whole(retry_after).map(|seconds| seconds.saturating_mul(1000)))
            .map_or(-1.0, f64::from),
        _ => -1.0,
    }
}

/// Internal: the `StorageError` for a caller's callback that threw (`message`: the
/// thrown error's, if it had one): `CREDENTIALS_FAILED` for `getUploadCredentials`,
/// `INVALID_ARGUMENT` for `headers`.
#[wasm_bindgen(js_name = callbackFailure)]
pub fn callback_failure(message: JsValue, credentials: bool) -> JsValue {
    let code = if credentials { ErrorCode::CredentialsFailed } else { ErrorCode::InvalidArgument };
    let message = message.as_string().unwrap_or_else(|| "a callback threw a non-Error value".into());
    from_failure(Failure::new(code, message))
}

/// Internal: the `StorageError` (`name: 'AbortError'`) of an aborted operation.
#[wasm_bindgen(js_name = abortError)]
pub fn abort_error() -> JsValue {
    from_failure(Failure::aborted())
}
