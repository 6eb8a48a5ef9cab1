//! The WeChat open-API port: tokens and the `tcb/*` storage calls, in WeChat's shapes.
//!
//! WeChat answers HTTP 200 with `{"errcode", "errmsg"}` for every failure, so do we.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Query, State as Extract},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};
use wx_cloud_storage_core::{batch::MAX_BATCH, protocol::FileId};

use super::{download_sign, injected_latency, now, random_hex, Link, State};
use crate::cos_sign;

type Shared = Arc<State>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/cgi-bin/token", get(token))
        .route("/cgi-bin/stable_token", post(stable_token).get(require_post))
        .route("/tcb/uploadfile", post(upload_file).get(require_post))
        .route("/tcb/batchdownloadfile", post(batch_download_file).get(require_post))
        .route("/tcb/batchdeletefile", post(batch_delete_file).get(require_post))
        .merge(super::sidecar::routes())
        // The emulator's own control routes; the WeChat API routes above stay without CORS,
        // like the real service.
        .merge(super::control::routes(state.clone()))
        .with_state(state)
}

/// A WeChat error body, counted in the stats. Like the real service's, the errmsg ends in
/// ` rid: <request id>` (logged responses in public code show it), so clients that match the
/// whole errmsg rather than the errcode break here as they would in production.
pub(crate) fn wx_error(state: &State, errcode: i64, errmsg: &str) -> Response {
    state.stats.reject(errcode);
    let rid = random_hex(4) + "-" + &random_hex(4) + "-" + &random_hex(4);
    Json(json!({ "errcode": errcode, "errmsg": format!("{errmsg} rid: {rid}") })).into_response()
}

async fn require_post(Extract(state): Extract<Shared>) -> Response {
    wx_error(&state, 43002, "require POST method")
}

#[derive(Deserialize)]
struct TokenQuery {
    grant_type: Option<String>,
    appid: Option<String>,
    secret: Option<String>,
}

/// Checks grant_type / appid / secret as WeChat does, in WeChat's order.
fn check_app(
    state: &State,
    grant_type: Option<&str>,
    appid: Option<&str>,
    secret: Option<&str>,
) -> Option<Response> {
    let config = &state.config;
    // The errcodes of getStableAccessToken's documented table, confirmed by logged answers
    // (linlinjava/litemall#551, 007gzs/meeting#16, rxrw/daily_morning#145).
    if grant_type != Some("client_credential") {
        return Some(wx_error(state, 40002, "invalid grant_type"));
    }
    let Some(appid) = appid.filter(|a| !a.is_empty()) else {
        return Some(wx_error(state, 41002, "appid missing"));
    };
    if appid != config.appid {
        return Some(wx_error(state, 40013, "invalid appid"));
    }
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Some(wx_error(state, 41004, "appsecret missing"));
    };
    if secret != config.secret.expose_secret() {
        return Some(wx_error(state, 40125, "invalid appsecret"));
    }
    None
}

async fn token(Extract(state): Extract<Shared>, Query(q): Query<TokenQuery>) -> Response {
    injected_latency(&state).await;
    super::Stats::bump(&state.stats.token_calls);
    if let Some(refused) = check_app(&state, q.grant_type.as_deref(), q.appid.as_deref(), q.secret.as_deref())
    {
        return refused;
    }
    let (token, ttl) = state.tokens.issue_plain(now(), state.config.token_ttl, state.config.token_grace);
    Json(json!({ "access_token": token, "expires_in": ttl })).into_response()
}

async fn stable_token(Extract(state): Extract<Shared>, body: Bytes) -> Response {
    injected_latency(&state).await;
    super::Stats::bump(&state.stats.stable_token_calls);
    let body = match parse_body(&state, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let field = |name: &str| body.get(name).and_then(Value::as_str);
    if let Some(refused) = check_app(&state, field("grant_type"), field("appid"), field("secret")) {
        return refused;
    }
    let force = body.get("force_refresh").and_then(Value::as_bool).unwrap_or(false);
    let (token, ttl) = state.tokens.issue_stable(now(), state.config.token_ttl, force);
    Json(json!({ "access_token": token, "expires_in": ttl })).into_response()
}

#[derive(Deserialize)]
struct TokenParams {
    access_token: Option<String>,
    cloudbase_access_token: Option<String>,
}

/// WeChat's checks for a JSON POST body: 44002 when empty, 47001 when not a JSON object.
pub(crate) fn parse_body(state: &State, body: &[u8]) -> Result<serde_json::Map<String, Value>, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(wx_error(state, 44002, "empty post data"));
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(wx_error(state, 47001, "data format error")),
    }
}

/// The common preamble of every `tcb/*` call: token, body, `env`.
fn tcb_preamble(
    state: &State,
    params: &TokenParams,
    body: &[u8],
) -> Result<serde_json::Map<String, Value>, Response> {
    let token = params.access_token.as_deref().or(params.cloudbase_access_token.as_deref());
    match token {
        None if state.config.open_api => {}
        None => return Err(wx_error(state, 41001, "access_token missing")),
        Some(token) => {
            if let Err(e) = state.tokens.check(token, now()) {
                let (code, msg) = e.errcode();
                return Err(wx_error(state, code, msg));
            }
        }
    }
    let body = parse_body(state, body)?;
    match body.get("env") {
        None => Err(wx_error(state, 40101, "missing parameter: env")),
        Some(Value::String(env)) if env == &state.config.env => Ok(body),
        // Guess, leaning on wx-server-sdk's TCB_ERR_CODE and TencentCloud/tcb-sdk-php#1:
        // an unknown environment is -501005 (undocumented for the HTTP API).
        Some(_) => Err(wx_error(state, -501005, "[ResourceNotFound] env not exists")),
    }
}

/// Answers 200 with WeChat's JSON, adding `x-openapi-seqid` in 开放接口服务 mode as the
/// Cloud Run sidecar does.
pub(crate) fn wx_ok(state: &State, mut body: Value) -> Response {
    body["errcode"] = json!(0);
    body["errmsg"] = json!("ok");
    let mut headers = HeaderMap::new();
    if state.config.open_api {
        headers.insert("x-openapi-seqid", random_hex(8).parse().expect("hex is a valid header value"));
    }
    (StatusCode::OK, headers, Json(body)).into_response()
}

async fn upload_file(
    Extract(state): Extract<Shared>,
    Query(params): Query<TokenParams>,
    body: Bytes,
) -> Response {
    injected_latency(&state).await;
    let body = match tcb_preamble(&state, &params, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let path = match body.get("path") {
        None | Some(Value::Null) => return wx_error(&state, 40101, "missing parameter: path"),
        Some(Value::String(p)) => p.clone(),
        Some(_) => return wx_error(&state, 40097, "invalid args: path must be a string"),
    };
    // WeChat's documented naming rules: not empty, no leading `/`, no `//`, ≤ 850 bytes.
    // (The stricter client-side rules of the core are the library's, not the service's.)
    if path.is_empty() || path.starts_with('/') || path.contains("//") || path.len() > 850 {
        return wx_error(&state, 40097, "invalid args: path");
    }
    let now = now();
    let config = &state.config;
    let expires_at = now + config.link_ttl;
    let token = random_hex(40);
    state.links.lock().unwrap().insert(token.clone(), Link { key: path.clone(), expires_at });
    super::Stats::bump(&state.stats.upload_links);
    let authorization =
        cos_sign::sign(&config.cos_secret_id, config.cos_secret_key(), "post", &path, now, expires_at);
    wx_ok(
        &state,
        json!({
            // Path-style like WeChat's: the raw key follows the bucket.
            "url": format!("{}/{}/{path}", state.cos_origin, state.bucket),
            "token": token,
            "authorization": authorization,
            "file_id": format!("cloud://{}.{}/{path}", config.env, state.bucket),
            "cos_file_id": format!("HD{}", random_hex(24)),
        }),
    )
}

/// Resolves a file ID to a key of this environment's bucket.
fn own_key<'a>(state: &State, file_id: &'a str) -> Option<&'a str> {
    let id = FileId::parse(file_id)?;
    (id.env == state.config.env && id.bucket == state.bucket).then_some(id.key)
}

const NOT_EXIST: (i64, &str) = (-503_003, "STORAGE_FILE_NONEXIST");

/// The preamble of the batch calls ([`tcb_preamble`]), then `body[name]` as an array of at
/// most [`MAX_BATCH`] items.
fn batch(state: &State, params: &TokenParams, body: &[u8], name: &str) -> Result<Vec<Value>, Response> {
    let mut body = tcb_preamble(state, params, body)?;
    match body.remove(name) {
        None => Err(wx_error(state, 40101, &format!("missing parameter: {name}"))),
        Some(Value::Array(items)) if items.len() > MAX_BATCH => {
            // Guess: documented as "at most 50"; the errcode for more is not. wx-server-sdk's
            // codes lean to -501007, a parameter error.
            Err(wx_error(
                state,
                -501007,
                &format!("[InvalidParameter] {name} has more than {MAX_BATCH} items"),
            ))
        }
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(wx_error(state, 40097, &format!("invalid args: {name} must be an array"))),
    }
}

async fn batch_download_file(
    Extract(state): Extract<Shared>,
    Query(params): Query<TokenParams>,
    body: Bytes,
) -> Response {
    injected_latency(&state).await;
    let items = match batch(&state, &params, &body, "file_list") {
        Ok(items) => items,
        Err(refused) => return refused,
    };
    let now = now();
    let mut file_list = Vec::with_capacity(items.len());
    for item in &items {
        let (Some(file_id), Some(max_age)) =
            (item.get("fileid").and_then(Value::as_str), item.get("max_age").and_then(Value::as_u64))
        else {
            return wx_error(&state, 40097, "invalid args: each file_list item needs fileid and max_age");
        };
        let entry = match own_key(&state, file_id).filter(|key| state.store.get(key).is_some()) {
            Some(key) => {
                let t = now + max_age;
                super::Stats::bump(&state.stats.download_links);
                json!({
                    "fileid": file_id,
                    // Raw key, like the real links; clients encodeURI before fetching.
                    "download_url": format!("{}/{}/{key}?sign={}&t={t}", state.cos_origin, state.bucket, download_sign(&state, key, t)),
                    "status": 0,
                    "errmsg": "ok",
                })
            }
            None => {
                json!({ "fileid": file_id, "download_url": "", "status": NOT_EXIST.0, "errmsg": NOT_EXIST.1 })
            }
        };
        file_list.push(entry);
    }
    wx_ok(&state, json!({ "file_list": file_list }))
}

async fn batch_delete_file(
    Extract(state): Extract<Shared>,
    Query(params): Query<TokenParams>,
    body: Bytes,
) -> Response {
    injected_latency(&state).await;
    let items = match batch(&state, &params, &body, "fileid_list") {
        Ok(items) => items,
        Err(refused) => return refused,
    };
    let mut delete_list = Vec::with_capacity(items.len());
    for item in &items {
        let Some(file_id) = item.as_str() else {
            return wx_error(&state, 40097, "invalid args: fileid_list items must be strings");
        };
        let deleted = match own_key(&state, file_id) {
            Some(key) => match state.store.delete(key).await {
                Ok(deleted) => deleted,
                Err(e) => {
                    tracing::error!("delete {key}: {e}");
                    return wx_error(&state, -1, "system error");
                }
            },
            None => false,
        };
        if deleted {
            super::Stats::bump(&state.stats.deletes);
            delete_list.push(json!({ "fileid": file_id, "status": 0, "errmsg": "ok" }));
        } else {
            delete_list.push(json!({ "fileid": file_id, "status": NOT_EXIST.0, "errmsg": NOT_EXIST.1 }));
        }
    }
    wx_ok(&state, json!({ "delete_list": delete_list }))
}
