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
mod multipart;
mod operations;
mod policy;
pub mod rules;
pub mod state;

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::{
    http::{header, HeaderMap},
    middleware::from_fn,
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use tower_http::catch_panic::CatchPanicLayer;
use wx_cloud_storage_core::{protocol::FileId, ErrorCode};

pub use auth::{
    check_identity, is_safe_uid, Authenticator, BearerTokens, Credentials, ForwardAuth, Identity, Jwks,
    JwtConfig, JwtLogin, KeySource, Logins, Verdict, WxOpenId,
};
pub use error::{ApiError, Refusal};
pub use extract::{AppJson, Caller, Upstream, MAX_BODY_BYTES};
pub use policy::{Policy, DEFAULT_PREFIX};
pub use rules::{Limits, Op, Rules, StoredObject};

use crate::client::StorageClient;
use endpoints::{batch, demo, exists, list, upload_credentials, verify};

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
    /// How long after its link has ended an upload is checked for the last time (a post
    /// that started before the end may still be arriving). Default 60 s.
    pub verify_after: Duration,
    /// The record of files, the checks owed, and the rate counters. Default: an in-memory
    /// SQLite store private to this process (`wxcs serve` keeps one under `--data-dir`).
    pub store: Arc<state::Store>,
    /// How many links a user may hold whose upload was neither reported nor found (each
    /// owes a check); past it, `RATE_LIMITED`. Default 500.
    pub unchecked_per_user: u32,
    /// How long an instance holds a check before another may take it over. Default 60 s.
    pub check_lease: Duration,
    /// How long a multipart upload may go without a part being signed before a later
    /// request aborts it. Default 24 h.
    pub multipart_idle: Duration,
    /// The bearer token `/metrics` answers; `None` (the default): only loopback callers.
    pub metrics_token: Option<secrecy::SecretString>,
    sweep_clock: checks::SweepClock,
    upload_sweep_clock: multipart::UploadSweepClock,
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
    /// How long after its link's end an upload is checked for the last time, by default.
    pub const DEFAULT_VERIFY_AFTER: Duration = Duration::from_secs(60);
    /// How long a check is held by default before another instance may take it over.
    pub const DEFAULT_CHECK_LEASE: Duration = Duration::from_secs(60);
    /// How many unreported links a user may hold by default.
    pub const DEFAULT_UNCHECKED_PER_USER: u32 = 500;
    /// How long a multipart upload may sit idle by default.
    pub const DEFAULT_MULTIPART_IDLE: Duration = Duration::from_secs(24 * 3600);

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
            store: Arc::new(state::Store::memory()),
            unchecked_per_user: Backend::DEFAULT_UNCHECKED_PER_USER,
            check_lease: Backend::DEFAULT_CHECK_LEASE,
            multipart_idle: Backend::DEFAULT_MULTIPART_IDLE,
            metrics_token: None,
            sweep_clock: checks::SweepClock::default(),
            upload_sweep_clock: multipart::UploadSweepClock::default(),
            bucket: OnceLock::new(),
        }
    }

    /// The backend's routes.
    pub fn router(self) -> Router {
        let cors = middleware::cors_layer(&self.allow_origins);
        let prefix = self.prefix.trim_end_matches('/').to_owned();
        let demo = self.demo_endpoints;
        let state = Arc::new(self);
        let mut api = Router::new()
            .route(&format!("{prefix}/upload-credentials"), post(upload_credentials::upload_credentials))
            .route(&format!("{prefix}/download-urls"), post(batch::download_urls))
            .route(&format!("{prefix}/delete"), post(batch::delete))
            .route(&format!("{prefix}/verify"), post(verify::verify))
            .route(&format!("{prefix}/exists"), post(exists::exists))
            .route(&format!("{prefix}/list"), post(list::list))
            .route(&format!("{prefix}/multipart"), post(multipart::start))
            .route(&format!("{prefix}/multipart/part"), post(multipart::sign_part))
            .route(&format!("{prefix}/multipart/parts"), post(multipart::list_parts))
            .route(&format!("{prefix}/multipart/complete"), post(multipart::complete))
            .route(&format!("{prefix}/multipart/abort"), post(multipart::abort));
        if demo {
            api = api.route("/api/demo/grayscale", post(demo::grayscale));
        }
        operations::recorder();
        api.route_layer(from_fn(middleware::require_json))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(operations::readyz))
            .route("/metrics", get(operations::metrics))
            .layer(cors)
            .layer(from_fn(middleware::observe))
            .layer(CatchPanicLayer::custom(|_| {
                ApiError::new(ErrorCode::Server, "the backend failed on this request").into_response()
            }))
            .with_state(state)
    }

    /// Authenticates and rate-limits a request: the [`Caller`]. A request whose
    /// credentials are refused, or that has none when every folder needs a signed-in
    /// caller, is 401 and counts as a failed sign-in of its address (so guessing tokens is
    /// slow); a login that cannot answer now is 503.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
    ) -> Result<Caller, ApiError> {
        let address = peer.map_or_else(|| "unknown".to_owned(), |peer| peer.ip().to_string());
        let credentials = Credentials { headers, cookies_allowed: self.cookies_allowed(headers) };
        let address = &address;
        let refused = |why: String| async move {
            let limit = self.policy.failed_logins_per_minute;
            match self
                .count(&format!("failed:{address}"), limit, "too many failed sign-ins from this address")
                .await
            {
                Ok(()) => ApiError::unauthorized(why),
                Err(e) => e,
            }
        };
        let caller = match self.auth.authenticate(credentials).await {
            Verdict::SignedIn(identity) => match check_identity(&identity) {
                Ok(()) => Caller { counted_as: format!("user:{}", identity.uid), identity: Some(identity) },
                Err(why) => return Err(refused(why).await),
            },
            Verdict::NotMine if self.policy.rules.admits_anonymous() => {
                Caller { identity: None, counted_as: format!("address:{address}") }
            }
            Verdict::NotMine => {
                return Err(refused("sign in first: no valid credentials on this request".into()).await)
            }
            Verdict::Refused(why) => return Err(refused(why).await),
            Verdict::Unavailable(why) => return Err(ApiError::unavailable(why)),
        };
        self.count(&format!("rate:{}", caller.counted_as), self.policy.rate_per_minute, "too many requests")
            .await?;
        Ok(caller)
    }

    /// Counts one event of `name` against `limit` per minute, on the store every instance
    /// shares: `RATE_LIMITED` past it, saying `what`.
    async fn count(&self, name: &str, limit: u32, what: &str) -> Result<(), ApiError> {
        match self.store.count(name, limit).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(wait)) => Err(ApiError::rate_limited(wait, what)),
            Err(e) => Err(ApiError::store(&e)),
        }
    }

    /// Whether a request's cookies may be credentials: it comes from no page (a tool), from
    /// the backend's own origin, or from a named origin of the CORS allow-list. A cookie a
    /// browser attaches to a request from any other page is never honoured (with the
    /// JSON-only rule, cross-site requests cannot ride on a session).
    fn cookies_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let own = host.is_some_and(|host| origin.split_once("://").is_some_and(|(_, rest)| rest == host));
        own || self.allow_origins.iter().any(|allowed| allowed != "*" && allowed == origin)
    }

    /// Counts an upload link against `folder`'s own rate for `caller`, if it has one.
    pub(crate) async fn folder_rate(&self, folder: &rules::Folder, caller: &Caller) -> Result<(), ApiError> {
        let Some(rate) = folder.limits.rate_per_minute else { return Ok(()) };
        let name = format!("folder:{}#{}", folder.pattern.as_str(), caller.counted_as);
        self.count(&name, rate, &format!("too many uploads to {}", folder.pattern.as_str())).await
    }

    /// The client to forward with: in cloudbase-token mode, with the token Cloud Run put
    /// on this request.
    pub(crate) fn client_for(&self, headers: &HeaderMap) -> StorageClient {
        match headers.get("x-wx-cloudbase-access-token").and_then(|v| v.to_str().ok()) {
            Some(token) => self.client.with_cloudbase_token(token),
            None => self.client.clone(),
        }
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

    /// Whether `file_id`'s folder limits what lands in it (then nothing in it is served
    /// before its check).
    pub(crate) fn limits_apply(&self, file_id: &str) -> bool {
        FileId::parse(file_id)
            .and_then(|id| self.policy.rules.folder_of(id.key))
            .is_some_and(|(folder, _)| folder.limits.checks_uploads())
    }

    /// The key of `file_id`, if the caller may do `op` on it (see [`Policy::check_file_id`]).
    pub(crate) fn check_file_id<'i>(
        &self,
        caller: &Caller,
        op: Op,
        file_id: &'i str,
    ) -> Result<&'i str, Refusal> {
        let bucket = self.bucket.get().map(String::as_str);
        self.policy
            .check_file_id(caller.identity(), op, file_id, self.client.env(), bucket)
            .map(|(key, _)| key)
    }
}
