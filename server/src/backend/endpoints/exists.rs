//! `POST {prefix}/exists {"paths": [...]}` (at most 50): the integrity module's
//! skip-if-exists. For each path, in order, the key it names (as `upload-credentials` would
//! write it) and `{"path", "key", "fileid", "exists"}`, or a per-item refusal with its
//! `code`. Only keys the caller may upload or read are looked at. It reads the storage
//! through the links the backend can already make, so no bucket CORS is in the way.

use axum::{extract::State, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use wx_cloud_storage_core::{batch::MAX_BATCH, protocol::FileId};

use crate::backend::{ApiError, AppJson, Caller, Op, Refusal, Shared, Upstream};

#[derive(Deserialize)]
pub(crate) struct ExistsRequest {
    paths: Vec<String>,
}

pub(crate) async fn exists(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(ExistsRequest { paths }): AppJson<ExistsRequest>,
) -> Result<Json<Value>, ApiError> {
    if paths.is_empty() || paths.len() > MAX_BATCH {
        return Err(ApiError::invalid_argument(format!("paths must hold 1 to {MAX_BATCH} paths")));
    }
    let rules = &backend.policy.rules;
    let who = caller.identity();
    let keys: Vec<Result<String, Refusal>> = paths
        .iter()
        .map(|path| {
            let key = rules.resolve(path, who)?;
            rules.require(Op::Read, &key, who).or_else(|_| rules.require(Op::Upload, &key, who))?;
            Ok(key)
        })
        .collect();
    let mut asked = Vec::new();
    if let Some(first) = keys.iter().find_map(|key| key.as_ref().ok()) {
        let bucket = backend.bucket(&client, first).await?;
        asked = keys
            .iter()
            .filter_map(|key| key.as_ref().ok())
            .map(|key| FileId { env: client.env(), bucket: &bucket, key }.to_string())
            .collect();
    }
    let stats = if asked.is_empty() { Vec::new() } else { client.stat(&asked).await? };
    let mut found = asked.into_iter().zip(stats.iter().map(|stat| stat.exists));
    let file_list: Vec<Value> = paths
        .iter()
        .zip(keys)
        .map(|(path, key)| match key {
            // The resolved keys take the file IDs asked about, in order.
            Ok(key) => {
                let (fileid, exists) = found.next().unwrap_or_default();
                json!({ "path": path, "fileid": fileid, "key": key, "exists": exists })
            }
            Err(refusal) => json!({ "path": path, "code": refusal.code.as_str(), "errmsg": refusal.message }),
        })
        .collect();
    Ok(Json(json!({ "file_list": file_list })))
}
