//! A JWKS URL's keys, cached.
//!
//! The keys are kept for as long as the answer's `Cache-Control: max-age` says (at least 1 s,
//! at most a day; 5 minutes when it says nothing), then fetched again. A token naming a
//! key that is not in the set makes the set be fetched again at once, but at most once per
//! [`Jwks::min_refresh`] (default 30 s), so rotated-in keys work at once and made-up key
//! IDs cannot turn the backend into a flood against the key server. A key ID is only ever
//! looked up: never a path or URL to fetch. Fetches are single-flight and bounded by a
//! timeout: a key server that is down or slow is a 503, never a long wait.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm},
    Algorithm, DecodingKey,
};
use tokio::sync::{Mutex, RwLock};

use super::keys::KeyProblem;

/// How long keys are kept when the key server says nothing.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The bounds on what a key server may ask.
const MAX_AGE_RANGE: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(86_400));
/// The largest JWKS read.
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug, Default)]
struct Fetched {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    /// When the keys were fetched, and until when they are good.
    at: Option<Instant>,
    until: Option<Instant>,
}

/// The keys of one JWKS URL.
#[derive(Debug)]
pub struct Jwks {
    url: String,
    http: reqwest::Client,
    fetched: RwLock<Fetched>,
    /// Held while fetching: one fetch at a time.
    fetching: Mutex<()>,
    /// The least time between two fetches made because a token named an unknown key.
    pub min_refresh: Duration,
}

impl Jwks {
    /// The keys at `url`, each fetch bounded by `timeout`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Jwks {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .build()
            .expect("the TLS backend initialises");
        Jwks {
            url: url.into(),
            http,
            fetched: RwLock::default(),
            fetching: Mutex::new(()),
            min_refresh: Duration::from_secs(30),
        }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key a token's header names (`kid`; none: the set's only key).
    pub async fn key(&self, kid: Option<&str>) -> Result<(DecodingKey, Algorithm), KeyProblem> {
        let now = Instant::now();
        let (stale, refreshable) = {
            let fetched = self.fetched.read().await;
            (
                fetched.until.is_none_or(|until| until <= now),
                fetched.at.is_none_or(|at| now >= at + self.min_refresh),
            )
        };
        if stale {
            self.refresh(now).await?;
        }
        if let Some(key) = self.lookup(kid).await {
            return Ok(key);
        }
        if !stale && refreshable {
            // A key rotated in since the last fetch: fetch once more.
            self.refresh(now).await?;
            if let Some(key) = self.lookup(kid).await {
                return Ok(key);
            }
        }
        Err(KeyProblem::Unknown(match kid {
            Some(_) => "the token was signed with a key this backend does not know".into(),
            None => "the token names no key (kid), and the key set has more than one".into(),
        }))
    }

    async fn lookup(&self, kid: Option<&str>) -> Option<(DecodingKey, Algorithm)> {
        let fetched = self.fetched.read().await;
        match kid {
            Some(kid) => fetched.keys.get(kid).cloned(),
            None if fetched.keys.len() == 1 => fetched.keys.values().next().cloned(),
            None => None,
        }
    }

    /// Fetches the set, unless another fetch finished since `asked` (then its keys stand).
    async fn refresh(&self, asked: Instant) -> Result<(), KeyProblem> {
        let _one_at_a_time = self.fetching.lock().await;
        if self.fetched.read().await.at.is_some_and(|at| at >= asked) {
            return Ok(());
        }
        let (keys, max_age) = self.fetch().await.map_err(|why| {
            tracing::warn!("could not fetch the JWKS: {why}");
            KeyProblem::Unavailable(format!("the login keys cannot be fetched now ({why}); retry soon"))
        })?;
        let now = Instant::now();
        *self.fetched.write().await = Fetched { keys, at: Some(now), until: Some(now + max_age) };
        Ok(())
    }

    async fn fetch(&self) -> Result<(HashMap<String, (DecodingKey, Algorithm)>, Duration), String> {
        let response = self.http.get(&self.url).send().await.map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("it answered HTTP {}", response.status()));
        }
        let max_age = max_age(response.headers().get(reqwest::header::CACHE_CONTROL));
        if response.content_length().is_some_and(|len| len > MAX_JWKS_BYTES as u64) {
            return Err("the key set is too large".into());
        }
        let body = response.bytes().await.map_err(|e| e.without_url().to_string())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the key set is too large".into());
        }
        let set: JwkSet = serde_json::from_slice(&body).map_err(|e| format!("not a JWKS: {e}"))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(algorithm) = algorithm_of(jwk) else { continue };
            let Ok(key) = DecodingKey::from_jwk(jwk) else { continue };
            keys.insert(jwk.common.key_id.clone().unwrap_or_default(), (key, algorithm));
        }
        if keys.is_empty() {
            return Err("it holds no RSA, EC P-256 or Ed25519 signing key".into());
        }
        Ok((keys, max_age))
    }
}

/// The algorithm a key of a JWKS verifies: by its kind (RSA, EC P-256, Ed25519; shared
/// secrets never), and its `alg` when it names one (which must be that kind's).
fn algorithm_of(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature) {
        return None;
    }
    let (algorithm, named) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        Some(alg) if alg != named => None,
        _ => Some(algorithm),
    }
}

/// How long to keep keys, from the answer's `Cache-Control`.
fn max_age(header: Option<&reqwest::header::HeaderValue>) -> Duration {
    let directives = header.and_then(|v| v.to_str().ok()).unwrap_or_default();
    let seconds =
        directives.split(',').find_map(|d| d.trim().strip_prefix("max-age=")?.trim().parse::<u64>().ok());
    let no_cache = directives.split(',').any(|d| matches!(d.trim(), "no-cache" | "no-store"));
    match (seconds, no_cache) {
        (_, true) => MAX_AGE_RANGE.0,
        (Some(s), false) => Duration::from_secs(s).clamp(MAX_AGE_RANGE.0, MAX_AGE_RANGE.1),
        (None, false) => DEFAULT_MAX_AGE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_sets_how_long_keys_are_kept() {
        let value = |s: &str| reqwest::header::HeaderValue::from_str(s).unwrap();
        assert_eq!(max_age(None), DEFAULT_MAX_AGE);
        assert_eq!(max_age(Some(&value("public, max-age=600"))), Duration::from_secs(600));
        assert_eq!(max_age(Some(&value("max-age=0"))), Duration::from_secs(1));
        assert_eq!(max_age(Some(&value("max-age=99999999"))), Duration::from_secs(86_400));
        assert_eq!(max_age(Some(&value("no-store"))), Duration::from_secs(1));
    }
}
