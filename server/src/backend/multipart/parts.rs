//! The parts of an upload: `POST {prefix}/multipart/part {uploadId, partNumber}` signs the
//! one request a part may be, built here from the record (`PUT` of that part of that
//! upload's key, its length fixed), and `POST {prefix}/multipart/parts {uploadId}` answers
//! which parts COS already holds (a client resuming after a reload sends only the others).

use axum::{extract::State, Json};
use serde_json::{json, Value};

use super::{part_count, part_length, UploadRef};
use crate::backend::{ApiError, AppJson, Caller, Shared, Upstream};

pub(crate) async fn sign_part(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<UploadRef>,
) -> Result<Json<Value>, ApiError> {
    let upload = backend.own_upload(&caller, &request.upload_id).await?;
    let number = request.part_number.unwrap_or(0);
    let Some(length) = part_length(&upload, number) else {
        let count = part_count(&upload);
        return Err(ApiError::invalid_argument(format!("partNumber must be 1 to {count} for this upload")));
    };
    // Also the proof that it is still open: a completed or aborted upload signs nothing.
    if !backend.store.touch_upload(&upload.upload_id).await.map_err(|e| ApiError::store(&e))? {
        return Err(not_open());
    }
    backend.sweep_uploads(&client);
    let signed = client.sign_part((&upload.url, &upload.key), &upload.upload_id, number, length).await?;
    metrics::counter!("wxcs_multipart_parts_signed_total").increment(1);
    Ok(Json(json!({
        "url": signed.url,
        "method": "PUT",
        "headers": {
            "Authorization": signed.authorization,
            "x-cos-security-token": signed.security_token,
        },
        "partNumber": number,
        "length": length,
    })))
}

pub(crate) async fn list_parts(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<UploadRef>,
) -> Result<Json<Value>, ApiError> {
    let upload = backend.own_upload(&caller, &request.upload_id).await?;
    if upload.state != "open" {
        return Err(not_open());
    }
    let parts = client.list_parts((&upload.url, &upload.key), &upload.upload_id).await?;
    let parts: Vec<Value> =
        parts.iter().map(|p| json!({ "partNumber": p.number, "size": p.size, "etag": p.etag })).collect();
    Ok(Json(json!({
        "uploadId": upload.upload_id,
        "key": upload.key,
        "size": upload.size,
        "partSize": upload.part_size,
        "parts": parts,
    })))
}

/// The answer for an upload that was completed or aborted.
pub(super) fn not_open() -> ApiError {
    ApiError::new(
        wx_cloud_storage_core::ErrorCode::NotFound,
        "this multipart upload is finished (completed, aborted, or aborted after sitting idle): start a new one",
    )
}
