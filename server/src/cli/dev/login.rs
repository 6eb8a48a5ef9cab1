//! The demo's own login: `POST /api/demo/login {"user", "password"}` answers a JWT signed
//! with a key made at each start (Ed25519, EdDSA), whose public half is served as a JWKS at
//! `/.well-known/jwks.json`; the demo's backend verifies its tokens from that URL, as a
//! real deployment verifies its app's. Two demo users: `demo` (password `demo`), and
//! `admin` (password `admin`) with the roles `admin` and `editor`.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_dalek::{pkcs8::EncodePrivateKey, SigningKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::{json, Value};

/// The issuer and audience of the demo's tokens.
pub(crate) const ISSUER: &str = "wxcs-dev";
/// How long a demo token is good for.
const TOKEN_SECONDS: u64 = 3600;
/// The demo's users: name, password, roles.
const USERS: [(&str, &str, &[&str]); 2] = [("demo", "demo", &[]), ("admin", "admin", &["admin", "editor"])];

/// Signs the demo's tokens.
#[derive(Clone)]
pub(crate) struct Issuer {
    key: EncodingKey,
    jwks: Value,
    kid: String,
}

impl Issuer {
    /// A new key pair, made now.
    pub(crate) fn new() -> Issuer {
        let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let der = signing.to_pkcs8_der().expect("an Ed25519 key encodes");
        let kid = hex::encode(&signing.verifying_key().to_bytes()[..8]);
        let jwks = json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes()),
        }]});
        Issuer { key: EncodingKey::from_ed_der(der.as_bytes()), jwks, kid }
    }

    /// A token for `uid` with `roles`.
    pub(crate) fn token(&self, uid: &str, roles: &[&str]) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let claims = json!({
            "sub": uid, "roles": roles, "iss": ISSUER, "aud": ISSUER, "iat": now, "exp": now + TOKEN_SECONDS,
        });
        let header = Header { kid: Some(self.kid.clone()), ..Header::new(Algorithm::EdDSA) };
        jsonwebtoken::encode(&header, &claims, &self.key).expect("the demo key signs")
    }

    /// `/.well-known/jwks.json` and `POST /api/demo/login`.
    pub(crate) fn routes(self) -> Router {
        Router::new()
            .route("/.well-known/jwks.json", get(jwks))
            .route("/api/demo/login", post(login))
            .with_state(self)
    }
}

async fn jwks(State(issuer): State<Issuer>) -> Response {
    ([("cache-control", "max-age=300")], Json(issuer.jwks)).into_response()
}

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

async fn login(State(issuer): State<Issuer>, Json(login): Json<Login>) -> Response {
    let Some((uid, _, roles)) =
        USERS.iter().find(|(user, password, _)| *user == login.user && *password == login.password)
    else {
        let body = json!({ "code": "UNAUTHORIZED", "message": "unknown user or wrong password (demo: demo/demo, admin/admin)" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    };
    let token = issuer.token(uid, roles);
    Json(json!({ "token": token, "uid": uid, "roles": roles, "expires_in": TOKEN_SECONDS })).into_response()
}
