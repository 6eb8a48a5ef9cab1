//! `POST {prefix}/download-urls {"file_ids", "max_age"}` and `POST {prefix}/delete
//! {"file_ids"}`: the file IDs the rules let the caller read (or delete) forwarded in one
//! WeChat call, one answer item per requested ID in input order. Any other ID is refused as
//! its own item (with its `code`) and never reaches WeChat; one such ID never fails the
//! batch.

use std::future::Future;

use axum::{extract::State, Json};
use serde_json::{json, Value};
use wx_cloud_storage_core::{
    batch::MAX_BATCH,
    protocol::{item_error_code, DeleteRequest, DownloadUrlsRequest, STATUS_NO_PERMISSION},
    ErrorCode,
};

use crate::{
    backend::{ApiError, AppJson, Backend, Caller, Op, Refusal, Shared, Upstream},
    client::ClientError,
};

pub(crate) async fn download_urls(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<DownloadUrlsRequest>,
) -> Result<Json<Value>, ApiError> {
    let max_age = request.max_age.unwrap_or(3600).clamp(1, backend.policy.max_link_age);
    let file_list = forward_allowed(&backend, &caller, Op::Read, &request.file_ids, |ids| async move {
        client.temp_urls(&ids, max_age).await
    })
    .await?;
    Ok(Json(json!({ "file_list": file_list })))
}

pub(crate) async fn delete(
    State(backend): State<Shared>,
    caller: Caller,
    Upstream(client): Upstream,
    AppJson(request): AppJson<DeleteRequest>,
) -> Result<Json<Value>, ApiError> {
    let delete_list = forward_allowed(&backend, &caller, Op::Delete, &request.file_ids, |ids| async move {
        client.delete(&ids).await
    })
    .await?;
    Ok(Json(json!({ "delete_list": delete_list })))
}

/// Forwards the file IDs the caller may `op` with `forward` and returns one item per
/// requested ID, in input order: the forwarded answers, and a refused item for each other.
async fn forward_allowed<T, F, Fut>(
    backend: &Backend,
    caller: &Caller,
    op: Op,
    file_ids: &[String],
    forward: F,
) -> Result<Vec<Value>, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ClientError>>,
{
    if file_ids.is_empty() {
        return Err(ApiError::invalid_argument("file_ids is empty"));
    }
    if file_ids.len() > MAX_BATCH {
        return Err(ApiError::invalid_argument(format!(
            "at most {MAX_BATCH} file_ids per request; the library splits larger lists"
        )));
    }
    let checked: Vec<Result<(), Refusal>> =
        file_ids.iter().map(|id| backend.check_file_id(caller, op, id).map(|_| ())).collect();
    let allowed: Vec<String> =
        file_ids.iter().zip(&checked).filter(|(_, check)| check.is_ok()).map(|(id, _)| id.clone()).collect();
    let asked = allowed.len();
    let answers = if allowed.is_empty() { Vec::new() } else { forward(allowed).await? };
    if answers.len() != asked {
        return Err(ApiError::new(ErrorCode::WechatApi, "WeChat answered without one item per file ID"));
    }
    let mut answers = answers.into_iter();
    Ok(file_ids
        .iter()
        .zip(checked)
        .map(|(id, check)| match check {
            Ok(()) => answers.next().map_or(Value::Null, |answer| without_internals(json!(answer))),
            Err(refusal) => refused_item(id, &refusal),
        })
        .collect())
}

/// A WeChat list item as the page sees it: a failed item carries the library's `code`,
/// and its `errmsg` is that code; WeChat's own errmsg goes to the server's log only.
fn without_internals(mut item: Value) -> Value {
    let status = item["status"].as_i64().unwrap_or(0);
    if status != 0 {
        let errmsg = item["errmsg"].as_str().unwrap_or_default();
        let code = item_error_code(status, errmsg);
        tracing::info!(status, "a list item failed: {}", errmsg.escape_debug());
        item["code"] = json!(code.as_str());
        item["errmsg"] = json!(code.as_str());
    }
    item
}

fn refused_item(file_id: &str, refusal: &Refusal) -> Value {
    json!({
        "fileid": file_id,
        "status": STATUS_NO_PERMISSION,
        "errmsg": format!("{}: {}", refusal.code, refusal.message),
        "code": refusal.code.as_str(),
    })
}
