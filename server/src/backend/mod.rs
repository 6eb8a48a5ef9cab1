//! `wxcs serve`: the credential backend the browser library talks to.
//!
//! The contract (README, "The credential backend contract"): `POST {prefix}/upload-credentials`,
//! `/download-urls`, `/delete`, `/verify` and `/exists`, JSON in and out, errors as
//! `{code, message}` ([`ApiError`]). Every request is authenticated ([`Caller`], through the
//! [`Authenticator`]), rate-limited, and checked against the [`Policy`]: the client's path
//! is never trusted as is, file IDs that are not the caller's are refused per item before
//! any upstream call, and when the policy limits size or type, the object that really
//! landed is checked ([`checks`]).
//!
//! Where things are: `endpoints/` holds one handler per endpoint; `extract.rs` what they
//! take from a request; `error.rs` the one error answer; `middleware.rs` CORS, the JSON-only
//! rule and the access log; `policy.rs` what a user may do; `auth.rs` who is calling.

mod auth;
mod checks;
mod endpoints;
mod error;
mod extract;
mod middleware;
mod policy;
mod rate_limit;

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    http::HeaderMap,
    middleware::from_fn,
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use tower_http::catch_panic::CatchPanicLayer;
use wx_cloud_storage_core::{protocol::FileId, ErrorCode};

pub use auth::{Authenticator, BearerTokens, WxOpenId};
pub use error::{ApiError, Refusal};
pub use extract::{AppJson, Caller, Upstream, MAX_BODY_BYTES};
pub use policy::{Policy, StoredObject};

use crate::client::StorageClient;
use checks::Pending;
use endpoints::{batch, demo, exists, upload_credentials, verify};
use rate_limit::RateLimiter;

/// Everything the backend needs. Every field has a documented default ([`Backend::new`]).
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
    /// Default none.
    pub allow_origins: Vec<String>,
    /// Mount point of the endpoints. Default `/api/storage`.
    pub prefix: String,
    /// Serve `POST /api/demo/grayscale` (the example pages' processing round trip).
    /// Default off.
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

/// The backend as the handlers share it.
pub(crate) type Shared = Arc<Backend>;

impl Backend {
    /// Where the endpoints are mounted by default.
    pub const DEFAULT_PREFIX: &str = "/api/storage";
    /// How long a client has to send a request body by default.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
    /// When an unreported upload is checked by default: its link's 900 s, and a minute.
    pub const DEFAULT_VERIFY_AFTER: Duration = Duration::from_secs(960);

    /// A backend with the default prefix, no CORS origins and no demo endpoints.
    pub fn new(client: StorageClient, auth: Box<dyn Authenticator>, policy: Policy) -> Backend {
        Backend {
            client,
            auth,
            policy,
            allow_origins: Vec::new(),
            prefix: Backend::DEFAULT_PREFIX.into(),
            demo_endpoints: false,
            body_timeout: Backend::DEFAULT_BODY_TIMEOUT,
            verify_after: Backend::DEFAULT_VERIFY_AFTER,
            limiter: RateLimiter::default(),
            failed_logins: RateLimiter::default(),
            pending: Pending::default(),
            bucket: OnceLock::new(),
        }
    }

    /// The backend's routes; also starts the check of uploads nobody reported (when the
    /// policy limits uploads), so it must be called inside a Tokio runtime.
    pub fn router(self) -> Router {
        let cors = middleware::cors_layer(&self.allow_origins);
        let prefix = self.prefix.trim_end_matches('/').to_owned();
        let demo = self.demo_endpoints;
        let state = Arc::new(self);
        if state.policy.checks_uploads() {
            tokio::spawn(checks::sweep(Arc::downgrade(&state)));
        }
        let mut api = Router::new()
            .route(&format!("{prefix}/upload-credentials"), post(upload_credentials::upload_credentials))
            .route(&format!("{prefix}/download-urls"), post(batch::download_urls))
            .route(&format!("{prefix}/delete"), post(batch::delete))
            .route(&format!("{prefix}/verify"), post(verify::verify))
            .route(&format!("{prefix}/exists"), post(exists::exists));
        if demo {
            api = api.route("/api/demo/grayscale", post(demo::grayscale));
        }
        api.route_layer(from_fn(middleware::require_json))
            .route("/healthz", get(|| async { "ok" }))
            .layer(cors)
            .layer(from_fn(middleware::access_log))
            .layer(CatchPanicLayer::custom(|_| {
                ApiError::new(ErrorCode::Server, "the backend failed on this request").into_response()
            }))
            .with_state(state)
    }

    /// Authenticates and rate-limits a request: the [`Caller`]. Failed sign-ins are
    /// limited per client address, so guessing tokens is slow.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<Caller, ApiError> {
        let Some(uid) = self.auth.authenticate(headers).await else {
            let address = peer.map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string());
            if let Err(wait) = self.failed_logins.check(&address, self.policy.failed_logins_per_minute) {
                return Err(ApiError::rate_limited(wait, "too many failed sign-ins from this address"));
            }
            return Err(ApiError::unauthorized("sign in first: no valid credentials on this request"));
        };
        if !auth::is_safe_uid(&uid) {
            tracing::error!("the authenticator returned a user ID that is unsafe in keys; refusing");
            return Err(ApiError::new(ErrorCode::Server, "this user cannot be given a storage folder"));
        }
        if let Err(wait) = self.limiter.check(&uid, self.policy.rate_per_minute) {
            return Err(ApiError::rate_limited(wait, "too many requests"));
        }
        Ok(Caller { uid })
    }

    /// The client to forward with: in cloudbase-token mode, with the token Cloud Run put
    /// on this request.
    pub(crate) fn client_for(&self, headers: &HeaderMap) -> StorageClient {
        match headers.get("x-wx-cloudbase-access-token").and_then(|v| v.to_str().ok()) {
            Some(token) => self.client.with_cloudbase_token(token),
            None => self.client.clone(),
        }
    }

    /// When a link issued now is checked if nobody reports its upload.
    pub(crate) fn verify_due(&self) -> Instant {
        Instant::now() + self.verify_after
    }

    /// Remembers the environment's bucket, as an upload link named it.
    pub(crate) fn learn_bucket(&self, bucket: &str) {
        let _ = self.bucket.set(bucket.to_owned());
    }

    /// The environment's bucket: learned from the first upload link, or, before any, from
    /// a link for `key` asked for now (a link alone stores nothing).
    pub(crate) async fn bucket(&self, client: &StorageClient, key: &str) -> Result<String, ApiError> {
        if let Some(bucket) = self.bucket.get() {
            return Ok(bucket.clone());
        }
        let credentials = client.upload_link(key).await?;
        let id = FileId::parse(&credentials.file_id).ok_or_else(|| {
            ApiError::new(ErrorCode::WechatApi, "tcb/uploadfile answered a malformed file_id")
        })?;
        Ok(self.bucket.get_or_init(|| id.bucket.to_owned()).clone())
    }

    /// Checks that `file_id` is the user's (see [`Policy::check_file_id`]).
    pub(crate) fn check_file_id(&self, uid: &str, file_id: &str) -> Result<(), Refusal> {
        self.policy.check_file_id(uid, file_id, self.client.env(), self.bucket.get().map(String::as_str))
    }
}
