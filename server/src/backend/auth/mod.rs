//! Who is calling: the ways of logging in, each an [`Authenticator`], tried in a fixed order
//! ([`Logins`]): fixed bearer tokens (the demo, `tokens.rs`), a JWT (`jwt.rs`, its keys
//! from a JWKS URL, a PEM file or a shared secret: `keys.rs`, `jwks.rs`), the app's own
//! session by forward auth (`forward.rs`), and WeChat's `X-WX-OPENID` on Cloud Run's
//! gateway (`openid.rs`). The first that recognises the request's credentials decides:
//! credentials it recognises and refuses are refused (401), never tried on the next one.
//!
//! Whatever the way, a user ID becomes part of keys (`users/{uid}/…`), so it must be
//! `[A-Za-z0-9_-]`, 1 to 128 bytes ([`is_safe_uid`]); anything else is refused, never
//! rewritten into a folder name. Roles are short printable strings, at most 64 of them.

mod forward;
mod jwks;
mod jwt;
mod keys;
mod openid;
mod tokens;

use axum::http::HeaderMap;
use futures_util::future::BoxFuture;

pub use forward::ForwardAuth;
pub use jwks::Jwks;
pub use jwt::{JwtConfig, JwtLogin};
pub use keys::KeySource;
pub use openid::WxOpenId;
pub use tokens::BearerTokens;

/// A signed-in caller: the user ID and the roles their login gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user ID (checked by the backend with [`is_safe_uid`]).
    pub uid: String,
    /// Roles, as the rules' `role:NAME` names them.
    pub roles: Vec<String>,
}

impl Identity {
    /// A user with no roles.
    pub fn user(uid: impl Into<String>) -> Identity {
        Identity { uid: uid.into(), roles: Vec::new() }
    }
}

/// What a way of logging in says of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It does not recognise the request's credentials (the next way may).
    NotMine,
    /// Signed in.
    SignedIn(Identity),
    /// The credentials it recognised are not valid (401, and counted as a failed sign-in):
    /// why, for the caller.
    Refused(String),
    /// It cannot decide now (its key server or the app is down or slow): 503, why.
    Unavailable(String),
}

/// What an [`Authenticator`] is given of a request.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// Whether its `Cookie` may be honoured: the request comes from the backend's own
    /// origin, from none (a tool), or from one of the CORS allow-list's named origins.
    /// A cookie on a request from any other page is never a credential.
    pub cookies_allowed: bool,
}

impl Credentials<'_> {
    /// The value of cookie `name`, if cookies are honoured and the request has it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        if !self.cookies_allowed {
            return None;
        }
        self.headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }
}

/// A way of logging in.
pub trait Authenticator: Send + Sync + std::fmt::Debug + 'static {
    /// What it says of a request with these credentials.
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict>;
}

/// Several ways of logging in, tried in order: the first that recognises a request's
/// credentials decides.
#[derive(Debug, Default)]
pub struct Logins(pub Vec<Box<dyn Authenticator>>);

impl Authenticator for Logins {
    fn authenticate<'a>(&'a self, request: Credentials<'a>) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            for login in &self.0 {
                match login.authenticate(request).await {
                    Verdict::NotMine => continue,
                    verdict => return verdict,
                }
            }
            Verdict::NotMine
        })
    }
}

/// Whether a user ID is safe to put in a key: `[A-Za-z0-9_-]`, 1 to 128 bytes.
pub fn is_safe_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 128
        && uid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The most roles a login may give one caller.
pub const MAX_ROLES: usize = 64;

/// Checks an identity a login gave: its user ID and roles; why it cannot be used.
pub fn check_identity(identity: &Identity) -> Result<(), String> {
    if !is_safe_uid(&identity.uid) {
        return Err(
            "the user ID is not usable as a folder name: it must be 1 to 128 of A-Z, a-z, 0-9, _ and -"
                .into(),
        );
    }
    let bad_role = |role: &String| role.is_empty() || role.len() > 128 || role.chars().any(char::is_control);
    if identity.roles.len() > MAX_ROLES || identity.roles.iter().any(bad_role) {
        return Err(format!(
            "the roles are not usable: at most {MAX_ROLES}, each 1 to 128 printable characters"
        ));
    }
    Ok(())
}
