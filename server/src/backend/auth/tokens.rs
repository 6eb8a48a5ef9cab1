//! Fixed bearer tokens: `Authorization: Bearer <token>` looked up in a table (the demo's
//! `demo-token`, and tests). Not for production: the tokens never expire.

use std::collections::HashMap;

use axum::http::header;
use futures_util::future::BoxFuture;

use super::{Authenticator, Credentials, Identity, Verdict};

/// `Authorization: Bearer <token>` looked up in a fixed table of token → user ID.
#[derive(Clone, Default)]
pub struct BearerTokens(pub HashMap<String, String>);

impl std::fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens are credentials (the map's keys): only how many there are.
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
    /// Its own tokens only: any other bearer token is the next way's (a JWT).
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        let uid = request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|token| self.0.get(token.trim()));
        let verdict = uid.map_or(Verdict::NotMine, |uid| Verdict::SignedIn(Identity::user(uid)));
        Box::pin(async move { verdict })
    }
}
