//! How requests leave the browser: one small interface, [`request`] and [`upload_form`].
//!
//! Both are implemented in `src/js/transport.js` (fetch and `XMLHttpRequest`); the upload
//! logic in [`crate::client`] calls nothing else, so a WeChat mini-program transport
//! (`wx.request` / `wx.uploadFile`, which have neither fetch nor XHR) is another JS file
//! with the same two functions. Every outcome comes back as an [`Answer`] (any HTTP
//! status) or a [`Failure`] with a stable code: `NETWORK` for no answer, `ABORTED` when
//! the caller's signal fired, `TIMEOUT` when no byte moved for the stall time.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, FormData};
use wx_cloud_storage_core::ErrorCode;

use crate::failure::Failure;

#[wasm_bindgen(module = "/src/js/transport.js")]
extern "C" {
    #[wasm_bindgen(js_name = request)]
    #[allow(clippy::too_many_arguments)]
    fn request_js(
        url: &str,
        method: &str,
        headers: &Object,
        body: &JsValue,
        credentials: Option<&str>,
        signal: Option<&AbortSignal>,
        stall_ms: f64,
        as_blob: bool,
        on_progress: Option<&Function>,
    ) -> Promise;

    #[wasm_bindgen(js_name = uploadForm)]
    fn upload_form_js(
        url: &str,
        form: &FormData,
        signal: Option<&AbortSignal>,
        stall_ms: f64,
        on_progress: Option<&Function>,
    ) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
}

/// One request through [`request`].
#[derive(Debug)]
pub(crate) struct HttpRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(String, String)],
    /// A JSON text, sent as `application/json`; `None` for no body.
    pub(crate) json: Option<&'a str>,
    /// The fetch `credentials` mode (`include` for cookie sessions).
    pub(crate) credentials: Option<&'a str>,
    pub(crate) signal: Option<&'a AbortSignal>,
    /// Milliseconds without a byte moving before the request fails with `TIMEOUT`.
    pub(crate) stall_ms: f64,
}

/// An HTTP answer: the status and the body (a string, or a `Blob` when asked for one).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: JsValue,
}

impl Answer {
    /// The body as text (empty for a `Blob`).
    pub(crate) fn text(&self) -> String {
        self.body.as_string().unwrap_or_default()
    }

    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `request` by fetch. With `blob_progress`, a 2xx body comes back as a `Blob`,
/// streamed (never through wasm memory), calling the function (if any) with
/// `{loaded, total}` when the length is known; otherwise as text.
pub(crate) async fn request(
    request: HttpRequest<'_>,
    blob_progress: Option<Option<&Function>>,
) -> Result<Answer, Failure> {
    let headers = Object::new();
    for (name, value) in request.headers {
        let _ = Reflect::set(&headers, &JsValue::from_str(name), &JsValue::from_str(value));
    }
    let body = match request.json {
        Some(json) => {
            let _ = Reflect::set(&headers, &"content-type".into(), &"application/json".into());
            JsValue::from_str(json)
        }
        None => JsValue::UNDEFINED,
    };
    let promise = request_js(
        request.url,
        request.method,
        &headers,
        &body,
        request.credentials,
        request.signal,
        request.stall_ms,
        blob_progress.is_some(),
        blob_progress.flatten(),
    );
    outcome(promise, request.url, request.stall_ms).await
}

/// POSTs `form` by `XMLHttpRequest`, calling `on_progress(sent, total, waiting)` as bytes
/// leave (`waiting` once the last byte is out and the server is processing).
pub(crate) async fn upload_form(
    url: &str,
    form: &FormData,
    signal: Option<&AbortSignal>,
    stall_ms: f64,
    on_progress: Option<&Function>,
) -> Result<Answer, Failure> {
    outcome(upload_form_js(url, form, signal, stall_ms, on_progress), url, stall_ms).await
}

/// Reads what a transport function resolved with.
async fn outcome(promise: Promise, url: &str, stall_ms: f64) -> Result<Answer, Failure> {
    let result = JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED);
    let get = |name: &str| Reflect::get(&result, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if get("aborted").is_truthy() {
        return Err(Failure::aborted());
    }
    if get("timeout").is_truthy() {
        return Err(Failure::new(
            ErrorCode::Timeout,
            format!("no byte moved to or from {url} for {} ms (timeoutMs)", stall_ms as u32),
        ));
    }
    match get("status").as_f64() {
        Some(status) if status > 0.0 => Ok(Answer { status: status as u16, body: get("body") }),
        _ => Err(no_answer(url)),
    }
}

/// `NETWORK`, saying what to check. The browser hides why a request got no answer, and
/// the usual reason is CORS, so the message names this page's origin.
fn no_answer(url: &str) -> Failure {
    // `location.origin` of the page or worker, read through Reflect: a wasm-bindgen static
    // for it costs ~5 KB of thread-local machinery.
    let origin = Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
        .and_then(|location| Reflect::get(&location, &JsValue::from_str("origin")))
        .ok()
        .and_then(|origin| origin.as_string())
        .unwrap_or_default();
    Failure::new(
        ErrorCode::Network,
        format!(
            "no answer from {url}: check the network, then that {origin} is allowed by that server's CORS \
             settings (for COS: add {origin} to the environment's Web 安全域名)"
        ),
    )
}

/// Waits `ms` milliseconds.
pub(crate) async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, f64::from(ms));
    });
    let _ = JsFuture::from(promise).await;
}
