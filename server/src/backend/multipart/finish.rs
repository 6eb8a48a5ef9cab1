//! The end of an upload, done by this backend itself with COS's own list of its parts:
//! `POST {prefix}/multipart/complete {uploadId}` joins them, once every part of the plan is
//! there at its length (answering the object's CRC-64, as COS gave it), and brings the
//! object's check forward (it runs behind the answer,
//! as after a reported upload); `POST {prefix}/multipart/abort {uploadId}` drops them.
//! Either moves the upload out of `open` first, so of two at once exactly one proceeds.

use axum::{extract::State, Json};
use serde_json::{json, Value};

use super::{part_count, part_length, parts::not_open, UploadRef};
use crate::{
    backend::{state::MultipartUpload, ApiError, AppJson, Caller, Shared, Upstream},
    client::StorageClient,
};

pub(crate) async fn complete(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<UploadRef>,
) -> Result<Json<Value>, ApiError> {
    let upload = backend.own_upload(&caller, &request.upload_id).await?;
    let lease = backend.check_lease;
    let store = |e: super::super::state::StoreError| ApiError::store(&e);
    if !backend.store.move_upload(&upload.upload_id, "open", "completing", lease).await.map_err(store)? {
        // A complete asked again (its answer was lost, or it took longer than the client
        // waited) gets the same answer: done, or not yet.
        let now = backend.store.multipart_upload(&upload.upload_id).await.map_err(store)?;
        return match now.as_ref().map_or("", |u| u.state.as_str()) {
            "done" => Ok(completed(&upload, None)),
            "completing" => {
                Err(ApiError::unavailable("this upload is being completed: ask again in a moment"))
            }
            _ => Err(not_open()),
        };
    }
    let crc64 = match join(&client, &upload).await {
        Ok(crc64) => crc64,
        Err(e) => {
            // Not joined: the upload stays open, to send what is missing or try again.
            backend.store.move_upload(&upload.upload_id, "completing", "open", lease).await.map_err(store)?;
            return Err(e);
        }
    };
    backend.store.move_upload(&upload.upload_id, "completing", "done", lease).await.map_err(store)?;
    backend.store.upload_completed(&upload.file_id, upload.link_ends_at).await.map_err(store)?;
    metrics::counter!("wxcs_multipart_uploads_total", "outcome" => "completed").increment(1);
    let (checker, checking_client, file_id) = (backend.clone(), client.clone(), upload.file_id.clone());
    // Behind the answer: if this is cut short, its lease expires and a sweep makes it.
    tokio::spawn(async move {
        if let Err(e) = checker.settle_one(&checking_client, &file_id).await {
            tracing::info!(code = %e.code, "a completed upload's check is left to a sweep: {}", e.message);
        }
    });
    Ok(completed(&upload, crc64))
}

/// The answer to a completed upload (`crc64`: the object's, when COS gave it).
fn completed(upload: &MultipartUpload, crc64: Option<String>) -> Json<Value> {
    Json(json!({
        "fileId": upload.file_id,
        "key": upload.key,
        "size": upload.size,
        "crc64": crc64,
        "check": "pending",
    }))
}

/// Completes `upload` at COS with the parts COS holds, once they are exactly the plan's:
/// the object's CRC-64, when COS sent it.
async fn join(client: &StorageClient, upload: &MultipartUpload) -> Result<Option<String>, ApiError> {
    let parts = match client.list_parts((&upload.url, &upload.key), &upload.upload_id).await {
        Ok(parts) => parts,
        // COS no longer knows the upload: an earlier complete that this backend gave up
        // waiting for may have joined it. Then the object is there, at the declared size.
        Err(e) if e.cos_code.as_deref() == Some("NoSuchUpload") => {
            let stat = client.stat(std::slice::from_ref(&upload.file_id)).await?.pop();
            return match stat {
                Some(stat) if stat.exists && stat.size == Some(upload.size as u64) => Ok(stat.crc64),
                _ => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let count = part_count(upload) as u32;
    let missing: Vec<String> = (1..=count)
        .filter(|n| !parts.iter().any(|p| p.number == *n && Some(p.size) == part_length(upload, *n)))
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() {
        let shown = missing.iter().take(20).cloned().collect::<Vec<_>>().join(", ");
        return Err(ApiError::invalid_argument(format!(
            "{} of {count} parts are missing ({shown}{}): send them, then complete",
            missing.len(),
            if missing.len() > 20 { ", …" } else { "" }
        )));
    }
    let chosen: Vec<_> = parts.into_iter().filter(|p| p.number <= count).collect();
    Ok(client.complete_multipart((&upload.url, &upload.key), &upload.upload_id, &chosen).await?)
}

pub(crate) async fn abort(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<UploadRef>,
) -> Result<Json<Value>, ApiError> {
    let upload = backend.own_upload(&caller, &request.upload_id).await?;
    let moved = backend.store.move_upload(&upload.upload_id, "open", "aborting", backend.check_lease).await;
    if !moved.map_err(|e| ApiError::store(&e))? {
        return Err(not_open());
    }
    backend.abort_claimed(&client, &upload).await;
    Ok(Json(json!({ "uploadId": upload.upload_id, "aborted": true })))
}
