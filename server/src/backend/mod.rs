//! `wxcs serve`: the credential backend the browser library talks to.
//!
//! The contract (architecture.md): `POST {prefix}/upload-credentials`, `/download-urls`,
//! `/delete` (and `/verify`, when the policy limits uploads), JSON in and out, errors as
//! `{code, message}`. Every request is authenticated ([`Authenticator`]), rate-limited, and
//! checked against the [`Policy`]: the client's path is never trusted as is, file IDs that
//! are not the caller's are refused per item before any upstream call, and when the policy
//! limits size or type, the object that really landed is checked ([`verify`]).

mod auth;
mod demo;
mod integrity;
mod policy;
mod verify;

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Body},
    extract::{ConnectInfo, Request, State as Extract},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Json, Router,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
};
use wx_cloud_storage_core::{
    batch::MAX_BATCH,
    protocol::{
        item_error_code, DeleteRequest, DownloadUrlsRequest, FileId, UploadCredentialsRequest,
        STATUS_NO_PERMISSION,
    },
    ErrorCode, KeyError,
};

pub use auth::{Authenticator, BearerTokens, WxOpenId};
pub use policy::{ItemRefusal, Policy, StoredObject};

use crate::client::{ClientError, StorageClient};
use policy::RateLimiter;
use verify::Pending;

/// Largest request body the backend reads (a batch of 50 file IDs is ~5 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error answer: `{code, message}` with an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// One of the core's codes.
    pub code: &'static str,
    /// What to do, for people.
    pub message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None }
    }
    pub(crate) fn invalid_key(e: &KeyError) -> ApiError {
        ApiError::new(400, ErrorCode::InvalidKey.as_str(), e.message())
    }
    pub(crate) fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(400, ErrorCode::InvalidArgument.as_str(), message)
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, ErrorCode::Forbidden.as_str(), message)
    }
    pub(crate) fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(413, ErrorCode::TooLarge.as_str(), message)
    }
    fn rate_limited(wait: u64, message: &str) -> ApiError {
        let mut e =
            ApiError::new(429, ErrorCode::RateLimited.as_str(), format!("{message}; retry in {wait} s"));
        e.retry_after = Some(wait);
        e
    }
    fn unauthorized() -> ApiError {
        ApiError::new(
            401,
            ErrorCode::Unauthorized.as_str(),
            "sign in first: no valid credentials on this request",
        )
    }
}

impl From<ClientError> for ApiError {
    /// What the page is told of an upstream failure. WeChat's `errmsg` stays in the server
    /// log: it can name the server's egress IP (40164) or other internals.
    fn from(e: ClientError) -> ApiError {
        let status = match e.code {
            ErrorCode::Timeout => 504,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::InvalidKey | ErrorCode::InvalidArgument => 400,
            _ => 502,
        };
        let message = match e.errcode {
            Some(errcode) => {
                tracing::warn!(errcode, "WeChat refused a call: {}", e.message);
                format!("WeChat refused the call (errcode {errcode}); the details are in the server's log")
            }
            None => e.message,
        };
        ApiError::new(status, e.code.as_str(), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response =
            (status, Json(json!({ "code": self.code, "message": self.message }))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Everything the backend needs.
#[derive(Debug)]
pub struct Backend {
    /// The storage client requests are forwarded with.
    pub client: StorageClient,
    /// Who is calling.
    pub auth: Box<dyn Authenticator>,
    /// What they may do.
    pub policy: Policy,
    /// Origins allowed to call the backend from a browser (`*` for any, without cookies;
    /// named origins may also send cookies; empty for none, i.e. same-origin only).
    pub allow_origins: Vec<String>,
    /// Mount point of the endpoints. Default `/api/storage`.
    pub prefix: String,
    /// Serve `POST /api/demo/grayscale` (the example pages' processing round trip).
    pub demo_endpoints: bool,
    /// Longest a client may take to send a request body. Default 10 s.
    pub body_timeout: Duration,
    /// When the policy limits uploads: how long after its link was issued an upload the
    /// client never reported is checked anyway (the link's 900 s, and a minute). Default 960 s.
    pub verify_after: Duration,
    limiter: RateLimiter,
    failed_logins: RateLimiter,
    pending: Pending,
    /// The environment's bucket, learned from the first upload link WeChat issues.
    bucket: OnceLock<String>,
}

impl Backend {
    /// A backend with the default prefix, no CORS origins and no demo endpoints.
    pub fn new(client: StorageClient, auth: Box<dyn Authenticator>, policy: Policy) -> Backend {
        Backend {
            client,
            auth,
            policy,
            allow_origins: Vec::new(),
            prefix: "/api/storage".into(),
            demo_endpoints: false,
            body_timeout: Duration::from_secs(10),
            verify_after: Duration::from_secs(960),
            limiter: RateLimiter::default(),
            failed_logins: RateLimiter::default(),
            pending: Pending::default(),
            bucket: OnceLock::new(),
        }
    }

    /// The backend's routes; also starts the check of uploads nobody reported (when the
    /// policy limits uploads), so it must be called inside a Tokio runtime.
    pub fn router(self) -> Router {
        let cors = cors_layer(&self.allow_origins);
        let prefix = self.prefix.trim_end_matches('/').to_owned();
        let demo = self.demo_endpoints;
        let state = Arc::new(self);
        if state.policy.checks_uploads() {
            tokio::spawn(verify::sweep(Arc::downgrade(&state)));
        }
        let mut api = Router::new()
            .route(&format!("{prefix}/upload-credentials"), post(upload_credentials))
            .route(&format!("{prefix}/download-urls"), post(download_urls))
            .route(&format!("{prefix}/delete"), post(delete))
            .route(&format!("{prefix}/verify"), post(verify::verify))
            .route(&format!("{prefix}/exists"), post(integrity::exists));
        if demo {
            api = api.route("/api/demo/grayscale", post(demo::grayscale));
        }
        api.route_layer(middleware::from_fn(require_json))
            .route("/healthz", get(|| async { "ok" }))
            .layer(cors)
            .layer(middleware::from_fn(access_log))
            .layer(CatchPanicLayer::custom(|_| {
                ApiError::new(500, ErrorCode::Server.as_str(), "the backend failed on this request")
                    .into_response()
            }))
            .with_state(state)
    }

    /// Authenticates and rate-limits a request; the user ID. Failed sign-ins are limited
    /// per client address, so guessing tokens is slow.
    pub(crate) async fn user(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<String, ApiError> {
        let Some(uid) = self.auth.authenticate(headers).await else {
            let address = peer.map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string());
            if let Err(wait) = self.failed_logins.check(&address, self.policy.failed_logins_per_minute) {
                return Err(ApiError::rate_limited(wait, "too many failed sign-ins from this address"));
            }
            return Err(ApiError::unauthorized());
        };
        if !auth::is_safe_uid(&uid) {
            tracing::error!("the authenticator returned a user ID that is unsafe in keys; refusing");
            return Err(ApiError::new(
                500,
                ErrorCode::Server.as_str(),
                "this user cannot be given a storage folder",
            ));
        }
        if let Err(wait) = self.limiter.check(&uid, self.policy.rate_per_minute) {
            return Err(ApiError::rate_limited(wait, "too many requests"));
        }
        Ok(uid)
    }

    /// The client to forward with: in cloudbase-token mode, with the token Cloud Run put
    /// on this request.
    pub(crate) fn client_for(&self, headers: &HeaderMap) -> StorageClient {
        match headers.get("x-wx-cloudbase-access-token").and_then(|v| v.to_str().ok()) {
            Some(token) => self.client.with_cloudbase_token(token),
            None => self.client.clone(),
        }
    }

    /// The environment's bucket: learned from the first upload link, or, before any, from
    /// a link for `key` asked for now (a link alone stores nothing).
    pub(crate) async fn bucket(&self, client: &StorageClient, key: &str) -> Result<String, ApiError> {
        if let Some(bucket) = self.bucket.get() {
            return Ok(bucket.clone());
        }
        let credentials = client.upload_link(key).await?;
        let id = FileId::parse(&credentials.file_id).ok_or_else(|| {
            ApiError::new(502, ErrorCode::WechatApi.as_str(), "tcb/uploadfile answered a malformed file_id")
        })?;
        Ok(self.bucket.get_or_init(|| id.bucket.to_owned()).clone())
    }

    /// Checks that `file_id` is the user's (see [`Policy::check_file_id`]).
    pub(crate) fn check_file_id(&self, uid: &str, file_id: &str) -> Result<(), ItemRefusal> {
        self.policy.check_file_id(uid, file_id, self.client.env(), self.bucket.get().map(String::as_str))
    }
}

/// CORS for the configured origins. Only a named list allows credentials (cookies), so a
/// backend whose authenticator reads a session cookie works from those pages and no other;
/// with `*`, browsers send no cookie and read no answer made with one.
fn cors_layer(origins: &[String]) -> CorsLayer {
    let any = origins.iter().any(|o| o == "*");
    let allow = if any {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(!any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // So a page can read how long a 429 asks it to wait.
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Refuses a POST whose body is not declared JSON (415). A cross-site page can send a
/// `text/plain` POST with no preflight; with cookie sessions that would be a forged call.
/// `application/json` needs a preflight, which CORS then answers.
async fn require_json(request: Request, next: Next) -> Response {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if request.method() == Method::POST && !json {
        return ApiError::new(
            415,
            ErrorCode::InvalidArgument.as_str(),
            "send the body as Content-Type: application/json",
        )
        .into_response();
    }
    next.run(request).await
}

/// One log line per request: method, path, status, time. Never headers or query strings,
/// which may carry credentials.
async fn access_log(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, path = %path.escape_debug(), status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

type Shared = Arc<Backend>;

/// The caller's address, when the listener gave it (`crate::http::serve` does).
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The address in a [`Peer`].
fn address(peer: Peer) -> Option<SocketAddr> {
    peer.map(|Extension(ConnectInfo(address))| address)
}

/// Reads a JSON body of at most [`MAX_BODY_BYTES`], within the body timeout.
pub(crate) async fn read_json<T: DeserializeOwned>(backend: &Backend, body: Body) -> Result<T, ApiError> {
    let bytes = tokio::time::timeout(backend.body_timeout, to_bytes(body, MAX_BODY_BYTES))
        .await
        .map_err(|_| {
            ApiError::new(
                408,
                ErrorCode::Timeout.as_str(),
                format!("the request body took over {:?}", backend.body_timeout),
            )
        })?
        .map_err(|_| ApiError::too_large(format!("request bodies are limited to {MAX_BODY_BYTES} bytes")))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid_argument(format!("bad JSON body: {e}")))
}

/// The body of a request about one file.
#[derive(serde::Deserialize)]
pub(crate) struct FileRequest {
    pub(crate) file_id: String,
    /// `verify`'s: the CRC-64 the client computed of what it sent.
    #[serde(default)]
    pub(crate) crc64: Option<String>,
}

/// A request about one of the caller's files (`{"file_id"}`): authenticated, read, and the
/// file ID checked like a batch item (403 `FORBIDDEN` when not the caller's, 400
/// `INVALID_KEY` or `INVALID_ARGUMENT` when malformed).
/// The user ID and the request.
pub(crate) async fn own_file(
    backend: &Backend,
    peer: Peer,
    headers: &HeaderMap,
    body: Body,
) -> Result<(String, FileRequest), ApiError> {
    let uid = backend.user(headers, address(peer)).await?;
    let request: FileRequest = read_json(backend, body).await?;
    backend.check_file_id(&uid, &request.file_id).map_err(|refusal| {
        let status = if refusal.code == ErrorCode::Forbidden { 403 } else { 400 };
        ApiError::new(status, refusal.code.as_str(), refusal.message)
    })?;
    Ok((uid, request))
}

async fn upload_credentials(
    Extract(backend): Extract<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers, address(peer)).await?;
    let request: UploadCredentialsRequest = read_json(&backend, body).await?;
    let key = backend.policy.resolve_upload_key(&uid, &request.path)?;
    backend.policy.check_upload(request.size, request.content_type.as_deref())?;
    let credentials = backend.client_for(&headers).upload_link(&key).await?;
    if let Some(id) = FileId::parse(&credentials.file_id) {
        let _ = backend.bucket.set(id.bucket.to_owned());
    }
    let mut answer = serde_json::to_value(&credentials).expect("credentials serialise");
    // Always say which key the link is for, so the page sends exactly that.
    answer["key"] = json!(key);
    if backend.policy.checks_uploads() {
        backend.pending.add(&credentials.file_id, &uid, Instant::now() + backend.verify_after)?;
        // Tells the library to report the upload, so the object is checked at once.
        answer["verify"] = json!(true);
    }
    Ok(Json(answer).into_response())
}

/// Forwards the caller's own file IDs with `forward` and returns one item per requested ID,
/// in input order: the forwarded answers, and a per-item refusal (with its `code`) for IDs
/// that are not the caller's, which never reach WeChat. One foreign ID never fails the
/// whole batch.
async fn forward_owned<T, F, Fut>(
    backend: &Backend,
    uid: &str,
    file_ids: &[String],
    forward: F,
) -> Result<Vec<Value>, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, ClientError>>,
{
    if file_ids.is_empty() {
        return Err(ApiError::invalid_argument("file_ids is empty"));
    }
    if file_ids.len() > MAX_BATCH {
        return Err(ApiError::invalid_argument(format!(
            "at most {MAX_BATCH} file_ids per request; the library splits larger lists"
        )));
    }
    let checked: Vec<Result<(), ItemRefusal>> =
        file_ids.iter().map(|id| backend.check_file_id(uid, id)).collect();
    let allowed: Vec<String> =
        file_ids.iter().zip(&checked).filter(|(_, check)| check.is_ok()).map(|(id, _)| id.clone()).collect();
    let asked = allowed.len();
    let answers = if allowed.is_empty() { Vec::new() } else { forward(allowed).await? };
    if answers.len() != asked {
        return Err(ApiError::new(
            502,
            ErrorCode::WechatApi.as_str(),
            "WeChat answered without one item per file ID",
        ));
    }
    let mut answers = answers.into_iter();
    Ok(file_ids
        .iter()
        .zip(checked)
        .map(|(id, check)| match check {
            Ok(()) => answers.next().map_or(Value::Null, |answer| without_internals(json!(answer))),
            Err(refusal) => refused_item(id, &refusal),
        })
        .collect())
}

/// A WeChat list item as the page sees it: a failed item carries the library's `code`,
/// and its `errmsg` is that code; WeChat's own errmsg goes to the server's log only.
fn without_internals(mut item: Value) -> Value {
    let status = item["status"].as_i64().unwrap_or(0);
    if status != 0 {
        let errmsg = item["errmsg"].as_str().unwrap_or_default();
        let code = item_error_code(status, errmsg);
        tracing::info!(status, "a list item failed: {}", errmsg.escape_debug());
        item["code"] = json!(code.as_str());
        item["errmsg"] = json!(code.as_str());
    }
    item
}

fn refused_item(file_id: &str, refusal: &ItemRefusal) -> Value {
    json!({
        "fileid": file_id,
        "status": STATUS_NO_PERMISSION,
        "errmsg": format!("{}: {}", refusal.code, refusal.message),
        "code": refusal.code.as_str(),
    })
}

async fn download_urls(
    Extract(backend): Extract<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers, address(peer)).await?;
    let request: DownloadUrlsRequest = read_json(&backend, body).await?;
    let max_age = request.max_age.unwrap_or(3600).clamp(1, backend.policy.max_link_age);
    let client = backend.client_for(&headers);
    let file_list = forward_owned(&backend, &uid, &request.file_ids, |ids| async move {
        client.temp_urls(&ids, max_age).await
    })
    .await?;
    Ok(Json(json!({ "file_list": file_list })).into_response())
}

async fn delete(
    Extract(backend): Extract<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers, address(peer)).await?;
    let request: DeleteRequest = read_json(&backend, body).await?;
    let client = backend.client_for(&headers);
    let delete_list =
        forward_owned(&backend, &uid, &request.file_ids, |ids| async move { client.delete(&ids).await })
            .await?;
    Ok(Json(json!({ "delete_list": delete_list })).into_response())
}
