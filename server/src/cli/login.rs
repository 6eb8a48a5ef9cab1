//! The login flags of `serve`: how callers sign in. Several ways may be on at once; the
//! first that recognises a request's credentials decides, in this order: the --users
//! tokens, a JWT, forward auth (--auth-url), X-WX-OPENID (--trust-wx-openid).

use std::{path::PathBuf, time::Duration};

use clap::Args;
use wx_cloud_storage_server::backend::{
    Authenticator, BearerTokens, ForwardAuth, JwtConfig, JwtLogin, KeySource, Logins, WxOpenId,
};

/// The environment variable that may hold the HS256 secret (never a flag: `ps` shows flags).
pub(crate) const JWT_SECRET_VAR: &str = "WXCS_JWT_SECRET";

#[derive(Debug, Args)]
#[command(
    next_help_heading = "Logging in (the first way that recognises a request's credentials decides, in this order: --users, JWT, --auth-url, --trust-wx-openid)"
)]
pub(crate) struct LoginArgs {
    /// Fixed bearer tokens, as token=uid pairs, comma-separated (for demos and tests: they
    /// never expire).
    #[arg(long, env = "WXCS_USERS", default_value = "", hide_env_values = true)]
    users: String,
    /// JWT: the app's JWKS URL (RS256, ES256, EdDSA keys; cached by Cache-Control, fetched
    /// again, at most once per 30 s, when a token names an unknown key).
    #[arg(long, env = "WXCS_JWT_JWKS_URL")]
    jwt_jwks_url: Option<String>,
    /// JWT: a PEM public key file (RSA → RS256, EC P-256 → ES256, Ed25519 → EdDSA).
    #[arg(long, env = "WXCS_JWT_PUBLIC_KEY_FILE")]
    jwt_public_key_file: Option<PathBuf>,
    /// JWT: a file holding the HS256 secret (at least 32 bytes); or set WXCS_JWT_SECRET.
    /// Never a flag value, which `ps` would show.
    #[arg(long, env = "WXCS_JWT_SECRET_FILE")]
    jwt_secret_file: Option<PathBuf>,
    /// JWT: the issuer (iss) every token must have.
    #[arg(long, env = "WXCS_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// JWT: the audience (aud) every token must include.
    #[arg(long, env = "WXCS_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// JWT: the claim holding the user ID (dots for nested claims).
    #[arg(long, env = "WXCS_JWT_UID_CLAIM", default_value = "sub")]
    jwt_uid_claim: String,
    /// JWT: the claim holding the roles: an array of strings, or space-separated roles.
    #[arg(long, env = "WXCS_JWT_ROLES_CLAIM", default_value = "roles")]
    jwt_roles_claim: String,
    /// JWT: a cookie the token may come in, besides Authorization: Bearer (honoured only
    /// from the backend's own origin and the named --cors-origin's).
    #[arg(long, env = "WXCS_JWT_COOKIE")]
    jwt_cookie: Option<String>,
    /// Forward auth: the app's endpoint that says who is calling. Asked with only the
    /// request's Cookie and Authorization; 200 {"uid", "roles"} signs in, 401/403 refuse,
    /// anything else is a 503.
    #[arg(long, env = "WXCS_AUTH_URL")]
    auth_url: Option<String>,
    /// Forward auth: seconds an answer is kept (keyed by a hash of the credentials; 0:
    /// none). A logged-out session works at most this long.
    #[arg(long, env = "WXCS_AUTH_CACHE_SECONDS", default_value_t = 10)]
    auth_cache_seconds: u64,
    /// Seconds the JWKS URL or --auth-url may take to answer.
    #[arg(long, env = "WXCS_AUTH_TIMEOUT", default_value_t = 5)]
    auth_timeout: u64,
    /// Authenticate mini program users by the X-WX-OPENID header Cloud Run's gateway sets on
    /// wx.cloud.callContainer calls (folders users/<openid>/). Safe ONLY when the service has
    /// no public ingress: anyone reaching it directly can send that header. Off by default.
    #[arg(long, env = "WXCS_TRUST_WX_OPENID", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    trust_wx_openid: bool,
}

impl LoginArgs {
    /// The ways of logging in these flags turn on, in order.
    pub(crate) fn logins(&self) -> Result<Logins, String> {
        let mut logins: Vec<Box<dyn Authenticator>> = Vec::new();
        let tokens = BearerTokens::parse(&self.users)?;
        if !tokens.0.is_empty() {
            logins.push(Box::new(tokens));
        }
        if let Some(keys) = self.jwt_keys()? {
            let mut config = JwtConfig::new(keys);
            config.issuer.clone_from(&self.jwt_issuer);
            config.audience.clone_from(&self.jwt_audience);
            config.uid_claim.clone_from(&self.jwt_uid_claim);
            config.roles_claim.clone_from(&self.jwt_roles_claim);
            config.cookie.clone_from(&self.jwt_cookie);
            logins.push(Box::new(JwtLogin(config)));
        }
        if let Some(url) = &self.auth_url {
            let (cache, timeout) = (Duration::from_secs(self.auth_cache_seconds), self.timeout());
            logins.push(Box::new(ForwardAuth::new(url, cache, timeout)));
        }
        if self.trust_wx_openid {
            eprintln!("wxcs: trusting X-WX-OPENID: run this only behind Cloud Run's gateway, with public ingress off");
            logins.push(Box::new(WxOpenId));
        }
        Ok(Logins(logins))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.auth_timeout.max(1))
    }

    /// The JWT keys the flags name: at most one source.
    fn jwt_keys(&self) -> Result<Option<KeySource>, String> {
        let secret_var = std::env::var(JWT_SECRET_VAR).ok().filter(|s| !s.is_empty());
        let named = [
            self.jwt_jwks_url.is_some(),
            self.jwt_public_key_file.is_some(),
            self.jwt_secret_file.is_some() || secret_var.is_some(),
        ];
        match named.iter().filter(|n| **n).count() {
            0 if self.jwt_issuer.is_some() || self.jwt_audience.is_some() || self.jwt_cookie.is_some() => {
                return Err("--jwt-issuer, --jwt-audience and --jwt-cookie need the keys: --jwt-jwks-url, --jwt-public-key-file, --jwt-secret-file or WXCS_JWT_SECRET".into())
            }
            0 => return Ok(None),
            1 => {}
            _ => return Err("name one source of JWT keys: --jwt-jwks-url, --jwt-public-key-file, or a secret (--jwt-secret-file / WXCS_JWT_SECRET)".into()),
        }
        if let Some(url) = &self.jwt_jwks_url {
            let parsed = reqwest::Url::parse(url).map_err(|e| format!("--jwt-jwks-url {url:?}: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("--jwt-jwks-url {url:?} must be an http(s) URL"));
            }
            return Ok(Some(KeySource::Jwks(wx_cloud_storage_server::backend::Jwks::new(
                url,
                self.timeout(),
            ))));
        }
        if let Some(path) = &self.jwt_public_key_file {
            let pem =
                std::fs::read(path).map_err(|e| format!("--jwt-public-key-file {}: {e}", path.display()))?;
            return KeySource::pem(&pem)
                .map(Some)
                .map_err(|e| format!("--jwt-public-key-file {}: {e}", path.display()));
        }
        let secret = match (&self.jwt_secret_file, secret_var) {
            (Some(path), _) => {
                std::fs::read(path).map_err(|e| format!("--jwt-secret-file {}: {e}", path.display()))?
            }
            (None, Some(secret)) => secret.into_bytes(),
            (None, None) => unreachable!("one source is named"),
        };
        let secret = secret.strip_suffix(b"\n").unwrap_or(&secret);
        KeySource::secret(secret).map(Some)
    }
}
