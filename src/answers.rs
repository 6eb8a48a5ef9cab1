//! What an answer means: a backend call's, a COS upload's or a download's HTTP answer,
//! turned into a value or the typed failure it stands for; and the per-file results of
//! the batch endpoints. The transport (fetch/XHR in browsers, `wx.*` in mini programs)
//! hands over the status and the body text; nothing here depends on which one sent it.

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};
use wx_cloud_storage_core::{
    batch::MAX_BATCH,
    protocol::{item_error_code, CosError},
    text::decimal,
    ErrorCode,
};

use crate::{
    failure::Failure,
    js_error::from_failure,
    js_value::{get, set, string, text},
};

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string, which stays in JS (js_sys's takes a Rust `&str`, which
    /// would be copied into wasm memory and back).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// The parsed JSON object a credential backend answered, or the failure its answer means
/// (`{code, message}` bodies follow the contract; other bodies map by HTTP status). `body`
/// is the answer's text, or its value when the transport parsed a 2xx as JSON already;
/// `url` is read only for a failure's message. The seconds of a `Retry-After` ride on the
/// failure.
pub(crate) fn backend(
    url: &JsValue,
    status: u16,
    body: &JsValue,
    retry_after: Option<u32>,
) -> Result<JsValue, Failure> {
    let parsed = if body.is_string() { parse_json(body).ok() } else { Some(body.clone()) };
    if is_success(status) {
        return parsed.filter(JsValue::is_object).ok_or_else(|| {
            Failure::new(
                ErrorCode::CredentialsFailed,
                [&text(url), " answered a body that is not a JSON object"].concat(),
            )
            .with_status(status)
        });
    }
    let body = parsed.unwrap_or(JsValue::UNDEFINED);
    let named = |name| string(&body, name);
    let code = named("code")
        .and_then(|c| ErrorCode::parse(&c))
        .or_else(|| ErrorCode::from_backend_status(status))
        .unwrap_or(ErrorCode::CredentialsFailed);
    let message = named("message").unwrap_or_else(|| "no message".into());
    Err(Failure::new(code, [&text(url), " answered ", &decimal(status.into()), ": ", &message].concat())
        .with_status(status)
        .with_retry_after(retry_after))
}

/// `Ok` for a 2xx from COS, else the failure COS's XML `<Error>` means.
pub(crate) fn upload(status: u16, body: &str) -> Result<(), Failure> {
    if is_success(status) {
        return Ok(());
    }
    let cos = CosError::scan(body);
    let message =
        ["COS refused the upload (", &decimal(status.into()), " ", &cos.code, "): ", &cos.message].concat();
    Err(Failure::new(cos.error_code(status), message).with_status(status).with_cos(cos.code, cos.request_id))
}

/// The failure a download's non-2xx answer means.
pub(crate) fn download_failure(file_id: &str, status: u16, body: &str) -> Failure {
    let cos = CosError::scan(body);
    let code = ErrorCode::from_download_status(status);
    let message =
        ["downloading ", file_id, " failed (", &decimal(status.into()), " ", &cos.code, "): ", &cos.message]
            .concat();
    Failure::new(code, message).with_status(status).with_cos(cos.code, cos.request_id)
}

/// Checks `fileIds` (a non-empty array of strings); the most IDs one backend call may
/// carry, for the caller to send them in chunks of that size, in order.
pub(crate) fn check_file_ids(file_ids: &JsValue, method: &str) -> Result<usize, Failure> {
    let invalid = |rule: &str| Failure::invalid([method, "(fileIds): ", rule].concat());
    let array = file_ids.dyn_ref::<Array>().ok_or_else(|| invalid("fileIds must be an array"))?;
    if array.length() == 0 {
        return Err(invalid("fileIds is empty"));
    }
    if !array.iter().all(|id| id.is_string()) {
        return Err(invalid("every file ID must be a string"));
    }
    Ok(MAX_BATCH)
}

/// One result per file ID of `chunk`, in order, from a batch endpoint's `answer`:
/// `{fileId, ok: true}` (with `url` for `download-urls`) or `{fileId, ok: false, error}`
/// with the code the item's `status` means. An answer without one item per ID is a
/// `CREDENTIALS_FAILED` for the whole chunk.
pub(crate) fn batch_results(endpoint: &str, chunk: &Array, answer: &JsValue) -> Result<JsValue, Failure> {
    let with_url = endpoint == "download-urls";
    let list_name = if with_url { "file_list" } else { "delete_list" };
    let list = get(answer, list_name);
    let list = list.dyn_ref::<Array>().filter(|l| l.length() == chunk.length()).ok_or_else(|| {
        Failure::new(
            ErrorCode::CredentialsFailed,
            [endpoint, " answered without one `", list_name, "` item per file ID"].concat(),
        )
    })?;
    let results: Array = chunk
        .iter()
        .zip(list.iter())
        .map(|(id, item)| {
            let result: JsValue = Object::new().into();
            set(&result, "fileId", id.clone());
            let status = get(&item, "status").as_f64().unwrap_or(0.0) as i64;
            set(&result, "ok", (status == 0).into());
            if status == 0 {
                if with_url {
                    set(&result, "url", get(&item, "download_url"));
                }
            } else {
                let errmsg = string(&item, "errmsg").unwrap_or_default();
                let id = id.as_string().unwrap_or_default();
                // The backend's own verdict (`code`, e.g. for a file ID that is not the
                // caller's) wins over what WeChat's status suggests.
                let code = string(&item, "code")
                    .and_then(|code| ErrorCode::parse(&code))
                    .unwrap_or_else(|| item_error_code(status, &errmsg));
                let failure = Failure::new(code, [id.as_str(), ": ", &errmsg].concat()).with_errcode(status);
                set(&result, "error", from_failure(failure));
            }
            result
        })
        .collect();
    Ok(results.into())
}
