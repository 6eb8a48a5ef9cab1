//! Logging in with the app's own JWT, against a real HTTP JWKS server run by the test:
//! RS256, ES256, EdDSA and HS256 tokens accepted; every forged, stale, misdirected or
//! oversized token refused with 401 and a code; the key server down or slow a 503 within
//! its timeout; keys rotated in and out; a cookie honoured only from allowed origins.

mod support;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use axum::{extract::State, response::IntoResponse, routing::get, Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use rand_core::OsRng;
use rsa::{pkcs8::EncodePrivateKey, traits::PublicKeyParts, RsaPrivateKey};
use serde_json::{json, Value};
use support::stack::{stack_with, Stack};
use wx_cloud_storage_server::backend::{Backend, Jwks, JwtConfig, JwtLogin, KeySource};

const CREDS: &str = "/api/storage/upload-credentials";

/// A signing key the test made, and its public JWK.
struct TestKey {
    encoding: EncodingKey,
    algorithm: Algorithm,
    jwk: Value,
    /// The public key as PEM (for the algorithm-confusion attack).
    public_pem: String,
}

fn rsa_key(kid: &str) -> TestKey {
    let private = RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    let pem = private.to_pkcs8_pem(Default::default()).unwrap();
    let public = private.to_public_key();
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    let public_pem = rsa::pkcs8::EncodePublicKey::to_public_key_pem(&public, Default::default()).unwrap();
    TestKey {
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        algorithm: Algorithm::RS256,
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())}),
        public_pem,
    }
}

fn ec_key(kid: &str) -> TestKey {
    let signing = SigningKey::random(&mut OsRng);
    let pem = signing.to_pkcs8_pem(Default::default()).unwrap();
    let point = signing.verifying_key().to_encoded_point(false);
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    TestKey {
        encoding: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        algorithm: Algorithm::ES256,
        jwk: json!({"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}),
        public_pem: String::new(),
    }
}

fn ed_key(kid: &str) -> TestKey {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let signing = ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let der = signing.to_pkcs8_der().unwrap();
    TestKey {
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        algorithm: Algorithm::EdDSA,
        jwk: json!({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes())}),
        public_pem: String::new(),
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A token signed with `key` (its kid from its JWK) carrying `claims` over the defaults.
fn token(key: &TestKey, claims: Value) -> String {
    let mut all =
        json!({"sub": "alice", "iss": "https://login.example", "aud": "storage", "exp": now() + 600});
    for (name, value) in claims.as_object().unwrap() {
        all[name] = value.clone();
    }
    let kid = key.jwk["kid"].as_str().map(str::to_owned);
    jsonwebtoken::encode(&Header { kid, ..Header::new(key.algorithm) }, &all, &key.encoding).unwrap()
}

/// What the JWKS server serves, and how.
#[derive(Default)]
struct KeyServer {
    keys: Mutex<Vec<Value>>,
    cache_control: Mutex<String>,
    delay: Mutex<Duration>,
    hits: AtomicU32,
}

async fn serve_jwks(State(server): State<Arc<KeyServer>>) -> impl IntoResponse {
    server.hits.fetch_add(1, Ordering::SeqCst);
    let delay = *server.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let keys = server.keys.lock().unwrap().clone();
    let cache_control = server.cache_control.lock().unwrap().clone();
    ([("cache-control", cache_control)], Json(json!({ "keys": keys })))
}

async fn key_server(keys: Vec<Value>) -> (Arc<KeyServer>, String) {
    let server = Arc::new(KeyServer::default());
    *server.keys.lock().unwrap() = keys;
    *server.cache_control.lock().unwrap() = "max-age=600".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    let app = Router::new().route("/jwks", get(serve_jwks)).with_state(server.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, url)
}

/// A backend logging in by JWT from `keys`, checking issuer and audience.
async fn jwt_stack(keys: KeySource, adjust: impl FnOnce(&mut JwtConfig)) -> Stack {
    let mut config = JwtConfig::new(keys);
    config.issuer = Some("https://login.example".into());
    config.audience = Some("storage".into());
    adjust(&mut config);
    stack_with(|_| {}, None, move |b: &mut Backend| b.auth = Box::new(JwtLogin(config))).await
}

fn jwks(url: &str, timeout: Duration, min_refresh: Duration) -> KeySource {
    let mut jwks = Jwks::new(url, timeout);
    jwks.min_refresh = min_refresh;
    KeySource::Jwks(jwks)
}

async fn upload_as(s: &Stack, token: &str) -> (u16, Value) {
    s.call(Some(token), CREDS, json!({"path": "a.png"})).await
}

#[tokio::test]
async fn rs256_es256_and_eddsa_from_a_jwks_and_hs256_from_a_secret_are_accepted() {
    let keys = [rsa_key("r1"), ec_key("e1"), ed_key("d1")];
    let (_server, url) = key_server(keys.iter().map(|k| k.jwk.clone()).collect()).await;
    let s = jwt_stack(jwks(&url, Duration::from_secs(2), Duration::from_secs(30)), |_| {}).await;
    for key in &keys {
        let (status, answer) = upload_as(&s, &token(key, json!({"sub": "alice"}))).await;
        assert_eq!(status, 200, "{:?}: {answer}", key.algorithm);
        assert_eq!(answer["key"], "users/alice/a.png");
    }
    let secret = b"a-shared-secret-of-at-least-32-bytes!!";
    let s = jwt_stack(KeySource::secret(secret).unwrap(), |_| {}).await;
    let hs = TestKey {
        encoding: EncodingKey::from_secret(secret),
        algorithm: Algorithm::HS256,
        jwk: json!({}),
        public_pem: String::new(),
    };
    let (status, answer) = upload_as(&s, &token(&hs, json!({"sub": "bob"}))).await;
    assert_eq!((status, answer["key"].as_str()), (200, Some("users/bob/a.png")), "{answer}");
    assert!(KeySource::secret(b"short").is_err(), "a secret under 32 bytes is refused at start");
}

/// `alg: none`, HS256 signed with the RSA public key, bad times, issuer, audience, key IDs
/// that are paths or URLs, oversized tokens, unsafe user IDs and forged roles: each 401.
#[tokio::test]
async fn forged_stale_and_misdirected_tokens_are_refused_with_401() {
    let rsa = rsa_key("r1");
    let (server, url) = key_server(vec![rsa.jwk.clone()]).await;
    let s = jwt_stack(jwks(&url, Duration::from_secs(2), Duration::from_secs(1)), |_| {}).await;
    assert_eq!(upload_as(&s, &token(&rsa, json!({}))).await.0, 200, "the good token works");
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims =
        json!({"sub": "alice", "iss": "https://login.example", "aud": "storage", "exp": now() + 600});
    let none = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims.clone()));
    // Algorithm confusion: HS256 keyed with the RSA public key the attacker can read.
    let confused = jsonwebtoken::encode(
        &Header { kid: Some("r1".into()), ..Header::new(Algorithm::HS256) },
        &claims,
        &EncodingKey::from_secret(rsa.public_pem.as_bytes()),
    )
    .unwrap();
    let good = token(&rsa, json!({"sub": "alice"}));
    let (head, _, signature) = (good.split('.').next().unwrap(), (), good.rsplit('.').next().unwrap());
    let forged_roles = format!(
        "{head}.{}.{signature}",
        b64(
            json!({"sub": "alice", "roles": ["editor", "admin"], "iss": "https://login.example", "aud": "storage", "exp": now() + 600})
        )
    );
    let cases = [
        ("alg none", none, "not a JWT this backend accepts"),
        ("HS256 with the RSA public key", confused, "signed with HS256"),
        ("expired", token(&rsa, json!({"exp": now() - 120})), "expired"),
        ("not yet valid", token(&rsa, json!({"nbf": now() + 120})), "not valid yet"),
        ("another issuer", token(&rsa, json!({"iss": "https://evil.example"})), "another issuer"),
        ("another audience", token(&rsa, json!({"aud": "other"})), "another audience"),
        ("no exp", token(&rsa, json!({"exp": null})), ""),
        ("a user ID with /", token(&rsa, json!({"sub": "bob/x"})), "not usable as a folder name"),
        ("a user ID of ..", token(&rsa, json!({"sub": ".."})), "not usable as a folder name"),
        ("a look-alike user ID", token(&rsa, json!({"sub": "ａlice"})), "not usable as a folder name"),
        ("roles forged in an unsigned copy", forged_roles, "signature does not verify"),
    ];
    for (what, bad, says) in cases {
        let (status, answer) = upload_as(&s, &bad).await;
        assert_eq!((status, answer["code"].as_str()), (401, Some("UNAUTHORIZED")), "{what}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains(says), "{what}: {answer}");
    }
    // A key ID that is a path or a URL is only ever a name to look up: one fetch of the
    // JWKS itself for the first unknown one, none for the next (at most one a second here,
    // 30 s by default).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let hits = server.hits.load(Ordering::SeqCst);
    for kid in ["../../../etc/passwd", "http://evil.example/jwks.json", "r2"] {
        let forged = jsonwebtoken::encode(
            &Header { kid: Some(kid.into()), ..Header::new(Algorithm::RS256) },
            &claims,
            &rsa.encoding,
        )
        .unwrap();
        let (status, answer) = upload_as(&s, &forged).await;
        assert_eq!(status, 401, "{kid}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("does not know"), "{answer}");
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), hits + 1, "one refresh for unknown keys, then none");
    // Over 8 KiB: refused before any parsing or fetching.
    let huge = format!("{}.{}.{}", "a".repeat(4000), "b".repeat(4000), "c".repeat(500));
    let started = Instant::now();
    let (status, answer) = upload_as(&s, &huge).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("over 8 KiB"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.hits.load(Ordering::SeqCst), hits + 1, "no fetch for an oversized token");
}

#[tokio::test]
async fn a_key_server_down_or_slow_is_a_503_within_the_timeout() {
    let rsa = rsa_key("r1");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let s = jwt_stack(
        jwks(&format!("http://{closed}/jwks"), Duration::from_secs(1), Duration::from_secs(30)),
        |_| {},
    )
    .await;
    let started = Instant::now();
    let (status, answer) = upload_as(&s, &token(&rsa, json!({}))).await;
    assert_eq!((status, answer["code"].as_str()), (503, Some("SERVER")), "down: {answer}");
    assert!(started.elapsed() < Duration::from_secs(3));

    let (server, url) = key_server(vec![rsa.jwk.clone()]).await;
    *server.delay.lock().unwrap() = Duration::from_secs(5);
    let s = jwt_stack(jwks(&url, Duration::from_secs(1), Duration::from_secs(30)), |_| {}).await;
    let started = Instant::now();
    let (status, answer) = upload_as(&s, &token(&rsa, json!({}))).await;
    assert_eq!((status, answer["code"].as_str()), (503, Some("SERVER")), "slow: {answer}");
    assert!(started.elapsed() < Duration::from_millis(2500), "{:?}", started.elapsed());
    *server.delay.lock().unwrap() = Duration::ZERO;
    assert_eq!(upload_as(&s, &token(&rsa, json!({}))).await.0, 200, "and it recovers");
}

/// A key rotated in is accepted at once (an unknown key ID fetches the set again); a key
/// rotated out is refused once the cached set expires (its Cache-Control).
#[tokio::test]
async fn keys_rotate_in_and_out() {
    let (old, new) = (rsa_key("old"), ec_key("new"));
    let (server, url) = key_server(vec![old.jwk.clone()]).await;
    *server.cache_control.lock().unwrap() = "max-age=2".into();
    let s = jwt_stack(jwks(&url, Duration::from_secs(2), Duration::ZERO), |_| {}).await;
    assert_eq!(upload_as(&s, &token(&old, json!({}))).await.0, 200);
    assert_eq!(upload_as(&s, &token(&new, json!({}))).await.0, 401, "not published yet");
    server.keys.lock().unwrap().push(new.jwk.clone());
    assert_eq!(upload_as(&s, &token(&new, json!({}))).await.0, 200, "rotated in: accepted at once");
    server.keys.lock().unwrap().retain(|k| k["kid"] == "new");
    assert_eq!(upload_as(&s, &token(&old, json!({}))).await.0, 200, "still cached");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (status, answer) = upload_as(&s, &token(&old, json!({}))).await;
    assert_eq!(status, 401, "rotated out: refused once the cache expired: {answer}");
    assert_eq!(upload_as(&s, &token(&new, json!({}))).await.0, 200);
}

/// A token in a cookie is honoured only from no page, the backend's own origin, or a named
/// CORS origin: a cross-site page's request never carries a session.
#[tokio::test]
async fn a_cookie_token_is_honoured_only_from_allowed_origins() {
    let ec = ec_key("e1");
    let (_server, url) = key_server(vec![ec.jwk.clone()]).await;
    let mut config = JwtConfig::new(jwks(&url, Duration::from_secs(2), Duration::from_secs(30)));
    config.cookie = Some("session".into());
    let s = stack_with(
        |_| {},
        None,
        move |b: &mut Backend| {
            b.auth = Box::new(JwtLogin(config));
            b.allow_origins = vec!["https://console.example".into()];
        },
    )
    .await;
    let cookie = format!("theme=dark; session={}", token(&ec, json!({"iss": null, "aud": null})));
    let host = s.url.trim_start_matches("http://").to_owned();
    let call = |origin: Option<String>| {
        let mut request = s
            .http
            .post(format!("{}{CREDS}", s.url))
            .header("cookie", &cookie)
            .json(&json!({"path": "c.png"}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(call(None).await, 200, "a tool, no Origin");
    assert_eq!(call(Some(format!("http://{host}"))).await, 200, "the backend's own origin");
    assert_eq!(call(Some("https://console.example".into())).await, 200, "a named CORS origin");
    for foreign in
        ["https://evil.example", "null", "https://console.example.evil.example", "http://console.example"]
    {
        assert_eq!(call(Some(foreign.into())).await, 401, "{foreign}: the cookie is not a credential");
    }
    let _: SocketAddr = host.parse().unwrap();
}
