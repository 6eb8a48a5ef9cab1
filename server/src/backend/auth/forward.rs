//! Forward auth (as nginx `auth_request`, Traefik ForwardAuth and oauth2-proxy do it): the
//! backend asks the app's own endpoint who the caller is, so any session system works
//! (Express, Django, Spring, PHP) without code here.
//!
//! `GET --auth-url` carries only the request's `Authorization` and `Cookie` (the cookie
//! only when cookies are honoured: see [`Credentials`]); nothing else of the request. A
//! 200 with `{"uid": "42", "roles": ["editor"]}` signs the caller in; 401 or 403 refuses
//! them (401 to the caller); anything else, a timeout or no answer is a 503: the app being
//! down never signs anyone in and never logs anyone out. Answers are cached for a short
//! while (`--auth-cache-seconds`), keyed by a SHA-256 of the credentials (never the
//! credentials themselves), in a cache of bounded size; refusals are not cached.

use std::{sync::Arc, time::Duration};

use axum::http::header;
use futures_util::future::BoxFuture;
use moka::future::Cache;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Authenticator, Credentials, Identity, Verdict};

/// The most answers kept at once: a flood of distinct credentials evicts, never grows.
pub const MAX_CACHED: u64 = 4096;
/// The largest answer read from the app.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// Logging in by asking the app.
pub struct ForwardAuth {
    url: String,
    http: reqwest::Client,
    cache: Option<Cache<[u8; 32], Identity>>,
}

impl std::fmt::Debug for ForwardAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The cache holds hashes of credentials and who they are: only its size is shown.
        f.debug_struct("ForwardAuth")
            .field("url", &self.url)
            .field("cached", &self.cache.as_ref().map(Cache::entry_count))
            .finish()
    }
}

#[derive(Deserialize)]
struct Answer {
    uid: String,
    #[serde(default)]
    roles: Vec<String>,
}

impl ForwardAuth {
    /// Asks `url`, each call within `timeout`; answers kept `cache_for` (zero: not kept).
    pub fn new(url: impl Into<String>, cache_for: Duration, timeout: Duration) -> ForwardAuth {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the TLS backend initialises");
        let cache = (!cache_for.is_zero())
            .then(|| Cache::builder().max_capacity(MAX_CACHED).time_to_live(cache_for).build());
        ForwardAuth { url: url.into(), http, cache }
    }

    /// How many answers are cached now (after pending evictions).
    pub async fn cached(&self) -> u64 {
        match &self.cache {
            Some(cache) => {
                cache.run_pending_tasks().await;
                cache.entry_count()
            }
            None => 0,
        }
    }

    async fn ask(&self, authorization: Option<&[u8]>, cookie: Option<&[u8]>) -> Result<Identity, Verdict> {
        let request = || {
            let mut request = self.http.get(&self.url);
            if let Some(value) = authorization {
                request = request.header(header::AUTHORIZATION, value);
            }
            if let Some(value) = cookie {
                request = request.header(header::COOKIE, value);
            }
            request
        };
        let unavailable = |why: String| {
            tracing::warn!("the login service could not answer: {why}");
            Verdict::Unavailable("the app's login service cannot answer now; retry soon".into())
        };
        // A kept-alive connection the app closed just as it was reused (Node closes idle
        // ones after 5 s) fails with no answer: the GET is asked once more, on a new one.
        let response = match request().send().await {
            Err(e) if !e.is_timeout() => request().send().await,
            sent => sent,
        };
        let response = response.map_err(|e| unavailable(e.without_url().to_string()))?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => return Err(Verdict::Refused("the app says you are not signed in".into())),
            status => return Err(unavailable(format!("it answered HTTP {status}"))),
        }
        if response.content_length().is_some_and(|len| len > MAX_ANSWER_BYTES as u64) {
            return Err(unavailable("its answer is too large".into()));
        }
        let body = response.bytes().await.map_err(|e| unavailable(e.without_url().to_string()))?;
        let answer: Answer = (body.len() <= MAX_ANSWER_BYTES)
            .then(|| serde_json::from_slice(&body).ok())
            .flatten()
            .ok_or_else(|| unavailable("its 200 is not {\"uid\", \"roles\"}".into()))?;
        Ok(Identity { uid: answer.uid, roles: answer.roles })
    }
}

impl Authenticator for ForwardAuth {
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let authorization = request.headers.get(header::AUTHORIZATION).map(|v| v.as_bytes().to_vec());
            let cookie = request.cookies_allowed.then(|| cookie_header(request.headers)).flatten();
            if authorization.is_none() && cookie.is_none() {
                return Verdict::NotMine;
            }
            let asked = self.ask(authorization.as_deref(), cookie.as_deref());
            let Some(cache) = &self.cache else {
                return asked.await.map_or_else(|verdict| verdict, Verdict::SignedIn);
            };
            let key = credential_hash(authorization.as_deref(), cookie.as_deref());
            match cache.try_get_with(key, asked).await {
                Ok(identity) => Verdict::SignedIn(identity),
                Err(verdict) => Arc::unwrap_or_clone(verdict),
            }
        })
    }
}

/// The request's cookies, as one `Cookie` header value.
fn cookie_header(headers: &axum::http::HeaderMap) -> Option<Vec<u8>> {
    let values: Vec<&[u8]> = headers.get_all(header::COOKIE).iter().map(|v| v.as_bytes()).collect();
    (!values.is_empty()).then(|| values.join(&b"; "[..]))
}

/// The cache key of a pair of credentials: their SHA-256, never themselves.
fn credential_hash(authorization: Option<&[u8]>, cookie: Option<&[u8]>) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [authorization, cookie] {
        let part = part.unwrap_or_default();
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::ForwardAuth;

    /// An app that answers the first request of each connection, keeps it alive, and
    /// closes it without an answer when a second request comes on it.
    async fn app_closing_kept_connections() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/auth", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    if socket.read(&mut buffer).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let body = r#"{"uid":"u1","roles":[]}"#;
                    let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                    socket.write_all(answer.as_bytes()).await.unwrap();
                    // The second request: read, then closed unanswered.
                    let _ = socket.read(&mut buffer).await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_kept_connection_closed_on_reuse_is_asked_again_on_a_new_one() {
        let auth =
            ForwardAuth::new(app_closing_kept_connections().await, Duration::ZERO, Duration::from_secs(5));
        for n in 0..3 {
            let identity = auth.ask(Some(b"Bearer t"), None).await;
            assert_eq!(identity.map(|i| i.uid).ok().as_deref(), Some("u1"), "call {n}");
        }
    }
}
