//! Access tokens for the WeChat open API.
//!
//! `cgi-bin/stable_token` (never `cgi-bin/token`, whose every call invalidates the tokens
//! other instances hold). One fetch however many requests wait (single-flight behind an
//! async mutex), refreshed ahead of expiry, and refetched once when WeChat says a token is
//! invalid or expired (40001/42001).

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use super::ClientError;

#[derive(Debug, Clone)]
struct Cached {
    token: SecretString,
    /// When to stop using it (ahead of WeChat's expiry).
    refresh_at: Instant,
}

/// Fetches and caches stable access tokens for one app. `Debug` shows neither the
/// AppSecret nor the cached token.
#[derive(Debug)]
pub(crate) struct TokenCache {
    appid: String,
    secret: SecretString,
    cached: Mutex<Option<Cached>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

impl TokenCache {
    pub(crate) fn new(appid: String, secret: SecretString) -> TokenCache {
        TokenCache { appid, secret, cached: Mutex::new(None) }
    }

    /// A valid token. `rejected` is a token WeChat just refused: it is not returned again
    /// (and if stable_token hands it back, the refresh is forced).
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        base: &str,
        timeout: Duration,
        rejected: Option<&str>,
    ) -> Result<String, ClientError> {
        // Holding the lock across the fetch is the single flight: waiters get its result.
        // The fetch is bounded by `timeout` (twice, when a forced refresh follows), so the
        // lock is never held longer; waiters give up when their own time runs out.
        let mut cached = tokio::time::timeout(timeout * 2, self.cached.lock()).await.map_err(|_| {
            ClientError::new(wx_cloud_storage_core::ErrorCode::Timeout, "waited too long for an access token")
        })?;
        if let Some(c) = cached.as_ref() {
            if Instant::now() < c.refresh_at && rejected != Some(c.token.expose_secret()) {
                return Ok(c.token.expose_secret().to_owned());
            }
        }
        let fetched = async {
            let mut fresh = self.fetch(http, base, timeout, false).await?;
            if rejected == Some(fresh.token.expose_secret()) {
                fresh = self.fetch(http, base, timeout, true).await?;
            }
            Ok::<Cached, ClientError>(fresh)
        }
        .await;
        let outcome = if fetched.is_ok() { "ok" } else { "failed" };
        metrics::counter!("wxcs_token_refreshes_total", "outcome" => outcome).increment(1);
        let fresh = fetched?;
        let token = fresh.token.expose_secret().to_owned();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        base: &str,
        timeout: Duration,
        force_refresh: bool,
    ) -> Result<Cached, ClientError> {
        let body = json!({"grant_type": "client_credential", "appid": self.appid, "secret": self.secret.expose_secret(), "force_refresh": force_refresh});
        let started = Instant::now();
        let response = http
            .post(format!("{base}/cgi-bin/stable_token"))
            .timeout(timeout)
            .json(&body)
            .send()
            .await
            .map_err(ClientError::network)?;
        let answer: TokenAnswer = response.json().await.map_err(ClientError::network)?;
        if answer.errcode != 0 || answer.access_token.is_empty() {
            return Err(ClientError::wechat(answer.errcode, &answer.errmsg));
        }
        tracing::info!(expires_in = answer.expires_in, force_refresh, "fetched a stable access token");
        // Refresh when 10 % of the lifetime (at most 5 min) is left, so no request ever
        // carries a token that expires in flight.
        let margin = (answer.expires_in / 10).min(300);
        let refresh_at = started + Duration::from_secs(answer.expires_in.saturating_sub(margin));
        Ok(Cached { token: answer.access_token.into(), refresh_at })
    }
}
