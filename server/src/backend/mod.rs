//! `wxcs serve`: the credential backend the browser library talks to.
//!
//! The contract (architecture.md): `POST {prefix}/upload-credentials`, `/download-urls`,
//! `/delete`, JSON in and out, errors as `{code, message}`. Every request is authenticated
//! ([`Authenticator`]), rate-limited, and checked against the [`Policy`]: the client's path
//! is never trusted as is, and file IDs outside the user's folder are refused per item.

mod auth;
mod demo;
mod policy;

use std::{sync::Arc, time::Instant};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State as Extract},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tower_http::cors::{AllowOrigin, CorsLayer};
use wx_cloud_storage_core::{
    batch::MAX_BATCH,
    protocol::{DeleteRequest, DownloadUrlsRequest, UploadCredentialsRequest, STATUS_NO_PERMISSION},
    ErrorCode, KeyError,
};

pub use auth::{Authenticator, BearerTokens};
pub use policy::Policy;

use crate::client::{ClientError, StorageClient};
use policy::RateLimiter;

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
        ApiError::new(400, ErrorCode::InvalidKey.as_str(), e.to_string())
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
    fn unauthorized() -> ApiError {
        ApiError::new(
            401,
            ErrorCode::Unauthorized.as_str(),
            "sign in first: no valid credentials on this request",
        )
    }
}

impl From<ClientError> for ApiError {
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
        ApiError::new(status, e.code.as_str(), e.message)
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
    /// Origins allowed to call the backend from a browser (`*` for any; empty for none,
    /// i.e. same-origin only).
    pub allow_origins: Vec<String>,
    /// Mount point of the three endpoints. Default `/api/storage`.
    pub prefix: String,
    /// Serve `POST /api/demo/grayscale` (the example pages' processing round trip).
    pub demo_endpoints: bool,
    limiter: RateLimiter,
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
            limiter: RateLimiter::default(),
        }
    }

    /// The backend's routes.
    pub fn router(self) -> Router {
        let cors = cors_layer(&self.allow_origins);
        let prefix = self.prefix.trim_end_matches('/').to_owned();
        let demo = self.demo_endpoints;
        let state = Arc::new(self);
        let mut router = Router::new()
            .route(&format!("{prefix}/upload-credentials"), post(upload_credentials))
            .route(&format!("{prefix}/download-urls"), post(download_urls))
            .route(&format!("{prefix}/delete"), post(delete))
            .route("/healthz", get(|| async { "ok" }));
        if demo {
            router = router.route("/api/demo/grayscale", post(demo::grayscale));
        }
        router.layer(cors).layer(middleware::from_fn(access_log)).with_state(state)
    }

    /// Authenticates and rate-limits a request; the user ID.
    pub(crate) async fn user(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        let uid = self.auth.authenticate(headers).await.ok_or_else(ApiError::unauthorized)?;
        if !auth::is_safe_uid(&uid) {
            tracing::error!("the authenticator returned a user ID that is unsafe in keys; refusing");
            return Err(ApiError::new(
                500,
                ErrorCode::Server.as_str(),
                "this user cannot be given a storage folder",
            ));
        }
        if let Err(wait) = self.limiter.check(&uid, self.policy.rate_per_minute) {
            let mut e = ApiError::new(
                429,
                ErrorCode::RateLimited.as_str(),
                format!("too many requests; retry in {wait} s"),
            );
            e.retry_after = Some(wait);
            return Err(e);
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
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // So a page can read how long a 429 asks it to wait.
        .expose_headers([header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// One log line per request: method, path, status, time. Never headers or query strings,
/// which may carry credentials.
async fn access_log(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

type Shared = Arc<Backend>;

/// Reads a JSON body of at most [`MAX_BODY_BYTES`].
pub(crate) async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large(format!("request bodies are limited to {MAX_BODY_BYTES} bytes")))?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid_argument(format!("bad JSON body: {e}")))
}

async fn upload_credentials(
    Extract(backend): Extract<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers).await?;
    let request: UploadCredentialsRequest = read_json(body).await?;
    let key = backend.policy.resolve_upload_key(&uid, &request.path)?;
    backend.policy.check_upload(request.size, request.content_type.as_deref())?;
    let mut credentials = backend.client_for(&headers).upload_link(&key).await?;
    // Always say which key the link is for, so the page sends exactly that.
    credentials.key = Some(key);
    Ok(Json(credentials).into_response())
}

/// Forwards the caller's own file IDs with `forward` and returns one item per requested ID,
/// in input order: the forwarded answers, and a per-item refusal for IDs outside the
/// caller's folder (one foreign ID never fails the whole batch).
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
    let owned: Vec<bool> = file_ids.iter().map(|id| backend.policy.owns(uid, id)).collect();
    let allowed: Vec<String> =
        file_ids.iter().zip(&owned).filter(|(_, ok)| **ok).map(|(id, _)| id.clone()).collect();
    let mut answers = if allowed.is_empty() { Vec::new() } else { forward(allowed).await? }.into_iter();
    Ok(file_ids
        .iter()
        .zip(owned)
        .map(|(id, ok)| match ok.then(|| answers.next()).flatten() {
            Some(answer) => json!(answer),
            None => refused_item(id),
        })
        .collect())
}

fn refused_item(file_id: &str) -> Value {
    json!({ "fileid": file_id, "status": STATUS_NO_PERMISSION, "errmsg": "FORBIDDEN: this file is not in your folder" })
}

async fn download_urls(
    Extract(backend): Extract<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers).await?;
    let request: DownloadUrlsRequest = read_json(body).await?;
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
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers).await?;
    let request: DeleteRequest = read_json(body).await?;
    let client = backend.client_for(&headers);
    let delete_list =
        forward_owned(&backend, &uid, &request.file_ids, |ids| async move { client.delete(&ids).await })
            .await?;
    Ok(Json(json!({ "delete_list": delete_list })).into_response())
}
