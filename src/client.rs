//! The upload client behind the exported `StorageClient` class.
//!
//! It asks the app's credential backend for a link just before each upload (never in bulk,
//! so links cannot expire in a queue), builds the form from the core's plan (the `Blob`
//! goes into `FormData` as is, never into wasm memory), and posts it to COS. Transient
//! failures retry with backoff and full jitter; an expired link gets one fresh link.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Blob, DomParser, FormData, SupportedType};
use wx_cloud_storage_core::{
    batch,
    protocol::{item_error_code, CosError, UploadCredentials},
    retry::{is_retryable, RetryPolicy},
    validate_key, ErrorCode, UploadForm, FILE_FIELD,
};

use crate::{
    failure::Failure,
    js_error, options,
    transport::{self, Answer, HttpRequest},
};

/// COS POST Object's size limit.
const MAX_OBJECT_BYTES: f64 = 5.0 * 1024.0 * 1024.0 * 1024.0;

/// The constructor options, checked.
#[derive(Debug)]
pub(crate) struct Client {
    endpoint: String,
    /// An object of headers, or a function returning one (or a promise of one).
    headers: JsValue,
    /// The fetch `credentials` mode for backend calls.
    credentials: Option<&'static str>,
    retry: RetryPolicy,
    /// Milliseconds without a byte moving before a request fails with `TIMEOUT` (0: never).
    stall_ms: f64,
    /// How many files `uploadMany` sends at once.
    concurrency: usize,
    get_upload_credentials: Option<Function>,
}

/// Receives an upload's progress: bytes of the file sent, and whether the last byte is
/// out and the server is processing.
type ProgressSink = Rc<dyn Fn(f64, bool)>;

fn set(object: &Object, name: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

fn abort_check(signal: Option<&AbortSignal>) -> Result<(), Failure> {
    if signal.is_some_and(AbortSignal::aborted) {
        Err(Failure::aborted())
    } else {
        Ok(())
    }
}

/// A value a callback returned, awaited if it is a promise.
async fn settle(value: JsValue) -> Result<JsValue, JsValue> {
    match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

impl Client {
    /// Checks and keeps the constructor options.
    pub(crate) fn new(options: &JsValue) -> Result<Client, Failure> {
        options::check_object(options, "new StorageClient(options): options")?;
        let endpoint = options::string(options, "endpoint")?.unwrap_or_else(|| "/api/storage".into());
        let headers = options::field(options, "headers");
        if !(headers.is_undefined() || headers.is_null() || headers.is_object() || headers.is_function()) {
            return Err(Failure::invalid("headers must be an object or a function returning one"));
        }
        let credentials = match options::string(options, "credentials")?.as_deref() {
            None => None,
            Some("include") => Some("include"),
            Some("same-origin") => Some("same-origin"),
            Some("omit") => Some("omit"),
            Some(other) => {
                return Err(Failure::invalid(format!(
                    "credentials must be include, same-origin or omit, not \"{other}\""
                )))
            }
        };
        let mut retry = RetryPolicy::default();
        if let Some(retries) = options::number(options, "retries", 0, 10)? {
            retry.retries = retries as u32;
        }
        let concurrency = options::number(options, "concurrency", 1, 16)?.unwrap_or(3.0) as usize;
        let stall_ms = options::number(options, "timeoutMs", 0, 3_600_000)?.unwrap_or(60_000.0);
        let get_upload_credentials = options::function(options, "getUploadCredentials")?;
        Ok(Client {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            headers,
            credentials,
            retry,
            stall_ms,
            concurrency,
            get_upload_credentials,
        })
    }

    /// The headers for a backend call, from the object or the function.
    async fn headers(&self) -> Result<Vec<(String, String)>, Failure> {
        let mut value = self.headers.clone();
        if let Some(function) = value.dyn_ref::<Function>() {
            let returned = function
                .call0(&JsValue::NULL)
                .map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
            value = settle(returned).await.map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
        }
        if value.is_undefined() || value.is_null() {
            return Ok(Vec::new());
        }
        let object =
            value.dyn_into::<Object>().map_err(|_| Failure::invalid("headers must give an object"))?;
        Object::entries(&object)
            .iter()
            .map(|entry| {
                let pair: Array = entry.unchecked_into();
                match (pair.get(0).as_string(), pair.get(1).as_string()) {
                    (Some(name), Some(value)) => Ok((name, value)),
                    _ => Err(Failure::invalid("header values must be strings")),
                }
            })
            .collect()
    }

    /// Calls `POST {endpoint}/{path}` with `body`, retrying transient failures; the
    /// parsed JSON answer.
    async fn backend(
        &self,
        path: &str,
        body: &JsValue,
        signal: Option<&AbortSignal>,
    ) -> Result<JsValue, Failure> {
        let json = JSON::stringify(body).ok().and_then(|s| s.as_string()).unwrap_or_default();
        let url = format!("{}/{path}", self.endpoint);
        let mut retry = 0;
        loop {
            let headers = self.headers().await?;
            let request = HttpRequest {
                method: "POST",
                url: &url,
                headers: &headers,
                json: Some(&json),
                credentials: self.credentials,
                signal,
                stall_ms: self.stall_ms,
            };
            let failure = match transport::request(request, None).await {
                Ok(answer) => {
                    let status = answer.status;
                    let parsed = JSON::parse(&answer.text()).ok();
                    if answer.is_success() {
                        return parsed.filter(JsValue::is_object).ok_or_else(|| {
                            Failure::new(
                                ErrorCode::CredentialsFailed,
                                format!("{url} answered a body that is not a JSON object"),
                            )
                            .with_status(status)
                        });
                    }
                    backend_failure(&url, status, parsed.as_ref())
                }
                Err(failure) => failure,
            };
            if !is_retryable(failure.code, failure.status()) {
                return Err(failure);
            }
            retry += 1;
            let Some(delay) = self.retry.delay_ms(retry, js_sys::Math::random()) else { return Err(failure) };
            transport::sleep(delay).await;
            abort_check(signal)?;
        }
    }

    /// An upload link for `path`, from the custom callback or the backend.
    async fn upload_credentials(
        &self,
        path: &str,
        file: &Blob,
        content_type: Option<&str>,
        signal: Option<&AbortSignal>,
    ) -> Result<UploadCredentials, Failure> {
        let answer = match &self.get_upload_credentials {
            Some(callback) => {
                let returned = callback
                    .call2(&JsValue::NULL, &JsValue::from_str(path), file)
                    .map_err(|e| Failure::from_js(ErrorCode::CredentialsFailed, &e))?;
                settle(returned).await.map_err(|e| Failure::from_js(ErrorCode::CredentialsFailed, &e))?
            }
            None => {
                let body = Object::new();
                set(&body, "path", &JsValue::from_str(path));
                set(&body, "size", &JsValue::from_f64(file.size()));
                if let Some(content_type) = content_type {
                    set(&body, "contentType", &JsValue::from_str(content_type));
                }
                self.backend("upload-credentials", &body, signal).await?
            }
        };
        credentials_from(&answer)
    }

    /// `upload(file, path, options)`: `{fileId, key, size}`.
    pub(crate) async fn upload(
        &self,
        file: JsValue,
        path: JsValue,
        options: JsValue,
    ) -> Result<JsValue, Failure> {
        options::check_object(&options, "upload options")?;
        let on_progress = options::function(&options, "onProgress")?;
        let signal = options::signal(&options)?;
        let content_type = options::string(&options, "contentType")?;
        let (file, path) = upload_target(file, path)?;
        let size = file.size();
        let sink: Option<ProgressSink> = on_progress.map(|callback| {
            Rc::new(move |loaded: f64, waiting: bool| {
                let event = Object::new();
                set(&event, "loaded", &JsValue::from_f64(loaded));
                set(&event, "total", &JsValue::from_f64(size));
                set(&event, "phase", &JsValue::from_str(if waiting { "waiting" } else { "sending" }));
                // A throwing callback must never break the upload.
                let _ = callback.call1(&JsValue::NULL, &event);
            }) as ProgressSink
        });
        let (file_id, key) = self.upload_blob(&file, &path, content_type, signal.as_ref(), sink).await?;
        Ok(upload_result(&file_id, &key, size).into())
    }

    /// `uploadMany(items, options)`: one result per item, in input order; one failure never
    /// hides another's success.
    pub(crate) async fn upload_many(&self, items: JsValue, options: JsValue) -> Result<JsValue, Failure> {
        let items = items
            .dyn_into::<Array>()
            .map_err(|_| Failure::invalid("uploadMany(items): items must be an array of { file, path }"))?;
        if items.length() == 0 {
            return Err(Failure::invalid("uploadMany(items): items is empty"));
        }
        options::check_object(&options, "uploadMany options")?;
        let on_progress = options::function(&options, "onProgress")?;
        let has_progress = on_progress.is_some();
        let signal = options::signal(&options)?;
        let items: Vec<JsValue> = items.iter().collect();
        let sizes: Vec<f64> = items
            .iter()
            .map(|item| options::field(item, "file").dyn_into::<Blob>().map_or(0.0, |b| b.size()))
            .collect();
        let total: f64 = sizes.iter().sum();
        let loaded = Rc::new(RefCell::new(vec![0.0; items.len()]));
        // `{loaded, total, completed}` over the batch, and `item`: the file that moved.
        let item_sizes = sizes.clone();
        let report = Rc::new(move |loaded: &RefCell<Vec<f64>>, done: usize, index: usize| {
            if let Some(callback) = &on_progress {
                let loaded = loaded.borrow();
                let item = Object::new();
                set(&item, "index", &JsValue::from_f64(index as f64));
                set(&item, "loaded", &JsValue::from_f64(loaded[index]));
                set(&item, "total", &JsValue::from_f64(item_sizes[index]));
                let event = Object::new();
                set(&event, "loaded", &JsValue::from_f64(loaded.iter().sum()));
                set(&event, "total", &JsValue::from_f64(total));
                set(&event, "completed", &JsValue::from_f64(done as f64));
                set(&event, "item", &item);
                let _ = callback.call1(&JsValue::NULL, &event);
            }
        });
        let results: RefCell<Vec<JsValue>> = RefCell::new(vec![JsValue::UNDEFINED; items.len()]);
        let next = Cell::new(0);
        let done = Cell::new(0);
        let worker = || async {
            loop {
                let index = next.get();
                if index >= items.len() {
                    break;
                }
                next.set(index + 1);
                let item = &items[index];
                // No sink without a callback: upload listeners cost a CORS preflight.
                let sink = has_progress.then(|| {
                    let (loaded, report, done) = (loaded.clone(), report.clone(), done.get());
                    Rc::new(move |bytes: f64, _waiting: bool| {
                        loaded.borrow_mut()[index] = bytes;
                        report(&loaded, done, index);
                    }) as ProgressSink
                });
                let outcome = async {
                    let (file, path) =
                        upload_target(options::field(item, "file"), options::field(item, "path"))?;
                    let content_type = options::string(item, "contentType")?;
                    let (file_id, key) =
                        self.upload_blob(&file, &path, content_type, signal.as_ref(), sink).await?;
                    Ok::<_, Failure>(upload_result(&file_id, &key, file.size()))
                }
                .await;
                let result = match outcome {
                    Ok(result) => {
                        set(&result, "ok", &JsValue::TRUE);
                        result
                    }
                    Err(failure) => {
                        let result = Object::new();
                        set(&result, "ok", &JsValue::FALSE);
                        set(&result, "error", &js_error::from_failure(failure));
                        result
                    }
                };
                set(&result, "path", &options::field(item, "path"));
                results.borrow_mut()[index] = result.into();
                loaded.borrow_mut()[index] = sizes[index];
                done.set(done.get() + 1);
                report(&loaded, done.get(), index);
            }
        };
        futures_util::future::join_all((0..self.concurrency.min(items.len())).map(|_| worker())).await;
        Ok(results.into_inner().into_iter().collect::<Array>().into())
    }

    /// Uploads one file: a fresh link per attempt, retries with backoff, one fresh link if
    /// the link expired. `(fileId, key)`.
    async fn upload_blob(
        &self,
        file: &Blob,
        path: &str,
        content_type: Option<String>,
        signal: Option<&AbortSignal>,
        progress: Option<ProgressSink>,
    ) -> Result<(String, String), Failure> {
        // COS ignores the file part's MIME type, so the file's own type is sent as a field.
        let content_type = content_type.or_else(|| Some(file.type_()).filter(|t| !t.is_empty()));
        if file.size() > MAX_OBJECT_BYTES {
            return Err(Failure::new(
                ErrorCode::TooLarge,
                "the file is over COS's 5 GB limit for one upload",
            ));
        }
        let (mut retry, mut refreshed) = (0, false);
        loop {
            abort_check(signal)?;
            let credentials = self.upload_credentials(path, file, content_type.as_deref(), signal).await?;
            let form = UploadForm::new(&credentials, path, content_type.as_deref())
                .map_err(|e| Failure::new(e.code(), e.to_string()))?;
            let failure = match self.post_form(&form, file, signal, progress.as_ref()).await {
                Ok(()) => return Ok((credentials.file_id, form.key().to_owned())),
                Err(failure) => failure,
            };
            if failure.code == ErrorCode::CredentialsExpired && !refreshed {
                refreshed = true;
                continue;
            }
            if !is_retryable(failure.code, failure.status()) {
                return Err(failure);
            }
            retry += 1;
            let Some(delay) = self.retry.delay_ms(retry, js_sys::Math::random()) else { return Err(failure) };
            transport::sleep(delay).await;
        }
    }

    /// POSTs one form to COS: the text fields in the plan's order, then the file. It goes by
    /// XHR, the only browser API that reports upload progress, which both `onProgress`
    /// and the stall timer need.
    async fn post_form(
        &self,
        form: &UploadForm,
        file: &Blob,
        signal: Option<&AbortSignal>,
        progress: Option<&ProgressSink>,
    ) -> Result<(), Failure> {
        let data = FormData::new().map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
        for (name, value) in form.fields() {
            data.append_with_str(name, value)
                .map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
        }
        let file_name = form.key().rsplit('/').next().unwrap_or("file");
        data.append_with_blob_and_filename(FILE_FIELD, file, file_name)
            .map_err(|e| Failure::from_js(ErrorCode::InvalidArgument, &e))?;
        // The body is the form's fields, then the file, then a closing boundary: the
        // file's bytes are what was sent minus that overhead.
        let on_progress = progress.map(|sink| {
            let (sink, size) = (sink.clone(), file.size());
            Closure::<dyn Fn(f64, f64, bool)>::new(move |sent: f64, total: f64, waiting: bool| {
                let file_bytes = if waiting { size } else { (sent - (total - size)).clamp(0.0, size) };
                sink(file_bytes, waiting);
            })
        });
        let answer = transport::upload_form(
            form.url(),
            &data,
            signal,
            self.stall_ms,
            on_progress.as_ref().map(|c| c.as_ref().unchecked_ref()),
        )
        .await?;
        let status = answer.status;
        if answer.is_success() {
            return Ok(());
        }
        let cos = parse_cos_error(&answer.text());
        let message = format!("COS refused the upload ({status} {}): {}", cos.code, cos.message);
        Err(Failure::new(cos.error_code(status), message)
            .with_status(status)
            .with_cos(cos.code, cos.request_id))
    }

    /// `getTempFileUrls(fileIds, {maxAge})`: `{fileId, ok, url}` / `{fileId, ok, error}`
    /// per file, in input order.
    pub(crate) async fn temp_file_urls(
        &self,
        file_ids: JsValue,
        options: JsValue,
    ) -> Result<JsValue, Failure> {
        let ids = file_id_list(&file_ids, "getTempFileUrls")?;
        options::check_object(&options, "getTempFileUrls options")?;
        let max_age = options::number(&options, "maxAge", 1, 31_536_000)?.unwrap_or(3600.0);
        let signal = options::signal(&options)?;
        let outcomes =
            self.per_file(&ids, "download-urls", "file_list", Some(max_age), signal.as_ref()).await?;
        Ok(results(outcomes, |item, result| set(result, "url", &download_url(item))))
    }

    /// `delete(fileIds)`: `{fileId, ok}` / `{fileId, ok, error}` per file, in input order.
    pub(crate) async fn delete(&self, file_ids: JsValue) -> Result<JsValue, Failure> {
        let ids = file_id_list(&file_ids, "delete")?;
        let outcomes = self.per_file(&ids, "delete", "delete_list", None, None).await?;
        Ok(results(outcomes, |_, _| {}))
    }

    /// Sends `ids` to a batch endpoint in chunks of 50; each file's answered item, or the
    /// typed failure its `status` means, in input order.
    async fn per_file(
        &self,
        ids: &[String],
        endpoint: &str,
        list_name: &str,
        max_age: Option<f64>,
        signal: Option<&AbortSignal>,
    ) -> Result<Vec<(String, Result<JsValue, Failure>)>, Failure> {
        let mut outcomes = Vec::with_capacity(ids.len());
        for chunk in batch::chunks(ids) {
            abort_check(signal)?;
            let body = Object::new();
            set(&body, "file_ids", &chunk.iter().map(|id| JsValue::from_str(id)).collect::<Array>());
            if let Some(max_age) = max_age {
                set(&body, "max_age", &JsValue::from_f64(max_age));
            }
            let answer = self.backend(endpoint, &body, signal).await?;
            let list = options::field(&answer, list_name);
            let list =
                list.dyn_ref::<Array>().filter(|l| l.length() as usize == chunk.len()).ok_or_else(|| {
                    Failure::new(
                        ErrorCode::CredentialsFailed,
                        format!("{endpoint} answered without one `{list_name}` item per file ID"),
                    )
                })?;
            for (id, item) in chunk.iter().zip(list.iter()) {
                let status = options::field(&item, "status").as_f64().unwrap_or(0.0) as i64;
                let outcome = if status == 0 {
                    Ok(item)
                } else {
                    let errmsg = options::string(&item, "errmsg").ok().flatten().unwrap_or_default();
                    Err(Failure::new(item_error_code(status, &errmsg), format!("{id}: {errmsg}"))
                        .with_errcode(status))
                };
                outcomes.push((id.clone(), outcome));
            }
        }
        Ok(outcomes)
    }

    /// `download(fileId, {onProgress, signal})`: the file as a `Blob`, streamed; progress
    /// as `{loaded, total}` when the length is known.
    pub(crate) async fn download(&self, file_id: JsValue, options: JsValue) -> Result<JsValue, Failure> {
        let id = file_id
            .as_string()
            .ok_or_else(|| Failure::invalid("download(fileId): fileId must be a string"))?;
        options::check_object(&options, "download options")?;
        let signal = options::signal(&options)?;
        let on_progress = options::function(&options, "onProgress")?;
        let signal = signal.as_ref();
        let (_, outcome) = self
            .per_file(std::slice::from_ref(&id), "download-urls", "file_list", Some(600.0), signal)
            .await?
            .remove(0);
        let url = download_url(&outcome?).as_string().unwrap_or_default();
        let request = HttpRequest {
            method: "GET",
            url: &url,
            headers: &[],
            json: None,
            credentials: None,
            signal,
            stall_ms: self.stall_ms,
        };
        let answer = transport::request(request, Some(on_progress.as_ref())).await?;
        if !answer.is_success() {
            return Err(download_failure(&id, &answer));
        }
        Ok(answer.body)
    }
}

/// The failure for a download URL's non-2xx answer.
fn download_failure(id: &str, answer: &Answer) -> Failure {
    let status = answer.status;
    let cos = parse_cos_error(&answer.text());
    let code = match status {
        404 => ErrorCode::NotFound,
        403 => ErrorCode::Forbidden,
        500.. => ErrorCode::Server,
        _ => ErrorCode::UploadRejected,
    };
    let message = format!("downloading {id} failed ({status} {}): {}", cos.code, cos.message);
    Failure::new(code, message).with_status(status).with_cos(cos.code, cos.request_id)
}

fn download_url(item: &JsValue) -> JsValue {
    options::field(item, "download_url")
}

/// Per-file outcomes as JS results: `{fileId, ok: true, …}` or `{fileId, ok: false, error}`.
fn results(
    outcomes: Vec<(String, Result<JsValue, Failure>)>,
    on_success: impl Fn(&JsValue, &Object),
) -> JsValue {
    outcomes
        .into_iter()
        .map(|(id, outcome)| {
            let result = Object::new();
            set(&result, "fileId", &JsValue::from_str(&id));
            set(&result, "ok", &JsValue::from_bool(outcome.is_ok()));
            match outcome {
                Ok(item) => on_success(&item, &result),
                Err(failure) => set(&result, "error", &js_error::from_failure(failure)),
            }
            result
        })
        .collect::<Array>()
        .into()
}

/// The `file` and `path` of an upload, checked: a Blob, and a key that passes every rule
/// (so an invalid key fails before any request).
fn upload_target(file: JsValue, path: JsValue) -> Result<(Blob, String), Failure> {
    let file: Blob = file.dyn_into().map_err(|_| Failure::invalid("upload: file must be a Blob or File"))?;
    let path = path.as_string().ok_or_else(|| Failure::invalid("upload: path must be a string"))?;
    validate_key(&path).map_err(Failure::invalid_key)?;
    Ok((file, path))
}

/// `{fileId, key, size}`.
fn upload_result(file_id: &str, key: &str, size: f64) -> Object {
    let result = Object::new();
    set(&result, "fileId", &JsValue::from_str(file_id));
    set(&result, "key", &JsValue::from_str(key));
    set(&result, "size", &JsValue::from_f64(size));
    result
}

/// A non-empty array of file-ID strings.
fn file_id_list(value: &JsValue, method: &str) -> Result<Vec<String>, Failure> {
    let array = value
        .dyn_ref::<Array>()
        .ok_or_else(|| Failure::invalid(format!("{method}(fileIds): fileIds must be an array")))?;
    if array.length() == 0 {
        return Err(Failure::invalid(format!("{method}(fileIds): fileIds is empty")));
    }
    array
        .iter()
        .map(|id| {
            id.as_string()
                .ok_or_else(|| Failure::invalid(format!("{method}(fileIds): every file ID must be a string")))
        })
        .collect()
}

/// The failure for a backend's non-2xx answer (`{code, message}` when it follows the contract).
fn backend_failure(url: &str, status: u16, body: Option<&JsValue>) -> Failure {
    let field = |name| body.and_then(|b| options::string(b, name).ok().flatten());
    let code = field("code")
        .and_then(|c| ErrorCode::parse(&c))
        .or_else(|| ErrorCode::from_backend_status(status))
        .unwrap_or(ErrorCode::CredentialsFailed);
    let message = field("message").unwrap_or_else(|| "no message".into());
    Failure::new(code, format!("{url} answered {status}: {message}")).with_status(status)
}

/// Reads an upload link from the backend's (or callback's) answer, strictly.
fn credentials_from(answer: &JsValue) -> Result<UploadCredentials, Failure> {
    let errcode = options::field(answer, "errcode").as_f64().unwrap_or(0.0) as i64;
    if errcode != 0 {
        let errmsg = options::string(answer, "errmsg").ok().flatten().unwrap_or_default();
        return Err(Failure::new(ErrorCode::WechatApi, format!("WeChat errcode {errcode}: {errmsg}"))
            .with_errcode(errcode));
    }
    let required = |name: &str| {
        options::string(answer, name).ok().flatten().filter(|v| !v.is_empty()).ok_or_else(|| {
            Failure::new(
                ErrorCode::CredentialsFailed,
                format!("the upload credentials lack `{name}`: the backend must forward the tcb/uploadfile response unchanged"),
            )
        })
    };
    Ok(UploadCredentials {
        url: required("url")?,
        token: required("token")?,
        authorization: required("authorization")?,
        file_id: required("file_id")?,
        cos_file_id: required("cos_file_id")?,
        key: options::string(answer, "key").ok().flatten(),
    })
}

/// COS's XML `<Error>`, read with the browser's own parser (no XML code in the wasm).
fn parse_cos_error(xml: &str) -> CosError {
    let mut error = CosError::default();
    let Ok(parser) = DomParser::new() else { return error };
    let Ok(document) = parser.parse_from_string(xml, SupportedType::ApplicationXml) else { return error };
    let text = |tag: &str| {
        document.get_elements_by_tag_name(tag).item(0).and_then(|e| e.text_content()).unwrap_or_default()
    };
    error.code = text("Code");
    error.message = text("Message");
    error.request_id = text("RequestId");
    error
}
