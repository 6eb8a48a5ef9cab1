//! `POST {prefix}/verify {"file_id", "crc64"?}`: the library's report of an upload it made.
//!
//! The report brings the object's check forward (`checks`): it is answered at once, with
//! `{file_id, check: "pending"}` (a check is owed and now runs behind the answer) or
//! `{file_id, check: "none"}`, and the check's verdict reaches whoever asks for the file
//! next (a download link, `exists`, `list`). A report never ends the check's watch: while
//! the link lives the object is checked again. With `crc64` (the integrity module's
//! `verify: 'server'`) the answer also carries `integrity`, the stored object's CRC-64
//! against the client's, which needs one read of the storage before answering.

use axum::{extract::State, Json};
use serde_json::{json, Value};
use wx_cloud_storage_core::ErrorCode;

use super::FileRequest;
use crate::{
    backend::{ApiError, AppJson, Caller, Op, Shared, Upstream},
    client::StorageClient,
};

pub(crate) async fn verify(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(FileRequest { file_id, crc64 }): AppJson<FileRequest>,
) -> Result<Json<Value>, ApiError> {
    // A report is the uploader's: whoever may upload the key.
    backend.check_file_id(&caller, Op::Upload, &file_id)?;
    if let Some(crc64) = &crc64 {
        check_crc64(crc64)?;
    }
    let owed = backend.store.has_check(&file_id).await.map_err(|e| ApiError::store(&e))?;
    if owed {
        backend.store.due_now(&file_id).await.map_err(|e| ApiError::store(&e))?;
        let (backend, client, file_id) = (backend.clone(), client.clone(), file_id.clone());
        // Behind the answer: if this is cut short, its lease expires and a sweep makes it.
        tokio::spawn(async move {
            if let Err(e) = backend.settle_one(&client, &file_id).await {
                tracing::info!(code = %e.code, "a reported upload's check is left to a sweep: {}", e.message);
            }
        });
    }
    let mut answer = json!({ "file_id": file_id, "check": if owed { "pending" } else { "none" } });
    if let Some(crc64) = &crc64 {
        answer["integrity"] = verdict(&client, &file_id, crc64).await?;
    }
    Ok(Json(answer))
}

/// A CRC-64 as COS writes it: a decimal u64.
fn check_crc64(crc64: &str) -> Result<(), ApiError> {
    if crc64.parse::<u64>().is_ok() && crc64.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(ApiError::invalid_argument("crc64 must be the CRC-64/XZ of the file as a decimal string"))
}

/// The stored object's CRC-64 against `crc64`: `{verdict: "verified" | "mismatch", crc64}`
/// (the storage's), or `{verdict: "unverifiable", reason: "header-absent"}` when the
/// storage sent no CRC-64 header. `NOT_FOUND` when the object is gone.
async fn verdict(client: &StorageClient, file_id: &str, crc64: &str) -> Result<Value, ApiError> {
    let stat = client.stat(&[file_id.to_owned()]).await?.pop().expect("one stat per file ID");
    if !stat.exists {
        return Err(ApiError::new(ErrorCode::NotFound, format!("{file_id} does not exist")));
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
