//! `POST {prefix}/upload-credentials {"path", "size", "contentType"}`: an upload link for
//! the key the caller's path names (the path inside a folder's space, or in the caller's
//! home folder), once the folder's rules let the caller upload there and the declared size
//! and type fit its limits. Every link is recorded, with the check its object owes.

use axum::{extract::State, Json};
use serde_json::{json, Value};
use wx_cloud_storage_core::{
    protocol::{FileId, UploadCredentialsRequest},
    ErrorCode,
};

use crate::backend::{checks::link_end, state::now_ms, ApiError, AppJson, Caller, Op, Shared, Upstream};

pub(crate) async fn upload_credentials(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<UploadCredentialsRequest>,
) -> Result<Json<Value>, ApiError> {
    let rules = &backend.policy.rules;
    let key = rules.resolve(&request.path, caller.identity())?;
    let folder = rules.require(Op::Upload, &key, caller.identity())?;
    folder.limits.check_upload(request.size, request.content_type.as_deref())?;
    backend.folder_rate(folder, &caller).await?;
    let credentials = client.upload_link(&key).await?;
    match FileId::parse(&credentials.file_id) {
        Some(id) if id.key == key => backend.learn_bucket(id.bucket),
        _ => {
            return Err(ApiError::new(
                ErrorCode::WechatApi,
                "tcb/uploadfile answered a file_id for another key",
            ))
        }
    }
    let declared = (request.size, request.content_type.as_deref());
    let reported = folder.limits.checks_uploads();
    let link_ends_at = link_end(&credentials.authorization, now_ms());
    backend.record_link(&caller, &key, &credentials.file_id, link_ends_at, declared, reported).await?;
    let mut answer = serde_json::to_value(&credentials).expect("credentials serialise");
    // Always say which key the link is for, so the page sends exactly that.
    answer["key"] = json!(key);
    if reported {
        // Tells the library to report the upload, so the object is checked at once.
        answer["verify"] = json!(true);
    }
    Ok(Json(answer))
}
