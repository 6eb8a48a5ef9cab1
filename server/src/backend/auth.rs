//! Who is calling: the authentication hook of the credential backend.
//!
//! Real apps authenticate with their own session (a cookie, a JWT, WeChat's
//! `X-WX-OPENID` header on Cloud Run's WeChat link); implement [`Authenticator`] for it.
//! The demo uses fixed bearer tokens ([`BearerTokens`]).

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use futures_util::future::BoxFuture;

/// Maps a request to the user ID it acts for, or `None` (→ 401).
pub trait Authenticator: Send + Sync + std::fmt::Debug + 'static {
    /// The user ID for these request headers. User IDs become part of object keys
    /// (`users/{uid}/…`), so they must be non-empty and made of `[A-Za-z0-9_-]` only;
    /// the backend refuses others.
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Option<String>>;
}

/// `Authorization: Bearer <token>` looked up in a fixed table (for the demo and tests).
#[derive(Clone, Default)]
pub struct BearerTokens(pub HashMap<String, String>);

impl std::fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens are credentials: show only how many there are.
        write!(f, "BearerTokens({} users)", self.0.len())
    }
}

impl BearerTokens {
    /// Parses `token=uid,token=uid`.
    pub fn parse(spec: &str) -> Result<BearerTokens, String> {
        let mut map = HashMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (token, uid) =
                pair.split_once('=').ok_or_else(|| format!("expected token=uid, got {pair:?}"))?;
            map.insert(token.trim().to_owned(), uid.trim().to_owned());
        }
        Ok(BearerTokens(map))
    }
}

impl Authenticator for BearerTokens {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Option<String>> {
        let uid = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|token| self.0.get(token.trim()))
            .cloned();
        Box::pin(async move { uid })
    }
}

/// Trusts the `X-WX-OPENID` header that WeChat's Cloud Run gateway sets on calls made with
/// `wx.cloud.callContainer`, and keys each user's folder by that openid (`users/<openid>/`).
///
/// Safe **only** when the service is reachable through the gateway alone (Cloud Run's public
/// ingress off): the gateway sets the header and a mini program cannot, but anyone who can
/// reach the service directly can send any header. So `wxcs serve` enables it only with
/// `--trust-wx-openid`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WxOpenId;

impl Authenticator for WxOpenId {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Option<String>> {
        let openid = headers.get("x-wx-openid").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Box::pin(async move { openid.filter(|id| !id.is_empty()) })
    }
}

/// Whether a user ID is safe to put in a key.
pub(crate) fn is_safe_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 128
        && uid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
