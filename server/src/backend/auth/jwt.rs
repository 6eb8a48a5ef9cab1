//! Logging in with the app's own JWT, verified by `jsonwebtoken` (no verification by
//! hand): from `Authorization: Bearer <jwt>`, or a named cookie.
//!
//! A token is refused (401) when it is over 8 KiB (before any parsing work), is not a JWT,
//! names an algorithm other than its key's (`none`, or HS256 signed with an RSA public key),
//! names an unknown key, has a bad signature, has expired or is not yet valid (a 30 s
//! leeway), or, when they are configured, was issued by another issuer or for another
//! audience. It must carry `exp`. The user ID is a named claim (default `sub`), a string;
//! the roles a named claim (default `roles`): an array of strings, or one string of
//! space-separated roles (as OAuth's `scope`). A dotted name reads a nested claim
//! (`realm_access.roles`).

use std::time::Duration;

use axum::http::header;
use futures_util::future::BoxFuture;
use jsonwebtoken::{errors::ErrorKind, Validation};
use serde_json::Value;

use super::{
    keys::{KeyProblem, KeySource},
    Authenticator, Credentials, Identity, Verdict,
};

/// The longest token read.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// How JWTs are verified and read. Every field but `keys` has a documented default
/// ([`JwtConfig::new`]).
#[derive(Debug)]
pub struct JwtConfig {
    /// Where the verification keys come from.
    pub keys: KeySource,
    /// The `iss` every token must have. Default: not checked.
    pub issuer: Option<String>,
    /// The `aud` every token must include. Default: not checked.
    pub audience: Option<String>,
    /// The claim holding the user ID. Default `sub`.
    pub uid_claim: String,
    /// The claim holding the roles. Default `roles`.
    pub roles_claim: String,
    /// A cookie the token may come in, besides `Authorization: Bearer`. Default none.
    pub cookie: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`. Default 30 s.
    pub leeway: Duration,
}

impl JwtConfig {
    /// Tokens verified with `keys`, the rest as by default.
    pub fn new(keys: KeySource) -> JwtConfig {
        JwtConfig {
            keys,
            issuer: None,
            audience: None,
            uid_claim: "sub".into(),
            roles_claim: "roles".into(),
            cookie: None,
            leeway: Duration::from_secs(30),
        }
    }
}

/// Logging in by JWT.
#[derive(Debug)]
pub struct JwtLogin(pub JwtConfig);

impl Authenticator for JwtLogin {
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let Some(token) = self.token(&request) else { return Verdict::NotMine };
            match self.verify(&token).await {
                Ok(identity) => Verdict::SignedIn(identity),
                Err(verdict) => verdict,
            }
        })
    }
}

/// Whether a bearer credential is shaped like a JWT: three base64url parts.
fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl JwtLogin {
    /// The token this request carries, if it carries one this way reads.
    fn token(&self, request: &Credentials<'_>) -> Option<String> {
        let bearer = request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| looks_like_jwt(t) || t.len() > MAX_TOKEN_BYTES);
        bearer.map(str::to_owned).or_else(|| self.0.cookie.as_deref().and_then(|name| request.cookie(name)))
    }

    async fn verify(&self, token: &str) -> Result<Identity, Verdict> {
        let refused = |why: &str| Verdict::Refused(format!("the JWT is refused: {why}"));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refused("it is over 8 KiB"));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refused("it is not a JWT this backend accepts (RS256, ES256, EdDSA or HS256)"))?;
        let (key, algorithm) =
            self.0.keys.key(header.kid.as_deref()).await.map_err(|problem| match problem {
                KeyProblem::Unknown(why) => refused(&why),
                KeyProblem::Unavailable(why) => Verdict::Unavailable(why),
            })?;
        if header.alg != algorithm {
            return Err(refused(&format!(
                "it is signed with {:?}, but its key is for {algorithm:?}",
                header.alg
            )));
        }
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.0.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        match &self.0.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.0.issuer {
            validation.set_issuer(&[issuer]);
        }
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|e| refused(reason(e.kind())))?
            .claims;
        let uid = claim(&claims, &self.0.uid_claim).and_then(Value::as_str).ok_or_else(|| {
            refused(&format!("it has no string claim {:?} for the user ID", self.0.uid_claim))
        })?;
        let roles = match claim(&claims, &self.0.roles_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(roles)) => roles.split_whitespace().map(str::to_owned).collect(),
            Some(Value::Array(roles)) => {
                roles.iter().map(|r| r.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>().ok_or_else(
                    || refused(&format!("its claim {:?} is not a list of strings", self.0.roles_claim)),
                )?
            }
            Some(_) => {
                return Err(refused(&format!("its claim {:?} is not a list of strings", self.0.roles_claim)))
            }
        };
        Ok(Identity { uid: uid.to_owned(), roles })
    }
}

/// A claim by name; dots go into nested objects.
fn claim<'c>(claims: &'c Value, name: &str) -> Option<&'c Value> {
    claims.get(name).or_else(|| name.split('.').try_fold(claims, |value, part| value.get(part)))
}

/// Why `jsonwebtoken` refused a token, for the caller.
fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "it has expired",
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "it was issued by another issuer",
        ErrorKind::InvalidAudience => "it is for another audience",
        ErrorKind::InvalidSignature => "its signature does not verify",
        ErrorKind::InvalidAlgorithm => "it names another algorithm than its key's",
        ErrorKind::MissingRequiredClaim(_) => "it lacks exp",
        _ => "it is malformed",
    }
}
