//! A server-side client for WeChat Cloud Run storage.
//!
//! The credential backend uses it to forward `tcb/uploadfile`, `tcb/batchdownloadfile` and
//! `tcb/batchdeletefile`; backends that process files themselves (download a photo the page
//! uploaded, transform it, upload the result) use it directly:
//!
//! ```no_run
//! # async fn demo() -> Result<(), wx_cloud_storage_server::client::ClientError> {
//! use wx_cloud_storage_server::client::{Auth, StorageClient};
//! let storage = StorageClient::new("https://api.weixin.qq.com", "prod-1a2b", Auth::AppSecret {
//!     appid: "wx…".into(),
//!     secret: std::env::var("WX_SECRET").unwrap().into(),
//! });
//! let photo = storage.download("cloud://prod-1a2b.7072-prod-1a2b-1300/users/42/a.jpg").await?;
//! let uploaded = storage.upload("users/42/a-small.jpg", photo.to_vec(), Some("image/jpeg")).await?;
//! println!("{}", uploaded.file_id);
//! # Ok(()) }
//! ```
//!
//! Three ways to authenticate, as Cloud Run offers them ([`Auth`]). The calls to the
//! WeChat open API are in `wechat.rs`; the transfers to and from COS in `cos.rs`; with
//! 开放接口服务, temporary COS keys in `cos_keys.rs` and the multipart uploads they sign in
//! `multipart.rs`.

mod cos;
mod cos_keys;
mod error;
mod multipart;
mod token;
mod wechat;

use std::{sync::Arc, time::Duration};

pub use cos_keys::TempKey;
use cos_keys::TempKeyCache;
pub use error::ClientError;
pub use multipart::{SignedPart, StoredPart, PART_SIGNATURE};
use secrecy::SecretString;
use token::TokenCache;

/// How calls to the WeChat open API are authorised.
#[derive(Debug, Clone)]
pub enum Auth {
    /// AppID + AppSecret: tokens from `cgi-bin/stable_token`, cached and shared.
    AppSecret {
        /// The mini program / official account AppID.
        appid: String,
        /// Its AppSecret: never logged, and `Debug` prints it redacted.
        secret: SecretString,
    },
    /// 开放接口服务 inside Cloud Run: plain `http://api.weixin.qq.com`, no token at all.
    OpenApi,
    /// `cloudbase_access_token`: the token Cloud Run puts in `X-WX-CLOUDBASE-ACCESS-TOKEN` on
    /// each incoming request; give it to [`StorageClient::with_cloudbase_token`].
    CloudbaseToken,
}

/// How long calls to WeChat and COS may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to WeChat or COS. Default 5 s.
    pub connect: Duration,
    /// A whole call to the WeChat open API, a token fetch included. Default 10 s.
    pub api: Duration,
    /// No byte received for this long during a transfer to or from COS. Default 30 s.
    pub transfer_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            api: Duration::from_secs(10),
            transfer_idle: Duration::from_secs(30),
        }
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: String,
    env: String,
    auth: Auth,
    tokens: Option<TokenCache>,
    cos_keys: TempKeyCache,
    timeouts: Timeouts,
}

/// The result of [`StorageClient::upload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// `cloud://…`: the handle for download and delete.
    pub file_id: String,
    /// The object key written.
    pub key: String,
}

/// A client for one cloud environment. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StorageClient {
    inner: Arc<Inner>,
    cloudbase_token: Option<SecretString>,
}

/// The start of a stored object, read with one ranged GET: what the backend's upload
/// policy checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHead {
    /// The object's full length in bytes.
    pub size: u64,
    /// The `Content-Type` it is served with.
    pub content_type: Option<String>,
    /// Its first bytes (as many as asked for, or fewer).
    pub bytes: bytes::Bytes,
    /// `x-cos-hash-crc64ecma` of the whole object (CRC-64/XZ, decimal), when sent.
    pub crc64: Option<String>,
}

/// What HEAD of a stored object tells: whether it exists, and the CRC-64 the storage holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectStat {
    /// `false` when WeChat knows no such file, or its link answers 404.
    pub exists: bool,
    /// Its length, when it exists.
    pub size: Option<u64>,
    /// `x-cos-hash-crc64ecma` (CRC-64/XZ, decimal), when the storage sent it.
    pub crc64: Option<String>,
}

impl StorageClient {
    /// A client calling the WeChat open API at `base` (`https://api.weixin.qq.com`, or
    /// `http://api.weixin.qq.com` for 开放接口服务, or an emulator) for environment `env`.
    pub fn new(base: impl Into<String>, env: impl Into<String>, auth: Auth) -> StorageClient {
        StorageClient::with_timeouts(base, env, auth, Timeouts::default())
    }

    /// [`StorageClient::new`] with other [`Timeouts`].
    pub fn with_timeouts(
        base: impl Into<String>,
        env: impl Into<String>,
        auth: Auth,
        timeouts: Timeouts,
    ) -> StorageClient {
        let tokens = match &auth {
            Auth::AppSecret { appid, secret } => Some(TokenCache::new(appid.clone(), secret.clone())),
            _ => None,
        };
        // Every call has a bound: API calls (token fetches included) a total time, transfers
        // a time without progress. So no lock is ever held past them.
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.transfer_idle)
            .build()
            .expect("the TLS backend initialises");
        let base = base.into().trim_end_matches('/').to_owned();
        StorageClient {
            inner: Arc::new(Inner {
                http,
                base,
                env: env.into(),
                auth,
                tokens,
                cos_keys: TempKeyCache::default(),
                timeouts,
            }),
            cloudbase_token: None,
        }
    }

    /// This client, calling with a `cloudbase_access_token` (from the incoming request).
    pub fn with_cloudbase_token(&self, token: impl Into<String>) -> StorageClient {
        StorageClient { inner: self.inner.clone(), cloudbase_token: Some(SecretString::from(token.into())) }
    }

    /// The environment this client works in.
    pub fn env(&self) -> &str {
        &self.inner.env
    }
}
