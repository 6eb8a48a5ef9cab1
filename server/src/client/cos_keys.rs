//! What the Cloud Run sidecar gives a service with 开放接口服务 for COS (backend-facts.md
//! §3): temporary keys for the environment's bucket (`GET /_/cos/getauth`), and the
//! `x-cos-meta-fileid` value an object needs for WeChat's download calls to accept it
//! (`POST /_/cos/metaid/encode`).
//!
//! A temporary key can list, overwrite and delete the whole bucket, so it never leaves
//! this module but as a signature ([`TempKey::sign`]) or the security token COS wants
//! beside one: `Debug` prints neither its secret nor its token, and nothing logs them. It
//! is cached and fetched again before it expires (one fetch however many requests wait).

use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;
use wx_cloud_storage_core::ErrorCode;

use super::{Auth, ClientError, StorageClient};
use crate::cos_sign::{sign_request, Request};

/// How long before its expiry a key is replaced, seconds.
const REFRESH_AHEAD: u64 = 300;

/// A temporary COS key.
#[derive(Debug, Clone)]
pub struct TempKey {
    secret_id: String,
    secret_key: SecretString,
    token: SecretString,
    /// When it expires, Unix seconds.
    pub expires_at: u64,
}

impl TempKey {
    /// The `Authorization` for `request`, valid from now for `seconds` (and never past
    /// the key's own expiry).
    pub fn sign(&self, request: &Request<'_>, seconds: u64) -> String {
        let now = unix_now();
        let end = (now + seconds).min(self.expires_at.max(now + 1));
        sign_request(&self.secret_id, self.secret_key.expose_secret(), request, now.saturating_sub(60), end)
    }

    /// The `x-cos-security-token` that goes with every request the key signs.
    pub fn security_token(&self) -> &str {
        self.token.expose_secret()
    }
}

/// The cached key of one client.
#[derive(Debug, Default)]
pub(crate) struct TempKeyCache(Mutex<Option<TempKey>>);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetAuthAnswer {
    tmp_secret_id: String,
    tmp_secret_key: String,
    token: String,
    expired_time: u64,
}

#[derive(Deserialize)]
struct EncodeAnswer {
    x_cos_meta_field_strs: Vec<String>,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl StorageClient {
    /// Whether this client can have temporary COS keys: only inside Cloud Run with
    /// 开放接口服务 ([`Auth::OpenApi`]).
    pub fn has_cos_keys(&self) -> bool {
        matches!(self.inner.auth, Auth::OpenApi)
    }

    /// A temporary COS key with at least five minutes left, from the cache or fetched.
    pub async fn temp_key(&self) -> Result<TempKey, ClientError> {
        if !self.has_cos_keys() {
            return Err(ClientError::new(
                ErrorCode::WechatApi,
                "temporary COS keys come only from Cloud Run's 开放接口服务 (WX_OPENAPI=1)",
            ));
        }
        let mut cached = self.inner.cos_keys.0.lock().await;
        if let Some(key) = cached.as_ref().filter(|key| key.expires_at > unix_now() + REFRESH_AHEAD) {
            return Ok(key.clone());
        }
        let response = self
            .inner
            .http
            .get(format!("{}/_/cos/getauth", self.inner.base))
            .timeout(self.inner.timeouts.api)
            .send()
            .await
            .map_err(ClientError::network)?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(ClientError::network)?;
        if let Some(errcode) = body.get("errcode").and_then(serde_json::Value::as_i64).filter(|c| *c != 0) {
            let errmsg = body.get("errmsg").and_then(serde_json::Value::as_str).unwrap_or_default();
            return Err(ClientError::wechat(errcode, errmsg));
        }
        let answer: GetAuthAnswer = serde_json::from_value(body).map_err(|_| {
            ClientError::new(
                ErrorCode::WechatApi,
                format!("/_/cos/getauth answered HTTP {status} without a key"),
            )
        })?;
        let key = TempKey {
            secret_id: answer.tmp_secret_id,
            secret_key: answer.tmp_secret_key.into(),
            token: answer.token.into(),
            expires_at: answer.expired_time,
        };
        metrics::counter!("wxcs_cos_key_fetches_total").increment(1);
        *cached = Some(key.clone());
        Ok(key)
    }

    /// The `x-cos-meta-fileid` value for `key` in `bucket`, for the user `openid` (empty
    /// for a user WeChat does not know).
    pub async fn file_meta_id(&self, openid: &str, bucket: &str, key: &str) -> Result<String, ClientError> {
        let body = json!({ "openid": openid, "bucket": bucket, "paths": [key] });
        let answer: EncodeAnswer = self.call("/_/cos/metaid/encode", &body).await?;
        answer.x_cos_meta_field_strs.into_iter().next().ok_or_else(|| {
            ClientError::new(ErrorCode::WechatApi, "/_/cos/metaid/encode answered no value for the path")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_neither_the_secret_nor_the_token() {
        let key = TempKey {
            secret_id: "AKIDtmp1".into(),
            secret_key: "the-secret-key".to_owned().into(),
            token: "the-security-token".to_owned().into(),
            expires_at: 1,
        };
        let printed = format!("{key:?} {:?}", TempKeyCache(Mutex::new(Some(key.clone()))));
        assert!(!printed.contains("the-secret-key") && !printed.contains("the-security-token"), "{printed}");
        assert!(printed.contains("AKIDtmp1"), "{printed}");
    }
}
