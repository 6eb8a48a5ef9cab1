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
//!     secret: std::env::var("WX_SECRET").unwrap(),
//! });
//! let photo = storage.download("cloud://prod-1a2b.7072-prod-1a2b-1300/users/42/a.jpg").await?;
//! let uploaded = storage.upload("users/42/a-small.jpg", photo.to_vec(), Some("image/jpeg")).await?;
//! println!("{}", uploaded.file_id);
//! # Ok(()) }
//! ```
//!
//! Three ways to authenticate, as Cloud Run offers them ([`Auth`]).

mod error;
mod token;

use std::{sync::Arc, time::Duration};

use reqwest::multipart::{Form, Part};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use wx_cloud_storage_core::{
    batch,
    protocol::{
        CosError, DeleteResult, DeleteResults, DownloadUrl, DownloadUrls, UploadCredentials, WechatStatus,
    },
    retry::is_retryable,
    ErrorCode, UploadForm, FILE_FIELD,
};

pub use error::ClientError;
use token::TokenCache;

/// How calls to the WeChat open API are authorised.
#[derive(Clone)]
pub enum Auth {
    /// AppID + AppSecret: tokens from `cgi-bin/stable_token`, cached and shared.
    AppSecret {
        /// The mini program / official account AppID.
        appid: String,
        /// Its AppSecret. Never logged.
        secret: String,
    },
    /// 开放接口服务 inside Cloud Run: plain `http://api.weixin.qq.com`, no token at all.
    OpenApi,
    /// `cloudbase_access_token`: the token Cloud Run puts in `X-WX-CLOUDBASE-ACCESS-TOKEN` on
    /// each incoming request; give it to [`StorageClient::with_cloudbase_token`].
    CloudbaseToken,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The AppSecret is never printed, not even in a Debug dump.
            Auth::AppSecret { appid, .. } => {
                f.debug_struct("AppSecret").field("appid", appid).field("secret", &"<redacted>").finish()
            }
            Auth::OpenApi => f.write_str("OpenApi"),
            Auth::CloudbaseToken => f.write_str("CloudbaseToken"),
        }
    }
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
#[derive(Clone)]
pub struct StorageClient {
    inner: Arc<Inner>,
    cloudbase_token: Option<String>,
}

impl std::fmt::Debug for StorageClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageClient")
            .field("inner", &self.inner)
            .field("cloudbase_token", &self.cloudbase_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
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
            inner: Arc::new(Inner { http, base, env: env.into(), auth, tokens, timeouts }),
            cloudbase_token: None,
        }
    }

    /// This client, calling with a `cloudbase_access_token` (from the incoming request).
    pub fn with_cloudbase_token(&self, token: impl Into<String>) -> StorageClient {
        StorageClient { inner: self.inner.clone(), cloudbase_token: Some(token.into()) }
    }

    /// The environment this client works in.
    pub fn env(&self) -> &str {
        &self.inner.env
    }

    /// Calls `POST {base}{path}` with `body` plus `env`, adding the token, and retrying
    /// once with a fresh token on 40001/42001.
    async fn call<T: DeserializeOwned>(&self, path: &str, mut body: Value) -> Result<T, ClientError> {
        body["env"] = json!(self.inner.env);
        let mut rejected: Option<String> = None;
        loop {
            let query = match (&self.inner.auth, &self.inner.tokens) {
                (Auth::AppSecret { .. }, Some(tokens)) => {
                    let token = tokens
                        .get(&self.inner.http, &self.inner.base, self.inner.timeouts.api, rejected.as_deref())
                        .await?;
                    Some(("access_token", token))
                }
                (Auth::CloudbaseToken, _) => {
                    let token = self.cloudbase_token.clone().ok_or_else(|| {
                        ClientError::new(ErrorCode::Unauthorized, "no cloudbase_access_token: the request did not come through Cloud Run's WeChat link (X-WX-CLOUDBASE-ACCESS-TOKEN)")
                    })?;
                    Some(("cloudbase_access_token", token))
                }
                _ => None,
            };
            let mut request = self
                .inner
                .http
                .post(format!("{}{path}", self.inner.base))
                .timeout(self.inner.timeouts.api)
                .json(&body);
            if let Some((name, token)) = &query {
                request = request.query(&[(name, token)]);
            }
            let response = request.send().await.map_err(ClientError::network)?;
            let status = response.status();
            if !status.is_success() {
                let code = if status.is_server_error() { ErrorCode::Server } else { ErrorCode::WechatApi };
                return Err(ClientError {
                    status: Some(status.as_u16()),
                    ..ClientError::new(code, format!("{path} answered HTTP {status}"))
                });
            }
            let value: Value = response.json().await.map_err(ClientError::network)?;
            let wechat: WechatStatus = serde_json::from_value(value.clone()).unwrap_or_default();
            match wechat.errcode {
                0 => {
                    return serde_json::from_value(value).map_err(|e| {
                        ClientError::new(
                            ErrorCode::WechatApi,
                            format!("{path} answered an unexpected body: {e}"),
                        )
                    })
                }
                40001 | 42001 if rejected.is_none() && self.inner.tokens.is_some() => {
                    tracing::info!(errcode = wechat.errcode, "access token refused; fetching a fresh one");
                    rejected = query.map(|(_, token)| token);
                }
                code => return Err(ClientError::wechat(code, &wechat.errmsg)),
            }
        }
    }

    /// `tcb/uploadfile`: an upload link for `path`.
    pub async fn upload_link(&self, path: &str) -> Result<UploadCredentials, ClientError> {
        self.call("/tcb/uploadfile", json!({ "path": path })).await
    }

    /// Uploads `bytes` to `path`; one fresh link and one retry if the link expired, and
    /// retries with backoff on network failures and 5xx.
    pub async fn upload(
        &self,
        path: &str,
        bytes: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<Uploaded, ClientError> {
        let bytes = bytes::Bytes::from(bytes);
        let policy = wx_cloud_storage_core::retry::RetryPolicy::default();
        let (mut retry, mut refreshed) = (0, false);
        loop {
            let credentials = self.upload_link(path).await?;
            let form = UploadForm::new(&credentials, path, content_type)
                .map_err(|e| ClientError::new(e.code(), e.to_string()))?;
            match self.post_form(&form, bytes.clone()).await {
                Ok(()) => return Ok(Uploaded { file_id: credentials.file_id, key: form.key().to_owned() }),
                Err(e) if e.code == ErrorCode::CredentialsExpired && !refreshed => refreshed = true,
                Err(e) if is_retryable(e.code, e.status) => {
                    retry += 1;
                    let Some(delay) = policy.delay_ms(retry, rand::random()) else { return Err(e) };
                    tokio::time::sleep(std::time::Duration::from_millis(delay.into())).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// POSTs one form to COS, `file` last.
    async fn post_form(&self, form: &UploadForm, bytes: bytes::Bytes) -> Result<(), ClientError> {
        let file_name = form.file_name().to_owned();
        let mut multipart = Form::new();
        for (name, value) in form.fields() {
            multipart = multipart.text(name, value.clone());
        }
        let multipart = multipart.part(
            FILE_FIELD,
            Part::stream_with_length(bytes.clone(), bytes.len() as u64).file_name(file_name),
        );
        let response = self
            .inner
            .http
            .post(form.url().as_str())
            .multipart(multipart)
            .send()
            .await
            .map_err(ClientError::network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        let cos = CosError::from_xml(&body).unwrap_or_default();
        let code = cos.error_code(status.as_u16());
        Err(ClientError {
            status: Some(status.as_u16()),
            cos_code: Some(cos.code.clone()).filter(|c| !c.is_empty()),
            ..ClientError::new(code, format!("COS answered {status} {}: {}", cos.code, cos.message))
        })
    }

    /// `tcb/batchdownloadfile` for any number of IDs (chunks of 50 inside), in input order.
    pub async fn temp_urls(
        &self,
        file_ids: &[String],
        max_age: u64,
    ) -> Result<Vec<DownloadUrl>, ClientError> {
        let mut all = Vec::with_capacity(file_ids.len());
        for chunk in batch::chunks(file_ids) {
            let file_list: Vec<Value> =
                chunk.iter().map(|id| json!({ "fileid": id, "max_age": max_age })).collect();
            let answer: DownloadUrls =
                self.call("/tcb/batchdownloadfile", json!({ "file_list": file_list })).await?;
            all.extend(answer.file_list);
        }
        Ok(all)
    }

    /// `tcb/batchdeletefile` for any number of IDs (chunks of 50 inside), in input order.
    pub async fn delete(&self, file_ids: &[String]) -> Result<Vec<DeleteResult>, ClientError> {
        let mut all = Vec::with_capacity(file_ids.len());
        for chunk in batch::chunks(file_ids) {
            let answer: DeleteResults =
                self.call("/tcb/batchdeletefile", json!({ "fileid_list": chunk })).await?;
            all.extend(answer.delete_list);
        }
        Ok(all)
    }

    /// Downloads a file's bytes.
    pub async fn download(&self, file_id: &str) -> Result<bytes::Bytes, ClientError> {
        self.download_at_most(file_id, u64::MAX).await
    }

    /// Downloads a file's bytes, refusing (`TOO_LARGE`) a file over `max` bytes before its
    /// body is read (by its `Content-Length`), or as soon as more arrive.
    pub async fn download_at_most(&self, file_id: &str, max: u64) -> Result<bytes::Bytes, ClientError> {
        let response = self.get(file_id, None).await?;
        let too_large = || {
            ClientError::new(ErrorCode::TooLarge, format!("{file_id} is over the {max} bytes allowed here"))
        };
        if response.content_length().is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(ClientError::network)?;
            if (body.len() + chunk.len()) as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.into())
    }

    /// The first `bytes` bytes of a file, its full size and its content type, by one
    /// ranged GET.
    pub async fn head(&self, file_id: &str, bytes: u64) -> Result<ObjectHead, ClientError> {
        let response = self.get(file_id, Some(bytes)).await?;
        let headers = response.headers();
        let text = |name| headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
        // `Content-Range: bytes 0-4095/123456` for a 206; `Content-Length` for a whole 200.
        let size = text(reqwest::header::CONTENT_RANGE)
            .and_then(|range| range.rsplit('/').next())
            .and_then(|total| total.parse().ok())
            .or(response.content_length())
            .ok_or_else(|| {
                ClientError::new(ErrorCode::Server, format!("{file_id}: the storage gave no length"))
            })?;
        let content_type = text(reqwest::header::CONTENT_TYPE).map(str::to_owned);
        let mut head = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            head.extend_from_slice(&chunk.map_err(ClientError::network)?);
            if head.len() as u64 >= bytes {
                head.truncate(bytes as usize);
                break;
            }
        }
        Ok(ObjectHead { size, content_type, bytes: head.into() })
    }

    /// Whether each file exists, with its length and CRC-64, in input order: one
    /// `tcb/batchdownloadfile` per 50 IDs, then a HEAD of each link. WeChat's storage API
    /// has no exists call; @cloudbase/storage's `exists()` also HEADs a temporary link,
    /// which suggests a link may be issued for a missing object, so an item that WeChat
    /// answers with a link still counts as missing when its HEAD says 404.
    pub async fn stat(&self, file_ids: &[String]) -> Result<Vec<ObjectStat>, ClientError> {
        let links = self.temp_urls(file_ids, 600).await?;
        if links.len() != file_ids.len() {
            return Err(ClientError::new(
                ErrorCode::WechatApi,
                "tcb/batchdownloadfile answered without one item per file ID",
            ));
        }
        let mut stats = Vec::with_capacity(links.len());
        for (id, link) in file_ids.iter().zip(links) {
            if link.status != 0 {
                let code = wx_cloud_storage_core::protocol::item_error_code(link.status, &link.errmsg);
                if code != ErrorCode::NotFound {
                    return Err(ClientError::new(code, format!("{id}: {}", link.errmsg)));
                }
                stats.push(ObjectStat { exists: false, size: None, crc64: None });
                continue;
            }
            let response =
                self.inner.http.head(&link.download_url).send().await.map_err(ClientError::network)?;
            let status = response.status();
            if status.as_u16() == 404 {
                stats.push(ObjectStat { exists: false, size: None, crc64: None });
            } else if status.is_success() {
                let crc64 = response
                    .headers()
                    .get("x-cos-hash-crc64ecma")
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned);
                stats.push(ObjectStat { exists: true, size: response.content_length(), crc64 });
            } else {
                return Err(ClientError {
                    status: Some(status.as_u16()),
                    ..ClientError::new(
                        if status.is_server_error() { ErrorCode::Server } else { ErrorCode::Forbidden },
                        format!("{id}: HEAD of its link answered {status}"),
                    )
                });
            }
        }
        Ok(stats)
    }

    /// A GET of a file through a short-lived download link, checked for a 2xx.
    async fn get(&self, file_id: &str, range_bytes: Option<u64>) -> Result<reqwest::Response, ClientError> {
        let item = self.temp_urls(&[file_id.to_owned()], 600).await?.pop().ok_or_else(|| {
            ClientError::new(ErrorCode::WechatApi, "tcb/batchdownloadfile answered without an item")
        })?;
        if item.status != 0 {
            let code = wx_cloud_storage_core::protocol::item_error_code(item.status, &item.errmsg);
            return Err(ClientError::new(code, format!("{file_id}: {}", item.errmsg)));
        }
        let mut request = self.inner.http.get(&item.download_url);
        if let Some(n) = range_bytes {
            request = request.header(reqwest::header::RANGE, format!("bytes=0-{}", n.saturating_sub(1)));
        }
        let response = request.send().await.map_err(ClientError::network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let code = match status.as_u16() {
            404 => ErrorCode::NotFound,
            403 => ErrorCode::Forbidden,
            416 if range_bytes.is_some() => return Ok(response), // an empty object has no first byte
            500.. => ErrorCode::Server,
            _ => ErrorCode::UploadRejected,
        };
        Err(ClientError {
            status: Some(status.as_u16()),
            ..ClientError::new(code, format!("download of {file_id} answered {status}"))
        })
    }
}
