//! `POST {prefix}/exists {"paths": [...]}` (at most 50): the integrity module's
//! skip-if-exists. For each path, in order, the key it names (as `upload-credentials` would
//! write it) and `{"path", "key", "fileid", "exists"}`, or a per-item refusal with its
//! `code`. Only keys the caller may upload or read are looked at. It reads the storage
//! through the links the backend can already make, so no bucket CORS is in the way. A
//! file whose owed check is not made yet is checked first (in a folder with limits): one
//! that failed it does not exist.

use axum::{extract::State, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use wx_cloud_storage_core::{batch::MAX_BATCH, protocol::FileId};

use crate::{
    backend::{checks::Settled, ApiError, AppJson, Caller, Op, Refusal, Shared, Upstream},
    client::StorageClient,
};

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
    let found = exists_checked(&backend, &client, &asked).await?;
    let mut found = asked.into_iter().zip(found);
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

/// Whether each of `file_ids` exists, in order: those that owe a check in a folder with
/// limits are checked first, and only those that passed (or owed none) are looked at.
async fn exists_checked(
    backend: &Shared,
    client: &StorageClient,
    file_ids: &[String],
) -> Result<Vec<bool>, ApiError> {
    let limited: Vec<&str> =
        file_ids.iter().map(String::as_str).filter(|id| backend.limits_apply(id)).collect();
    let owed = backend.store.checks_among(&limited).await.map_err(|e| ApiError::store(&e))?;
    let settled = backend.settle(client, owed).await?;
    let gone = |id: &str| matches!(settled.get(id), Some(Settled::Refused(_) | Settled::Missing));
    let look: Vec<String> = file_ids.iter().filter(|id| !gone(id)).cloned().collect();
    let stats = if look.is_empty() { Vec::new() } else { client.stat(&look).await? };
    let mut stats = stats.into_iter();
    Ok(file_ids.iter().map(|id| !gone(id) && stats.next().is_some_and(|stat| stat.exists)).collect())
}
