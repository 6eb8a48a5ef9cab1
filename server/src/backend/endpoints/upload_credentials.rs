//! `POST {prefix}/upload-credentials {"path", "size", "contentType"}`: an upload link for
//! the key the caller's path resolves to, checked against the policy first.

use axum::{extract::State, Json};
use serde_json::{json, Value};
use wx_cloud_storage_core::protocol::{FileId, UploadCredentialsRequest};

use crate::backend::{ApiError, AppJson, Caller, Shared, Upstream};

pub(crate) async fn upload_credentials(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<UploadCredentialsRequest>,
) -> Result<Json<Value>, ApiError> {
    let key = backend.policy.resolve_upload_key(&caller.uid, &request.path)?;
    backend.policy.check_upload(request.size, request.content_type.as_deref())?;
    let credentials = client.upload_link(&key).await?;
    if let Some(id) = FileId::parse(&credentials.file_id) {
        backend.learn_bucket(id.bucket);
    }
    let mut answer = serde_json::to_value(&credentials).expect("credentials serialise");
    // Always say which key the link is for, so the page sends exactly that.
    answer["key"] = json!(key);
    if backend.policy.checks_uploads() {
        backend.pending.add(&credentials.file_id, &caller.uid, backend.verify_due())?;
        // Tells the library to report the upload, so the object is checked at once.
        answer["verify"] = json!(true);
    }
    Ok(Json(answer))
}
