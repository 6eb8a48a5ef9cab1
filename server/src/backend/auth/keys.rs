//! Where a JWT's verification key comes from: a JWKS URL (`jwks.rs`), one public key in a
//! PEM file, or a shared secret. Each key is tied to the one algorithm its kind signs with
//! (RSA → RS256, EC P-256 → ES256, Ed25519 → EdDSA, a secret → HS256): a token whose header
//! names another is refused, so a public key can never be used as an HMAC secret
//! (algorithm confusion).

use jsonwebtoken::{Algorithm, DecodingKey};

use super::jwks::Jwks;

/// Why no key could verify a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// The token names a key this backend does not know (after refreshing its JWKS, if it
    /// may refresh now): refused.
    Unknown(String),
    /// The keys cannot be had now (the JWKS URL is down, slow or answers nonsense): 503.
    Unavailable(String),
}

/// Where the keys come from.
#[derive(Debug)]
pub enum KeySource {
    /// A JWKS URL: RSA (RS256), EC P-256 (ES256) and Ed25519 (EdDSA) keys, cached.
    Jwks(Jwks),
    /// One public key, from a PEM file.
    Pem {
        /// The key.
        key: DecodingKey,
        /// The one algorithm it verifies.
        algorithm: Algorithm,
    },
    /// A shared secret: HS256.
    Secret(DecodingKey),
}

/// The fewest bytes a shared secret may have (RFC 7518 §3.2: at least the hash's 256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

impl KeySource {
    /// One public key from PEM text: RSA, EC (P-256) or Ed25519.
    pub fn pem(text: &[u8]) -> Result<KeySource, String> {
        let attempts = [
            (DecodingKey::from_rsa_pem(text), Algorithm::RS256),
            (DecodingKey::from_ec_pem(text), Algorithm::ES256),
            (DecodingKey::from_ed_pem(text), Algorithm::EdDSA),
        ];
        attempts
            .into_iter()
            .find_map(|(key, algorithm)| key.ok().map(|key| KeySource::Pem { key, algorithm }))
            .ok_or_else(|| {
                "not a PEM public key (-----BEGIN PUBLIC KEY-----) of RSA, EC P-256 or Ed25519".to_owned()
            })
    }

    /// A shared secret (HS256), of at least [`MIN_SECRET_BYTES`].
    pub fn secret(bytes: &[u8]) -> Result<KeySource, String> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes"));
        }
        Ok(KeySource::Secret(DecodingKey::from_secret(bytes)))
    }

    /// The key, and its algorithm, for a token whose header names `kid`.
    pub async fn key(&self, kid: Option<&str>) -> Result<(DecodingKey, Algorithm), KeyProblem> {
        match self {
            KeySource::Jwks(jwks) => jwks.key(kid).await,
            KeySource::Pem { key, algorithm } => Ok((key.clone(), *algorithm)),
            KeySource::Secret(key) => Ok((key.clone(), Algorithm::HS256)),
        }
    }

    /// How the mode reads in `--help`-like summaries (no key material).
    pub fn describe(&self) -> String {
        match self {
            KeySource::Jwks(jwks) => format!("JWKS {}", jwks.url()),
            KeySource::Pem { algorithm, .. } => format!("a PEM public key ({algorithm:?})"),
            KeySource::Secret(_) => "a shared secret (HS256)".into(),
        }
    }
}
