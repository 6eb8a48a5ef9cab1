//! What the integrity module (`wx-cloud-storage/integrity`) asks of the backend: the
//! stored object's CRC-64 against the client's (`verify` with `crc64`), and whether
//! content-addressed keys already exist (`exists`). Both read the storage through the
//! links the backend can already make, so no bucket CORS is in the way.

use axum::{
    body::Body,
    extract::State as Extract,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};
use wx_cloud_storage_core::{batch::MAX_BATCH, protocol::FileId};

use super::{address, ApiError, Peer, Shared};
use crate::client::StorageClient;

/// A CRC-64 as COS writes it: a decimal u64.
pub(crate) fn check_crc64(crc64: &str) -> Result<(), ApiError> {
    if crc64.parse::<u64>().is_ok() && crc64.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(ApiError::invalid_argument("crc64 must be the CRC-64/XZ of the file as a decimal string"))
}

/// The stored object's CRC-64 against `crc64`: `{verdict: "verified" | "mismatch", crc64}`
/// (the storage's), or `{verdict: "unverifiable", reason: "header-absent"}` when the
/// storage sent no `x-cos-hash-crc64ecma`. `NOT_FOUND` when the object is gone.
pub(crate) async fn verdict(client: &StorageClient, file_id: &str, crc64: &str) -> Result<Value, ApiError> {
    let stat = client.stat(&[file_id.to_owned()]).await?.pop().expect("one stat per file ID");
    if !stat.exists {
        return Err(ApiError::new(404, "NOT_FOUND", format!("{file_id} does not exist")));
    }
    Ok(match stat.crc64 {
        None => json!({ "verdict": "unverifiable", "reason": "header-absent" }),
        Some(theirs) if theirs == crc64 => json!({ "verdict": "verified", "crc64": theirs }),
        Some(theirs) => {
            tracing::warn!("an upload's CRC-64 differs from what the client sent");
            json!({ "verdict": "mismatch", "crc64": theirs })
        }
    })
}

#[derive(serde::Deserialize)]
struct ExistsRequest {
    paths: Vec<String>,
}

/// `POST {prefix}/exists {"paths": [...]}` (at most 50): for each path, in order, the key
/// it resolves to in the caller's folder (as `upload-credentials` would write it) and
/// `{"path", "key", "fileid", "exists"}`, or a per-item refusal with its `code`. Only the
/// caller's own folder is ever looked at: a key shared between users would change hands on
/// each upload (storage rewrites its owner metadata).
pub(crate) async fn exists(
    Extract(backend): Extract<Shared>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let uid = backend.user(&headers, address(peer)).await?;
    let ExistsRequest { paths } = super::read_json(&backend, body).await?;
    if paths.is_empty() || paths.len() > MAX_BATCH {
        return Err(ApiError::invalid_argument(format!("paths must hold 1 to {MAX_BATCH} paths")));
    }
    let keys: Vec<Result<String, ApiError>> =
        paths.iter().map(|path| backend.policy.resolve_upload_key(&uid, path)).collect();
    let client = backend.client_for(&headers);
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
            Err(refusal) => json!({ "path": path, "code": refusal.code, "errmsg": refusal.message }),
        })
        .collect();
    Ok(Json(json!({ "file_list": file_list })).into_response())
}
