//! How requests leave the browser: one small interface, implemented over `fetch`.
//!
//! The upload logic ([`crate::client`]) only ever calls [`send`]; a WeChat mini-program
//! transport (`wx.request` / `wx.uploadFile`, which have neither fetch nor XHR) slots in
//! here without touching it. Every failure comes back as a [`Failure`] with a stable code:
//! a rejected `fetch` is `NETWORK` (or `ABORTED` when the caller's signal fired).

use js_sys::{Function, Promise};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, FormData, RequestCredentials, RequestInit, Response};
use wx_cloud_storage_core::ErrorCode;

use crate::failure::Failure;

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, bound directly so it works in windows and workers alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Promise;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
}

/// A request body.
#[derive(Debug)]
pub(crate) enum Body<'a> {
    /// No body (GET).
    Empty,
    /// `application/json`.
    Json(&'a str),
    /// `multipart/form-data`; the browser sets the boundary.
    Form(&'a FormData),
}

/// One HTTP request.
#[derive(Debug)]
pub(crate) struct HttpRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: Body<'a>,
    /// The fetch `credentials` mode (`include` for cookie sessions).
    pub(crate) credentials: Option<RequestCredentials>,
    pub(crate) signal: Option<&'a AbortSignal>,
}

/// Sends `request`; any HTTP status is an answer, only "no answer" is an error.
pub(crate) async fn send(request: HttpRequest<'_>) -> Result<Response, Failure> {
    let init = RequestInit::new();
    init.set_method(request.method);
    let headers = web_sys::Headers::new().map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
    for (name, value) in request.headers {
        headers.set(name, value).map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
    }
    match request.body {
        Body::Empty => {}
        Body::Json(json) => {
            headers.set("content-type", "application/json").expect("a valid header");
            init.set_body(&JsValue::from_str(json));
        }
        Body::Form(form) => init.set_body(form),
    }
    init.set_headers(&headers);
    if let Some(mode) = request.credentials {
        init.set_credentials(mode);
    }
    if let Some(signal) = request.signal {
        init.set_signal(Some(signal));
    }
    match JsFuture::from(global_fetch(request.url, &init)).await {
        Ok(response) => Ok(response.unchecked_into()),
        Err(_) if request.signal.is_some_and(AbortSignal::aborted) => Err(Failure::aborted()),
        Err(_) => Err(no_answer(request.url)),
    }
}

/// `NETWORK`, saying what to check. The browser hides why a request got no answer, and
/// the usual reason is CORS, so the message names this page's origin.
fn no_answer(url: &str) -> Failure {
    // `location.origin` of the page or worker, read through Reflect: a wasm-bindgen static
    // for it costs ~5 KB of thread-local machinery.
    let origin = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("location"))
        .and_then(|location| js_sys::Reflect::get(&location, &JsValue::from_str("origin")))
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

/// The response body as text.
pub(crate) async fn text(response: &Response) -> Result<String, Failure> {
    let promise = response.text().map_err(|e| Failure::from_js(ErrorCode::Network, &e))?;
    let value = JsFuture::from(promise).await.map_err(|e| Failure::from_js(ErrorCode::Network, &e))?;
    Ok(value.as_string().unwrap_or_default())
}

/// The response body as a `Blob` (never copied into wasm memory).
pub(crate) async fn blob(response: &Response) -> Result<Blob, Failure> {
    let promise = response.blob().map_err(|e| Failure::from_js(ErrorCode::Network, &e))?;
    let value = JsFuture::from(promise).await.map_err(|e| Failure::from_js(ErrorCode::Network, &e))?;
    Ok(value.unchecked_into())
}

/// Waits `ms` milliseconds.
pub(crate) async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, f64::from(ms));
    });
    let _ = JsFuture::from(promise).await;
}

#[wasm_bindgen(module = "/src/js/xhr.js")]
extern "C" {
    #[wasm_bindgen(js_name = xhrUpload)]
    fn xhr_upload_js(
        url: &str,
        form: &FormData,
        signal: Option<&AbortSignal>,
        on_progress: &Function,
    ) -> Promise;
}

/// A COS answer read in full: the status and the body text.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) text: String,
}

/// POSTs `form` with `XMLHttpRequest`, calling `on_progress(sent, total, waiting)` as
/// bytes leave (`waiting` once the last byte is out and the server is processing).
pub(crate) async fn post_form_with_progress(
    url: &str,
    form: &FormData,
    signal: Option<&AbortSignal>,
    on_progress: &Function,
) -> Result<Answer, Failure> {
    let result =
        JsFuture::from(xhr_upload_js(url, form, signal, on_progress)).await.unwrap_or(JsValue::UNDEFINED);
    let get =
        |name: &str| js_sys::Reflect::get(&result, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if get("aborted").is_truthy() || signal.is_some_and(AbortSignal::aborted) {
        return Err(Failure::aborted());
    }
    match get("status").as_f64() {
        Some(status) if status > 0.0 => {
            Ok(Answer { status: status as u16, text: get("text").as_string().unwrap_or_default() })
        }
        _ => Err(no_answer(url)),
    }
}
