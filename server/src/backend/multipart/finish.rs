//! The end of an upload, done by this backend itself with COS's own list of its parts:
//! `POST {prefix}/multipart/complete {uploadId}` joins them, once every part of the plan is
//! there at its length, and brings the object's check forward (it runs behind the answer,
//! as after a reported upload); `POST {prefix}/multipart/abort {uploadId}` drops them.
//! Either moves the upload out of `open` first, so of two at once exactly one proceeds.

use axum::{extract::State, Json};
use serde_json::{json, Value};

use super::{part_length, parts::not_open, UploadRef};
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
        return Err(not_open());
    }
    if let Err(e) = join(&client, &upload).await {
        // Not joined: the upload stays open, to send what is missing or try again.
        backend.store.move_upload(&upload.upload_id, "completing", "open", lease).await.map_err(store)?;
        return Err(e);
    }
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
    Ok(Json(json!({ "fileId": upload.file_id, "key": upload.key, "size": upload.size, "check": "pending" })))
}

/// Completes `upload` at COS with the parts COS holds, once they are exactly the plan's.
async fn join(client: &StorageClient, upload: &MultipartUpload) -> Result<(), ApiError> {
    let parts = client.list_parts((&upload.url, &upload.key), &upload.upload_id).await?;
    let count = (upload.size as u64).div_ceil(upload.part_size as u64).max(1) as u32;
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
    client.complete_multipart((&upload.url, &upload.key), &upload.upload_id, &chosen).await?;
    Ok(())
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
