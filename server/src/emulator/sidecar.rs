//! What the Cloud Run sidecar adds to the WeChat API for COS, in 开放接口服务 mode only
//! (backend-facts.md §3): `GET /_/cos/getauth`, a temporary key for the environment's
//! bucket (`temp_keys.rs`), and `POST /_/cos/metaid/encode {openid, bucket, paths}`, the
//! `x-cos-meta-fileid` value each path must be stored with for WeChat's download calls to
//! accept it.
//!
//! Guesses, marked where they are made: the answers' exact shape beyond the documented
//! fields, and what the sidecar answers outside 开放接口服务 (the emulator: 48001, as WeChat
//! answers an API the caller has no right to).

use axum::{
    body::Bytes,
    extract::State as Extract,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::{
    injected_latency, now, random_hex,
    wechat::{parse_body, wx_error, wx_ok},
    State,
};

type Shared = std::sync::Arc<State>;

/// The most paths one encode call takes. Guess: undocumented; the tcb batch calls' 50.
const MAX_PATHS: usize = 50;

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/_/cos/getauth", get(getauth)).route("/_/cos/metaid/encode", post(encode))
}

/// Refuses a call from outside Cloud Run's 开放接口服务.
fn inside_cloud_run(state: &State) -> Result<(), Response> {
    if state.config.open_api {
        return Ok(());
    }
    // Guess: the sidecar's answer without 开放接口服务 is undocumented.
    Err(wx_error(
        state,
        48001,
        "api unauthorized: /_/cos/* is served by the Cloud Run sidecar with 开放接口服务",
    ))
}

async fn getauth(Extract(state): Extract<Shared>) -> Response {
    injected_latency(&state).await;
    if let Err(refused) = inside_cloud_run(&state) {
        return refused;
    }
    let key = state.temp_keys.issue(now(), state.config.temp_key_ttl);
    // The documented fields (backend-facts.md L4); Guess: nothing else.
    Json(json!({
        "TmpSecretId": key.secret_id,
        "TmpSecretKey": key.secret_key,
        "Token": key.token,
        "ExpiredTime": key.expires_at,
    }))
    .into_response()
}

async fn encode(Extract(state): Extract<Shared>, body: Bytes) -> Response {
    injected_latency(&state).await;
    if let Err(refused) = inside_cloud_run(&state) {
        return refused;
    }
    let body = match parse_body(&state, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if !body.get("openid").is_some_and(Value::is_string) {
        return wx_error(&state, 40101, "missing parameter: openid");
    }
    match body.get("bucket").and_then(Value::as_str) {
        None => return wx_error(&state, 40101, "missing parameter: bucket"),
        // Guess: as an unknown environment.
        Some(bucket) if bucket != state.bucket => {
            return wx_error(&state, -501005, "[ResourceNotFound] bucket not exists")
        }
        Some(_) => {}
    }
    let paths = match body.get("paths") {
        Some(Value::Array(paths)) if paths.len() <= MAX_PATHS && paths.iter().all(Value::is_string) => paths,
        _ => return wx_error(&state, 40097, "invalid args: paths must be an array of at most 50 strings"),
    };
    // The value's form is WeChat's business; downloads only need one to be there.
    let values: Vec<String> = paths.iter().map(|_| format!("HD{}", random_hex(24))).collect();
    wx_ok(&state, json!({ "x_cos_meta_field_strs": values }))
}
