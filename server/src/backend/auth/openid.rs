//! WeChat's `X-WX-OPENID`: the header Cloud Run's gateway sets on calls made with
//! `wx.cloud.callContainer`; each user's folder is keyed by it (`users/<openid>/`).

use futures_util::future::BoxFuture;

use super::{Authenticator, Credentials, Identity, Verdict};

/// Trusts the `X-WX-OPENID` header that WeChat's Cloud Run gateway sets.
///
/// Safe **only** when the service is reachable through the gateway alone (Cloud Run's public
/// ingress off): the gateway sets the header and a mini program cannot, but anyone who can
/// reach the service directly can send any header. So `wxcs serve` enables it only with
/// `--trust-wx-openid`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WxOpenId;

impl Authenticator for WxOpenId {
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        let openid =
            request.headers.get("x-wx-openid").and_then(|v| v.to_str().ok()).filter(|id| !id.is_empty());
        let verdict = openid.map_or(Verdict::NotMine, |id| Verdict::SignedIn(Identity::user(id)));
        Box::pin(async move { verdict })
    }
}
